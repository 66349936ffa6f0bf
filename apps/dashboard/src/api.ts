import type { Session } from './session.ts';

/** An error answer of the API: `{"error": {"code", "message"}}` and its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    return new ApiError(res.status, body.error?.code ?? 'HTTP', body.error?.message ?? res.statusText);
  } catch {
    return new ApiError(res.status, 'HTTP', text.slice(0, 200) || res.statusText);
  }
}

/**
 * A signal that aborts when any of `signals` does. `release` drops its listeners once the work is done: the
 * session's signal lives as long as the sign-in and must not collect one listener per request. Not
 * `AbortSignal.any` (used on the server side): it is newer than the build's targets (Firefox 115, Safari 16).
 */
export function linkSignals(...signals: Array<AbortSignal | undefined>): { signal: AbortSignal; release(): void } {
  const linked = new AbortController();
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  const stop = (): void => linked.abort();
  for (const s of present) {
    if (s.aborted) linked.abort();
    else s.addEventListener('abort', stop, { once: true });
  }
  return { signal: linked.signal, release: () => present.forEach((s) => s.removeEventListener('abort', stop)) };
}

/** Waits `ms`, or less when the signal aborts, so a stopped loop leaves no timer behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (signal.aborted) done();
    else signal.addEventListener('abort', done, { once: true });
  });
}

interface FetchOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/**
 * The same HTTP API the CLI uses, with one sign-in's token. Everything it sends runs under the session's signal
 * too, so once the session ends no request, poll or log stream of it goes on, and its late answers change nothing.
 */
export class ApiClient {
  constructor(
    readonly session: Session,
    /** Called when the API says this session's token is not (or no longer) valid. */
    private readonly onUnauthorized: () => void = () => undefined,
  ) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.session.token}`, ...extra };
  }

  /** A fetch with the token, aborted with the session or `signal`; `use` reads the answer while it may. */
  async fetch<T>(path: string, options: FetchOptions, use: (res: Response) => Promise<T>): Promise<T> {
    const link = linkSignals(options.signal, this.session.signal);
    try {
      const { method, body } = options;
      const headers = this.headers(options.headers);
      const res = await fetch(path, { method, headers, body, signal: link.signal, cache: 'no-store' });
      if (!res.ok) throw await errorOf(res);
      return await use(res);
    } finally {
      link.release();
    }
  }

  /** A JSON request; a 401 of this (still signed-in) session signs it out. */
  async request<T>(method: string, path: string, options: { body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
    const json = options.body !== undefined;
    const init: FetchOptions = { method, signal: options.signal };
    if (json)
      Object.assign(init, { body: JSON.stringify(options.body), headers: { 'content-type': 'application/json' } });
    try {
      return await this.fetch(path, init, async (res) => (await res.json()) as T);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401 && !this.session.ended) this.onUnauthorized();
      throw error;
    }
  }

  /**
   * Opens a token-protected file (raw log, .deb) without putting the token in a
   * URL: fetched with the header, handed to the browser as a blob.
   */
  async openProtected(path: string, fileName: string, mode: 'download' | 'view'): Promise<void> {
    const blob = await this.fetch(path, {}, (res) => res.blob());
    const url = URL.createObjectURL(mode === 'view' ? new Blob([blob], { type: 'text/plain; charset=utf-8' }) : blob);
    const a = document.createElement('a');
    a.href = url;
    if (mode === 'download') a.download = fileName;
    else a.target = '_blank';
    a.rel = 'noopener';
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  /** Runs `tick` now and then every `ms` until `signal` aborts or the session ends; slower while the tab is hidden. */
  poll(signal: AbortSignal, ms: number, tick: () => Promise<void>): void {
    const link = linkSignals(signal, this.session.signal);
    void pollLoop(link.signal, ms, tick).finally(link.release);
  }
}

async function pollLoop(signal: AbortSignal, ms: number, tick: () => Promise<void>): Promise<void> {
  while (!signal.aborted) {
    try {
      await tick();
    } catch (error) {
      if (signal.aborted) return;
      if (!(error instanceof ApiError)) console.warn('aoinb dashboard: update failed:', (error as Error).message);
    }
    await sleep(document.hidden ? ms * 5 : ms, signal);
  }
}
