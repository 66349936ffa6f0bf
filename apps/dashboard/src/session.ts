import type { Identity } from './views.ts';

export type { Identity };

/**
 * Where the signed-in token waits between page loads: the tab's sessionStorage only (it ends with the tab), never
 * a URL (no ?token=) or the console. Main creates the one store of the page; tests may give their own storage.
 */
export class TokenStore {
  constructor(
    private readonly storage: Storage,
    private readonly key = 'aoinb.token',
  ) {}

  get(): string | null {
    return this.storage.getItem(this.key);
  }

  set(token: string): void {
    this.storage.setItem(this.key, token);
  }

  clear(): void {
    this.storage.removeItem(this.key);
  }
}

/**
 * One sign-in: its token, who the API says it is, and a signal that aborts when it ends. A new sign-in is a new
 * Session, so nothing of the last one (its token, its role, its requests, polls and log streams) carries over.
 */
export class Session {
  private who: Identity | undefined;
  private readonly lifetime = new AbortController();

  constructor(readonly token: string) {}

  /** Aborts on sign-out: every request, poll and log stream of this sign-in runs under it. */
  get signal(): AbortSignal {
    return this.lifetime.signal;
  }

  get ended(): boolean {
    return this.lifetime.signal.aborted;
  }

  identity(): Identity | undefined {
    return this.who;
  }

  setIdentity(who: Identity): void {
    if (!this.ended) this.who = who;
  }

  /** Whether the signed-in token may submit, cancel and retry (the API checks again). */
  mayAct(): boolean {
    return this.who?.role === 'maintainer' || this.who?.role === 'admin';
  }

  /** Signs out: forgets who it was and aborts whatever still runs under it. */
  end(): void {
    this.who = undefined;
    this.lifetime.abort();
  }
}
