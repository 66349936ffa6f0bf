import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { registerRequestAbort } from './request-abort.ts';

describe('requests whose client has gone', () => {
  it('are not run: a client that gives up while the request waits (behind a slow Redis) changes nothing', async () => {
    const app = Fastify();
    let ran = 0;
    let arrived = 0;
    let waited = 0;
    // Stands for what runs before the handler and may be slow: auth, the identity check, a body upload.
    app.addHook('onRequest', async () => {
      arrived++;
      await new Promise((r) => setTimeout(r, 400));
      waited++;
    });
    registerRequestAbort(app);
    app.post('/task', async () => {
      ran++;
      return { id: String(ran) };
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/task`;
    try {
      // The client hangs up once the server has the request, while it still waits.
      const gaveUp = request({ host: '127.0.0.1', port, path: '/task', method: 'POST' });
      gaveUp.on('error', () => undefined);
      gaveUp.end();
      await expect.poll(() => arrived, { timeout: 10_000 }).toBe(1);
      gaveUp.destroy();
      await expect.poll(() => waited, { timeout: 10_000 }).toBe(1);
      await new Promise((r) => setTimeout(r, 200));
      expect(ran).toBe(0);
      // A client that waits gets its answer.
      const answered = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(10_000) });
      expect(answered.status).toBe(200);
      expect(ran).toBe(1);
    } finally {
      await app.close();
    }
  });
});
