import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '@aoinb/logging';
import { LeaseStore, runWithRestart, sleep } from '@aoinb/farm-protocol';

/** This coordinator process among others on one Redis: what its leases are held under. */
export function coordinatorInstanceId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/**
 * Keeps trying to hold one named lease (LeaseStore) for this coordinator:
 * takes it when free, renews it every third of its TTL while held, and gives
 * it up at close. Work that must run on one coordinator at a time runs only
 * while `signal` is there, and stops when it aborts: the lease was lost (this
 * coordinator was too slow to renew, or Redis did not answer) or is closing.
 * A coordinator that dies stops renewing; its lease expires after the TTL and
 * another coordinator's keeper takes it.
 */
export class LeaseKeeper {
  private tenure: AbortController | undefined;
  private waiters: Array<() => void> = [];
  private readonly stop = new AbortController();
  private readonly loop: Promise<void>;

  constructor(
    private readonly store: LeaseStore,
    readonly name: string,
    readonly holder: string,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {
    this.loop = runWithRestart(`${name} lease`, logger, this.stop.signal, () => this.keep());
  }

  /** Aborts when this tenure ends; undefined while another coordinator holds the lease. */
  get signal(): AbortSignal | undefined {
    return this.tenure?.signal;
  }

  /** Resolves with the tenure's signal once the lease is held (undefined when `signal` aborts first). */
  async held(signal: AbortSignal): Promise<AbortSignal | undefined> {
    while (!this.tenure && !signal.aborted && !this.stop.signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
    return signal.aborted ? undefined : this.tenure?.signal;
  }

  private async keep(): Promise<void> {
    const every = Math.max(50, Math.floor(this.ttlMs / 3));
    while (!this.stop.signal.aborted) {
      let holds: boolean;
      try {
        holds = this.tenure
          ? await this.store.renew(this.name, this.holder, this.ttlMs)
          : await this.store.acquire(this.name, this.holder, this.ttlMs);
      } catch (error) {
        // Not knowing is not holding: the work stops until Redis answers again.
        this.end('Redis did not answer the renewal');
        throw error;
      }
      if (holds && !this.tenure && !this.stop.signal.aborted) this.begin();
      else if (!holds && this.tenure) this.end('another coordinator holds it now');
      await sleep(every, this.stop.signal);
    }
  }

  private begin(): void {
    this.tenure = new AbortController();
    this.logger.info({ lease: this.name, holder: this.holder }, 'took the lease: this coordinator runs the work now');
    for (const wake of this.waiters.splice(0)) wake();
  }

  private end(why: string): void {
    if (!this.tenure) return;
    this.tenure.abort();
    this.tenure = undefined;
    this.logger.warn({ lease: this.name, holder: this.holder, why }, 'lost the lease: its work stops here');
  }

  /** Stops renewing and releases the lease, so another coordinator takes it at once. */
  async close(): Promise<void> {
    this.stop.abort();
    for (const wake of this.waiters.splice(0)) wake();
    await this.loop;
    const had = this.tenure !== undefined;
    this.tenure?.abort();
    this.tenure = undefined;
    if (had) await this.store.release(this.name, this.holder).catch(() => undefined);
  }
}

/**
 * Runs `body` every `intervalMs` while `keeper` holds its lease (with the
 * tenure's signal, which aborts when the lease is lost), until `signal` aborts.
 */
export function runUnderLease(
  keeper: LeaseKeeper,
  logger: Logger,
  signal: AbortSignal,
  body: (tenure: AbortSignal) => Promise<void>,
  intervalMs: number,
): Promise<void> {
  return runWithRestart(
    keeper.name,
    logger,
    signal,
    async () => {
      const tenure = await keeper.held(signal);
      if (tenure && !tenure.aborted) await body(AbortSignal.any([tenure, signal]));
    },
    intervalMs,
  );
}

/** The leases of one coordinator: one keeper per name, all under one holder id and TTL. */
export class CoordinatorLeases {
  private readonly keepers = new Map<string, LeaseKeeper>();

  constructor(
    private readonly store: LeaseStore,
    readonly holder: string,
    readonly ttlMs: number,
    private readonly logger: Logger,
  ) {}

  /** The keeper of lease `name`, started at its first use. */
  keeper(name: string): LeaseKeeper {
    let keeper = this.keepers.get(name);
    if (!keeper) {
      keeper = new LeaseKeeper(this.store, name, this.holder, this.ttlMs, this.logger);
      this.keepers.set(name, keeper);
    }
    return keeper;
  }

  /** Releases every lease held (the other coordinator takes them at its next try). */
  async close(): Promise<void> {
    await Promise.all([...this.keepers.values()].map((k) => k.close()));
    this.keepers.clear();
  }
}
