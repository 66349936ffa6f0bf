import type { Logger } from '@aoinb/logging';

/**
 * Work a step starts and does not wait for (a finished build's log archive). Tracked, so that a stop waits for
 * it before the coordinator closes its Redis connection, instead of cutting it short: an archive cut short is
 * redone by the next start's reconcile, but meanwhile the log lives only in Redis and every routine restart
 * logged a failure. The wait is bounded; what is still running then fails as before and is redone the same way.
 */
export class BackgroundWork {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  /** Runs `work` without waiting for it; a failure is logged with `fields` under `failure`. */
  start(failure: string, fields: Record<string, unknown>, work: () => Promise<void>): void {
    const done: Promise<void> = work()
      .catch((error: Error) => this.logger.warn({ ...fields, err: error.message }, failure))
      .finally(() => this.running.delete(done));
    this.running.add(done);
  }

  /** How many are running now. */
  get size(): number {
    return this.running.size;
  }

  /** Waits for the running work, and what it starts meanwhile, for at most `timeoutMs`; true when all ended. */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const all = (async () => {
      while (this.running.size > 0) await Promise.all(this.running);
      return true as const;
    })();
    try {
      const ended = await Promise.race([all, deadline]);
      if (!ended) this.logger.warn({ running: this.running.size }, 'stopping before background work ended');
      return ended;
    } finally {
      clearTimeout(timer);
    }
  }
}
