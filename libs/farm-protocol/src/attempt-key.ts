import { createHash, randomBytes } from 'node:crypto';

/**
 * A secret bound to one build attempt. The worker makes it when it claims the
 * build and stores only its hash in the build record (in the same guarded
 * claim); uploads and the result must carry it. The hash binds the task, arch
 * and run, and a new claim (a new attempt) replaces it, so a leaked worker
 * token, an old attempt's key or an earlier run's key cannot forge another build.
 */
export const attemptKeyHeader = 'x-aoinb-attempt-key';

/** What a key is bound to besides the claim that stored it. */
export interface AttemptBinding {
  taskId: string;
  arch: string;
  run: number;
}

export function attemptKeyHash(key: string, binding: AttemptBinding): string {
  return createHash('sha256')
    .update(`aoinb-attempt:${binding.taskId}:${binding.arch}:r${binding.run}:${key}`)
    .digest('hex');
}

export function newAttemptKey(binding: AttemptBinding): { key: string; hash: string } {
  const key = randomBytes(32).toString('base64url');
  return { key, hash: attemptKeyHash(key, binding) };
}
