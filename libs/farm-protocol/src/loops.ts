import type { Logger } from '@aoinb/logging';

/** Exponential backoff with jitter: 250 ms, 500 ms, 1 s ... capped at `maxMs`. */
export function backoffDelay(failures: number, maxMs = 30_000): number {
  const base = Math.min(maxMs, 250 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

/** Resolves after `ms`, or early (without throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs a long-lived loop body until the signal aborts. When the body throws it
 * is restarted after a backoff, and the reason is logged; a body that returns
 * normally is run again after `intervalMs`.
 */
export async function runWithRestart(
  name: string,
  logger: Logger,
  signal: AbortSignal,
  body: (signal: AbortSignal) => Promise<void>,
  intervalMs = 0,
): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    try {
      await body(signal);
      failures = 0;
      if (intervalMs > 0) await sleep(intervalMs, signal);
    } catch (error) {
      if (signal.aborted) break;
      failures += 1;
      const delay = backoffDelay(failures);
      logger.warn({ loop: name, err: (error as Error).message, retryInMs: delay }, `${name} failed; restarting`);
      await sleep(delay, signal);
    }
  }
}
