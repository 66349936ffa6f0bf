import { randomBytes } from 'node:crypto';
import { AoinbError } from '@aoinb/errors';
import type { CoordinatorContext } from '../context.ts';
import { whileRenewing } from '../services/renewed-claim.ts';

/** Renewed while the upload runs: a killed coordinator's lock expires within this, and a retry goes through. */
const lockMs = 15_000;
const releaseScript = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
const renewScript =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";

/**
 * One bundle upload per task at a time, across coordinators (a Redis key with
 * NX and an expiry): the second upload gets a 409 instead of racing the first,
 * and no build queues while it is held (queue-builds-script.ts).
 */
export async function withBundleUploadLock<T>(
  ctx: CoordinatorContext,
  taskId: string,
  fn: () => Promise<T>,
): Promise<T> {
  const key = ctx.keys.bundleUploadLock(taskId);
  const owner = randomBytes(16).toString('hex');
  if ((await ctx.redis.set(key, owner, 'PX', lockMs, 'NX')) !== 'OK') {
    throw new AoinbError(
      'CONFLICT',
      `task ${taskId}: another bundle upload is in progress; try again when it has finished`,
    );
  }
  try {
    return await whileRenewing(lockMs, () => ctx.redis.eval(renewScript, 1, key, owner, String(lockMs)), fn);
  } finally {
    await ctx.redis.eval(releaseScript, 1, key, owner);
  }
}
