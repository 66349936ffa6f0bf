import { Counter, type Registry } from 'prom-client';
import type { Logger } from '@aoinb/logging';
import { withDeadline } from './deadline.ts';

export interface CollectGuard {
  /**
   * Runs one collector's work under a deadline. A failure is counted and
   * logged, never thrown: one unreachable source must not fail the whole scrape
   * (its series keep their last values, or stay absent).
   */
  run(collector: string, work: () => Promise<void>): Promise<void>;
}

export interface CollectGuardOptions {
  registry: Registry;
  /** Metric name prefix, e.g. `aoinb` or `aoinb_worker`. */
  prefix: string;
  logger: Logger;
  /** Deadline per collector run; default 2 s (Prometheus' default scrape timeout is 10 s). */
  timeoutMs?: number;
}

export function createCollectGuard(options: CollectGuardOptions): CollectGuard {
  const errors = new Counter({
    name: `${options.prefix}_metrics_collect_errors_total`,
    help: 'Scrape-time collectors that failed or timed out (their series kept their previous values)',
    labelNames: ['collector'],
    registers: [options.registry],
  });
  const timeoutMs = options.timeoutMs ?? 2000;
  // While a source is down every scrape fails the same way: one log line a minute per collector.
  const lastLogged = new Map<string, number>();
  return {
    async run(collector, work) {
      try {
        await withDeadline(work(), timeoutMs, `metrics collector ${collector}`);
      } catch (error) {
        errors.inc({ collector });
        const now = Date.now();
        if (now - (lastLogged.get(collector) ?? 0) < 60_000) return;
        lastLogged.set(collector, now);
        options.logger.warn({ collector, err: (error as Error).message }, 'metrics collector failed');
      }
    },
  };
}

/**
 * Shares one refresh between the collectors of a scrape: prom-client starts
 * every metric's collect at once (in one tick), and several gauges read the
 * same source (the builder list, the host's statfs). Calls made while a
 * refresh is in flight get its promise; the next scrape refreshes again.
 */
export function sharedRefresh<T>(refresh: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    if (!inFlight) {
      const current = refresh();
      inFlight = current;
      const clear = (): void => {
        if (inFlight === current) inFlight = undefined;
      };
      current.then(clear, clear);
    }
    return inFlight;
  };
}
