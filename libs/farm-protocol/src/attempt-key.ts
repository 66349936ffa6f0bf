import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A secret bound to one build attempt. The worker makes it when it claims the
 * build and stores only its sha256 in the build record (in the same guarded
 * claim); uploads and the result must carry it. A new claim replaces it, so a
 * leaked worker token (or an old attempt's key) cannot forge another build.
 */
export const attemptKeyHeader = 'x-aoinb-attempt-key';

export function attemptKeyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function newAttemptKey(): { key: string; hash: string } {
  const key = randomBytes(32).toString('base64url');
  return { key, hash: attemptKeyHash(key) };
}

/** Constant-time check of a presented key against the stored hash. */
export function attemptKeyMatches(key: string | undefined, hash: string | undefined): boolean {
  if (!key || !hash || !/^[0-9a-f]{64}$/.test(hash)) return false;
  return timingSafeEqual(Buffer.from(attemptKeyHash(key), 'hex'), Buffer.from(hash, 'hex'));
}
