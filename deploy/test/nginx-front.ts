/**
 * Debian's nginx running deploy/nginx/aoinb-coordinators.conf for tests: the tracked example rendered
 * with the test's ports and certificate paths (every substitution must match, so an edit of the example
 * that the test no longer covers fails here), inside a minimal main config of its own.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { deployDir } from './deploy-paths.ts';

export const nginxExample = path.join(deployDir, 'nginx/aoinb-coordinators.conf');

export interface NginxFront {
  port: number;
  /** The certificate nginx serves (self-signed, for 127.0.0.1): what clients must trust. */
  ca: string;
  process: ResultPromise;
  output(): string;
  stop(): Promise<void>;
}

/** The example with its placeholders replaced; throws naming a placeholder the example no longer has. */
export function renderExample(text: string, backends: [number, number], port: number, dir: string): string {
  const substitutions: Array<[string, string]> = [
    ['server coordinator-1.example.org:8460', `server 127.0.0.1:${backends[0]}`],
    ['server coordinator-2.example.org:8460', `server 127.0.0.1:${backends[1]}`],
    ['listen 443 ssl', `listen 127.0.0.1:${port} ssl`],
    ['/etc/ssl/farm.example.org/fullchain.pem', path.join(dir, 'cert.pem')],
    ['/etc/ssl/farm.example.org/privkey.pem', path.join(dir, 'key.pem')],
  ];
  return substitutions.reduce((out, [from, to]) => {
    if (!out.includes(from)) throw new Error(`${nginxExample}: no "${from}" to substitute`);
    return out.replaceAll(from, to);
  }, text);
}

/** A main nginx.conf around the example: everything nginx writes stays in `dir`. */
function mainConfig(dir: string): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `  ${kind}_temp_path ${path.join(dir, 'temp', kind)};`)
    .join('\n');
  return [
    'worker_processes 1;',
    `pid ${path.join(dir, 'nginx.pid')};`,
    `error_log ${path.join(dir, 'error.log')} info;`,
    'events { worker_connections 256; }',
    'http {',
    `  access_log ${path.join(dir, 'access.log')};`,
    temp,
    `  include ${path.join(dir, 'aoinb-coordinators.conf')};`,
    '}',
    '',
  ].join('\n');
}

/** Renders the example into `dir`, checks it with `nginx -t` and starts nginx in the foreground. */
export async function startNginxFront(dir: string, backends: [number, number], port: number): Promise<NginxFront> {
  await mkdir(path.join(dir, 'temp'), { recursive: true });
  // nginx's workers run as nobody under a root master: they must reach the temp folders (so must dir's parents).
  await chmod(dir, 0o755);
  await execa('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'],
    ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    ...['-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
  ]);
  const example = renderExample(await readFile(nginxExample, 'utf8'), backends, port, dir);
  await writeFile(path.join(dir, 'aoinb-coordinators.conf'), example);
  await writeFile(path.join(dir, 'nginx.conf'), mainConfig(dir));
  const args = ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')];
  const checked = await execa('nginx', ['-t', ...args], { reject: false, all: true });
  if (checked.exitCode !== 0) throw new Error(`nginx -t refused the example:\n${checked.all}`);
  const child = execa('nginx', [...args, '-g', 'daemon off;'], { reject: false, all: true });
  let text = '';
  child.all?.on('data', (chunk: Buffer) => void (text += chunk.toString()));
  const ca = await readFile(path.join(dir, 'cert.pem'), 'utf8');
  const front: NginxFront = {
    port,
    ca,
    process: child,
    output: () => text,
    stop: async () => {
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await child;
      clearTimeout(timer);
    },
  };
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${text}`);
    if ((await request(front, 'GET', '/healthz').catch(() => undefined))?.status === 200) return front;
    await new Promise((r) => setTimeout(r, 50));
  }
  await front.stop();
  throw new Error(`nginx did not answer /healthz through the coordinators: ${text}`);
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One HTTPS request to the front, trusting its certificate only. */
export function request(
  front: NginxFront,
  method: string,
  route: string,
  options: { token?: string; body?: string | Buffer; type?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...(options.body !== undefined ? { 'content-type': options.type ?? 'application/json' } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port: front.port, path: route, method, headers, ca: front.ca, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Follows a build's SSE log through the front until `event: end`: each `data:` line with when it came. */
export function followLog(
  front: NginxFront,
  taskId: string,
  token: string,
): Promise<{ lines: Array<{ at: number; line: string }>; end: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const lines: Array<{ at: number; line: string }> = [];
    const options = { host: '127.0.0.1', port: front.port, ca: front.ca, agent: false };
    const req = https.get(
      {
        ...options,
        path: `/task/${taskId}/log`,
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      },
      (res) => {
        let buffered = '';
        let seen = '';
        let event = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          seen = (seen + chunk).slice(-2000);
          const parts = buffered.split('\n');
          buffered = parts.pop() ?? '';
          for (const raw of parts) {
            if (raw.startsWith('event: ')) event = raw.slice(7);
            else if (raw.startsWith('data: ') && event === 'end') {
              resolve({ lines, end: raw.slice(6), headers: res.headers });
              req.destroy();
            } else if (raw.startsWith('data: ')) lines.push({ at: Date.now(), line: raw.slice(6) });
            else if (raw === '') event = '';
          }
        });
        res.on('end', () =>
          reject(new Error(`log of task ${taskId}: HTTP ${res.statusCode}, ended without an end event: ${seen}`)),
        );
      },
    );
    req.on('error', reject);
  });
}
