import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface FileServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The regular file a request path names inside `root`, or undefined (missing, a folder, or outside root). */
async function resolveInside(root: string, urlPath: string): Promise<{ file: string; size: number } | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const candidate = path.resolve(root, `.${path.posix.normalize(`/${decoded}`)}`);
  try {
    const real = await realpath(candidate);
    if (real !== root && !real.startsWith(`${root}${path.sep}`)) return undefined;
    const info = await stat(real);
    return info.isFile() ? { file: real, size: info.size } : undefined;
  } catch {
    return undefined;
  }
}

function reply(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(`${text}\n`);
}

async function handle(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    reply(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
    return;
  }
  const urlPath = new URL(req.url ?? '/', 'http://localhost').pathname;
  const found = await resolveInside(root, urlPath);
  if (!found) {
    reply(res, 404, 'not found');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(found.size) });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(found.file)
    .on('error', () => res.destroy())
    .pipe(res);
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => resolve(server.address() as AddressInfo));
  });
}

/**
 * Serves the files of `dir` over plain HTTP on loopback (GET and HEAD only; 404
 * for anything missing, a folder, or outside `dir`, symlinks included). Port 0
 * (the default) lets the kernel pick a free one.
 */
export async function serveFolder(options: { dir: string; port?: number; host?: string }): Promise<FileServer> {
  const root = await realpath(options.dir);
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    handle(root, req, res).catch(() => {
      if (!res.headersSent) reply(res, 500, 'internal error');
      else res.destroy();
    });
  });
  const address = await listen(server, host, options.port ?? 0);
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
