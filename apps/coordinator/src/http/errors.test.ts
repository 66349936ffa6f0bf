import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { AoinbError } from '@aoinb/errors';
import { registerErrorHandling, withoutHostPaths } from './errors.ts';

describe('error responses', () => {
  it('hide host paths and keep URLs, field names and single words', () => {
    expect(withoutHostPaths("ENOENT: no such file or directory, open '/var/cache/aoinb/farm/tmp/upload-1'")).toBe(
      "ENOENT: no such file or directory, open '<path>'",
    );
    expect(withoutHostPaths('body/archs must be array')).toBe('body/archs must be array');
    expect(withoutHostPaths('see http://127.0.0.1:8460/task/1/status')).toBe('see http://127.0.0.1:8460/task/1/status');
    expect(withoutHostPaths('rename /tmp/a.tar /srv/x/y failed')).toBe('rename <path> <path> failed');
  });

  it('never send a host path in a 5xx, by inject()', async () => {
    const app = Fastify();
    registerErrorHandling(app);
    app.get('/crash', async () => {
      throw new Error("EACCES: permission denied, mkdir '/var/cache/aoinb/farm/bundles/7'");
    });
    app.get('/down', async () => {
      throw new AoinbError('UNAVAILABLE', 'redis at /run/redis/redis.sock is down');
    });
    const crash = await app.inject({ url: '/crash' });
    expect(crash.statusCode).toBe(500);
    expect(crash.json().error.message).toMatch(/^internal error \(request [\w-]+; see the coordinator log\)$/);
    const down = await app.inject({ url: '/down' });
    // Redis away is one answer whatever the cause said (resilience/redis-fail-fast.ts): when to come back.
    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toMatch(/^\d+$/);
    expect(down.json()).toEqual({ error: { code: 'UNAVAILABLE', message: 'Redis is unreachable; retry later' } });
    await app.close();
  });
});
