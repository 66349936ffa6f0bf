import { sseEvents, type SseEvent } from '@aoinb/farm-client';

export type { SseEvent };

/**
 * A minimal Server-Sent Events client (fetch + a parser): reads events until
 * `stop` says so, the server ends the stream, or the signal aborts.
 */
export async function readSse(
  url: string,
  options: {
    token: string;
    lastEventId?: string;
    stop?: (event: SseEvent, all: SseEvent[]) => boolean;
    onEvent?: (event: SseEvent) => void;
    signal?: AbortSignal;
  },
): Promise<SseEvent[]> {
  const controller = new AbortController();
  options.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${options.token}` };
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
  const res = await fetch(url, { headers, signal: controller.signal });
  if (!res.ok || !res.body) throw new Error(`SSE ${url}: HTTP ${res.status} ${await res.text()}`);
  const events: SseEvent[] = [];
  try {
    for await (const event of sseEvents(res.body)) {
      events.push(event);
      options.onEvent?.(event);
      if (event.event === 'end' || options.stop?.(event, events)) {
        controller.abort();
        return events;
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  }
  return events;
}

/** The log lines carried by `message` events. */
export function linesOf(events: SseEvent[]): string[] {
  return events.filter((e) => e.event === 'message').flatMap((e) => e.data.split('\n'));
}
