import { sseEvents } from '@aoinb/farm-client/sse-events';
import { ApiError, authHeaders } from './api.ts';

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

/**
 * Follows a build log over SSE. EventSource cannot send an Authorization
 * header, so this is fetch-based streaming; after a dropped connection it
 * resumes with Last-Event-ID, so no line is lost or shown twice.
 */
export async function followLog(path: string, follower: LogFollower, signal: AbortSignal): Promise<void> {
  let lastId: string | undefined;
  let failures = 0;
  while (!signal.aborted) {
    follower.onStatus(failures === 0 ? 'connecting' : 'reconnecting');
    try {
      const headers = authHeaders({ accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) });
      const res = await fetch(path, { headers, signal, cache: 'no-store' });
      if (!res.ok || !res.body) throw new ApiError(res.status, 'HTTP', `the log answered ${res.status}`);
      follower.onStatus('live');
      for await (const event of sseEvents(chunks(res.body))) {
        failures = 0;
        if (event.event === 'end') {
          follower.onEnd(JSON.parse(event.data) as { state: string; reason: string });
          return;
        }
        if (event.id) lastId = event.id;
        follower.onLines(event.data.split('\n'));
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
        follower.onStatus('reconnecting', error.message);
        return;
      }
    }
    failures += 1;
    const delay = Math.min(15_000, 500 * 2 ** Math.min(failures, 5));
    follower.onStatus('reconnecting', `connection lost; trying again in ${Math.round(delay / 1000)} s`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
