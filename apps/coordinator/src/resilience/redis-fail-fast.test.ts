import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { AoinbError } from '@aoinb/errors';
import { freePort } from '@aoinb/testkit';
import { failFastRedisOptions, isRedisUnavailable } from './redis-fail-fast.ts';

describe('the fail-fast Redis client', () => {
  it('fails a command at once while nothing listens, with an error the API answers as 503', async () => {
    const port = await freePort();
    const redis = new Redis(failFastRedisOptions({ host: '127.0.0.1', port, retryStrategy: () => 200 }));
    redis.on('error', () => undefined);
    try {
      const error = await redis.get('x').catch((e: unknown) => e);
      expect(isRedisUnavailable(error)).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  it('does not take a bad command or one of our own errors for an outage', () => {
    expect(isRedisUnavailable(new Error('ERR unknown command'))).toBe(false);
    expect(isRedisUnavailable(new AoinbError('CONFLICT', 'Connection is closed'))).toBe(false);
    expect(isRedisUnavailable(new Error('Command timed out'))).toBe(true);
  });
});
