import { AoinbError } from '@aoinb/errors';
import { sleep, type RedisClient, type FarmConnection } from '@aoinb/farm-protocol';

/** What a refused request's `Retry-After` says (seconds): about one reconnect of the client. */
export const redisRetryAfterSeconds = 5;

/** How long the coordinator's shared client waits for a command Redis does not answer. */
export const redisCommandTimeoutMs = 3000;

/**
 * Options of the coordinator's shared client (routes and background loops): a
 * command fails at once while the connection is down instead of waiting in an
 * unbounded queue (where an abandoned `POST /task` would still run when Redis
 * came back), and a command Redis does not answer fails after `commandTimeoutMs`.
 * BullMQ's connections and the blocking readers keep `maxRetriesPerRequest: null`
 * (redis-options.ts); only this client changes.
 */
export function failFastRedisOptions(
  connection: FarmConnection,
  commandTimeoutMs = redisCommandTimeoutMs,
): FarmConnection {
  return { ...connection, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: commandTimeoutMs };
}

const unavailablePatterns = [
  /enableOfflineQueue/i,
  /Command timed out/i,
  /Connection is closed/i,
  /Reached the max retries per request limit/i,
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE/,
  /LOADING Redis is loading/i,
];

/** Whether an error means Redis is not there right now (as opposed to a bad command or a bug). */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof AoinbError) return false;
  const name = error.name;
  if (name === 'MaxRetriesPerRequestError') return true;
  return unavailablePatterns.some((p) => p.test(error.message));
}

/** With no offline queue the first commands must wait for the connection; until `signal` or `timeoutMs`. */
export async function waitForRedisReady(redis: RedisClient, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (redis.status !== 'ready') {
    if (signal?.aborted || Date.now() > deadline)
      throw new AoinbError('UNAVAILABLE', `Redis did not answer within ${Math.round(timeoutMs / 1000)} s`);
    if (redis.status === 'wait') await redis.connect().catch(() => undefined);
    await sleep(50, signal);
  }
}
