import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { registerRequestAbort } from './request-abort.ts';

describe('requests whose client has gone', () => {
  it('are not run: a client that gives up while the request waits (behind a slow Redis) changes nothing', async () => {
    let skipped = 0;
    const log = { write: (line: string) => void (line.includes('skipped') && skipped++) };
    const app = Fastify({ logger: { level: 'info', stream: log } });
    let ran = 0;
    let arrived = 0;
    let waited = 0;
    // Stands for what runs before the handler and may be slow: auth, the identity check, a body upload.
    // The first request's hook lasts until its client has gone (the server saw the socket close).
    app.addHook('onRequest', async (request) => {
      arrived++;
      const socket = request.raw.socket;
      if (arrived === 1 && !socket.destroyed) await new Promise((r) => socket.once('close', r));
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
      await expect.poll(() => arrived, { timeout: 120_000 }).toBe(1);
      gaveUp.destroy();
      await expect.poll(() => waited, { timeout: 120_000 }).toBe(1);
      // Then either the handler runs or the request is skipped (and says so): wait for one, not for a time.
      await expect.poll(() => ran + skipped, { timeout: 120_000 }).toBe(1);
      expect(ran).toBe(0);
      expect(skipped).toBe(1);
      // A client that waits gets its answer.
      const answered = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(120_000) });
      expect(answered.status).toBe(200);
      expect(ran).toBe(1);
    } finally {
      await app.close();
    }
  });
});
