import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from './temp-dir.ts';
import { serveFolder, type FileServer } from './http-file-server.ts';

const base = useTempDir('aoinb-http-');
let server: FileServer;

/** A raw request, so paths such as `/../x` reach the server unnormalised. */
function raw(method: string, urlPath: string): Promise<{ status: number; body: string; length?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path: urlPath }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, length: res.headers['content-length'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  await mkdir(path.join(base.dir, 'root', 'sub'), { recursive: true });
  await writeFile(path.join(base.dir, 'root', 'a.txt'), 'hello\n');
  await writeFile(path.join(base.dir, 'root', 'sub', 'b c.txt'), 'spaced\n');
  await writeFile(path.join(base.dir, 'secret.txt'), 'secret\n');
  await symlink(path.join(base.dir, 'secret.txt'), path.join(base.dir, 'root', 'link-out'));
  server = await serveFolder({ dir: path.join(base.dir, 'root') });
});

afterAll(async () => {
  await server?.close();
});

describe('serveFolder', () => {
  it('serves files with GET and HEAD', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const res = await fetch(`${server.url}/a.txt`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello\n');
    expect(await raw('GET', '/sub/b%20c.txt')).toMatchObject({ status: 200, body: 'spaced\n' });
    expect(await raw('HEAD', '/a.txt')).toMatchObject({ status: 200, body: '', length: '6' });
  });

  it('answers 404 for missing files and folders, 405 for other methods', async () => {
    expect((await raw('GET', '/missing')).status).toBe(404);
    expect((await raw('GET', '/sub')).status).toBe(404);
    expect((await raw('GET', '/')).status).toBe(404);
    expect((await raw('PUT', '/a.txt')).status).toBe(405);
  });

  it('never serves anything outside the folder', async () => {
    for (const p of [
      '/../secret.txt',
      '/sub/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/link-out',
      '/a.txt%00',
    ]) {
      const res = await raw('GET', p);
      expect(res.status, p).toBe(404);
      expect(res.body).not.toContain('secret');
    }
  });
});
