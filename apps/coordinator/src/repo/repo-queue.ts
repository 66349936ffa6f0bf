import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { acquireLock, type HeldLock } from '@aoinb/buildroot';

/**
 * A busy repository's lock is held across the publishes queued behind each
 * other (one flock for a batch), and handed over after this long so a second
 * coordinator's publishes get their turn.
 */
const lockTurnMs = 1000;

/**
 * Runs each repository's work one task at a time, under an flock on
 * `<repository>.lock` (two coordinators sharing the storage folder).
 * `caughtUp` runs each time the lock is taken, before the task: another
 * process may have written meanwhile.
 */
export class RepoQueue {
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Per repository: its flock while this process's queued work runs. */
  private readonly locks = new Map<string, { lock: HeldLock; since: number }>();

  constructor(
    private readonly repoDir: (repo: string) => string,
    private readonly caughtUp: (repo: string) => Promise<void>,
  ) {}

  run<T>(repo: string, task: () => Promise<T>): Promise<T> {
    const run = (this.chains.get(repo) ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        await this.lock(repo);
        return task();
      });
    this.chains.set(repo, run);
    void run
      .catch(() => undefined)
      .then(async () => {
        if (this.chains.get(repo) !== run) return;
        this.chains.delete(repo);
        await this.unlock(repo);
      });
    return run;
  }

  /** Resolves when the repository's queued work is done. */
  async idle(repo: string): Promise<void> {
    await this.chains.get(repo)?.catch(() => undefined);
  }

  /** Holds the repository's flock (taking it, or passing it on after its turn) with the index caught up. */
  private async lock(repo: string): Promise<void> {
    const held = this.locks.get(repo);
    if (held && Date.now() - held.since < lockTurnMs) return;
    if (held) await this.unlock(repo);
    const dir = this.repoDir(repo);
    await mkdir(path.dirname(dir), { recursive: true });
    const lock = await acquireLock(`${dir}.lock`, 'exclusive');
    this.locks.set(repo, { lock, since: Date.now() });
    await this.caughtUp(repo);
  }

  private async unlock(repo: string): Promise<void> {
    const held = this.locks.get(repo);
    this.locks.delete(repo);
    await held?.lock.release();
  }
}
