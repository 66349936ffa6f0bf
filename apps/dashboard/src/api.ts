import { session } from './session.ts';

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

/** Called when the API says the token is not (or no longer) valid. */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const token = session.token();
  return { ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra };
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

/** The same HTTP API the CLI uses, with the signed-in token. */
export async function api<T>(
  method: string,
  path: string,
  options: { body?: unknown; signal?: AbortSignal; token?: string } = {},
): Promise<T> {
  const headers = options.token ? { authorization: `Bearer ${options.token}` } : authHeaders();
  const init: RequestInit = { method, headers, signal: options.signal, cache: 'no-store' };
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(path, init);
  if (!res.ok) {
    const error = await errorOf(res);
    if (res.status === 401 && !options.token) onUnauthorized();
    throw error;
  }
  return (await res.json()) as T;
}

/**
 * Opens a token-protected file (raw log, .deb) without putting the token in a
 * URL: fetched with the header, handed to the browser as a blob.
 */
export async function openProtected(path: string, fileName: string, mode: 'download' | 'view'): Promise<void> {
  const res = await fetch(path, { headers: authHeaders(), cache: 'no-store' });
  if (!res.ok) throw await errorOf(res);
  const blob = await res.blob();
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

/** Runs `tick` now and then every `ms` until the signal aborts; slower while the tab is hidden. */
export function poll(signal: AbortSignal, ms: number, tick: () => Promise<void>): void {
  const loop = async (): Promise<void> => {
    while (!signal.aborted) {
      try {
        await tick();
      } catch (error) {
        if (signal.aborted) return;
        if (!(error instanceof ApiError)) console.warn('aoinb dashboard: update failed:', (error as Error).message);
      }
      await new Promise((resolve) => setTimeout(resolve, document.hidden ? ms * 5 : ms));
    }
  };
  void loop();
}
