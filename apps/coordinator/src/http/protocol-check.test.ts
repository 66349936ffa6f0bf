import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, protocolHeader } from '@aoinb/farm-contract';
import { registerAuth } from './auth.ts';
import { registerErrorHandling } from './errors.ts';
import { registerProtocolCheck } from './protocol-check.ts';

const tokens = { worker: 'w-token-0123456789', maintainer: 'm-token-0123456789' };

describe('protocol version check', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify();
    registerErrorHandling(app);
    registerAuth(app, [
      { name: 'w', role: 'worker', token: tokens.worker },
      { name: 'm', role: 'maintainer', token: tokens.maintainer },
    ]);
    registerProtocolCheck(app);
    app.put('/worker-route', { config: { access: ['worker'] } }, async () => ({ ok: true }));
    app.get('/status', async () => ({ ok: true }));
    app.get('/apt', { config: { access: 'public' } }, async () => ({ ok: true }));
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });

  const call = (method: 'GET' | 'PUT', url: string, token: string, protocol?: string) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...(protocol === undefined ? {} : { [protocolHeader]: protocol }) },
    });

  it('lets a worker of this version through', async () => {
    expect((await call('PUT', '/worker-route', tokens.worker, String(PROTOCOL_VERSION))).statusCode).toBe(200);
  });

  it('refuses another version with 426 PROTOCOL_MISMATCH naming both versions', async () => {
    const res = await call('PUT', '/worker-route', tokens.worker, String(PROTOCOL_VERSION + 1));
    expect(res.statusCode).toBe(426);
    expect(res.headers.upgrade).toBe(`aoinb-protocol/${PROTOCOL_VERSION}`);
    expect(res.json()).toEqual({
      error: {
        code: 'PROTOCOL_MISMATCH',
        message: [
          `the caller speaks protocol version ${PROTOCOL_VERSION + 1};`,
          `this coordinator speaks protocol version ${PROTOCOL_VERSION}: run the same aoinb release on both`,
        ].join(' '),
      },
    });
    // Any caller that names a version is held to it, not only workers.
    expect((await call('GET', '/status', tokens.maintainer, '0')).statusCode).toBe(426);
  });

  it('refuses a worker that sends no version, or garbage, on a worker route', async () => {
    const none = await call('PUT', '/worker-route', tokens.worker);
    expect(none.statusCode).toBe(426);
    expect(none.json().error.message).toContain(`sent no ${protocolHeader} header`);
    const garbage = await call('PUT', '/worker-route', tokens.worker, 'v1');
    expect(garbage.statusCode).toBe(426);
    expect(garbage.json().error.message).toContain('"v1", not a version number');
  });

  it("leaves people's clients without the header, and public routes, alone", async () => {
    expect((await call('GET', '/status', tokens.maintainer)).statusCode).toBe(200);
    expect((await call('GET', '/status', tokens.worker)).statusCode).toBe(200);
    expect((await app.inject({ url: '/apt', headers: { [protocolHeader]: '0' } })).statusCode).toBe(200);
  });
});
