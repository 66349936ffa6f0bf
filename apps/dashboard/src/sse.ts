import { sseEvents } from '@aoinb/farm-client/sse-events';
import { ApiError, linkSignals, sleep, type ApiClient } from './api.ts';

// The farm's one SSE parser (the CLI uses it too); the browser's stream is read chunk by chunk into it.
async function* chunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    yield value;
  }
}

export interface LogFollower {
  onLines(lines: string[]): void;
  onEnd(end: { state: string; reason: string }): void;
  onStatus(status: 'connecting' | 'live' | 'reconnecting', detail?: string): void;
}

/** Where a follow stands between connections: the last event seen, and the connections lost in a row. */
interface Progress {
  lastId?: string;
  failures: number;
}

/** Reads one connection's events; true when the log ended (the build is over). */
async function readStream(res: Response, follower: LogFollower, progress: Progress): Promise<boolean> {
  if (!res.body) throw new ApiError(res.status, 'HTTP', `the log answered ${res.status} without a body`);
  follower.onStatus('live');
  for await (const event of sseEvents(chunks(res.body))) {
    progress.failures = 0;
    if (event.event === 'end') {
      follower.onEnd(JSON.parse(event.data) as { state: string; reason: string });
      return true;
    }
    if (event.id) progress.lastId = event.id;
    follower.onLines(event.data.split('\n'));
  }
  return false;
}

/** One connection; true when following is over (the log ended, the follow stopped, or the API refused it). */
async function connectOnce(
  client: ApiClient,
  path: string,
  follower: LogFollower,
  progress: Progress,
  signal: AbortSignal,
): Promise<boolean> {
  follower.onStatus(progress.failures === 0 ? 'connecting' : 'reconnecting');
  try {
    const headers = { accept: 'text/event-stream', ...(progress.lastId ? { 'last-event-id': progress.lastId } : {}) };
    return await client.fetch(path, { headers, signal }, (res) => readStream(res, follower, progress));
  } catch (error) {
    if (signal.aborted) return true;
    if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
      follower.onStatus('reconnecting', error.message);
      return true;
    }
    return false;
  }
}

/**
 * Follows a build log over SSE. EventSource cannot send an Authorization
 * header, so this is fetch-based streaming (through the session's client: the stream ends with the sign-in);
 * after a dropped connection it resumes with Last-Event-ID, so no line is lost or shown twice.
 */
export async function followLog(
  client: ApiClient,
  path: string,
  follower: LogFollower,
  signal: AbortSignal,
): Promise<void> {
  const progress: Progress = { failures: 0 };
  // One signal for the whole follow: the route left, or the sign-in ended.
  const link = linkSignals(signal, client.session.signal);
  try {
    while (!link.signal.aborted) {
      if (await connectOnce(client, path, follower, progress, link.signal)) return;
      progress.failures += 1;
      const delay = Math.min(15_000, 500 * 2 ** Math.min(progress.failures, 5));
      follower.onStatus('reconnecting', `connection lost; trying again in ${Math.round(delay / 1000)} s`);
      await sleep(delay, link.signal);
    }
  } finally {
    link.release();
  }
}
