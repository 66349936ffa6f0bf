export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * A minimal Server-Sent Events client (fetch + a parser): reads events until
 * `stop` says so, the server ends the stream, or the signal aborts.
 */
export async function readSse(
  url: string,
  options: { token: string; lastEventId?: string; stop?: (event: SseEvent, all: SseEvent[]) => boolean; onEvent?: (event: SseEvent) => void; signal?: AbortSignal },
): Promise<SseEvent[]> {
  const controller = new AbortController();
  options.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${options.token}` };
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
  const res = await fetch(url, { headers, signal: controller.signal });
  if (!res.ok || !res.body) throw new Error(`SSE ${url}: HTTP ${res.status} ${await res.text()}`);
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let at: number;
      while ((at = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        const event: SseEvent = { event: 'message', data: '' };
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') event.id = value;
          else if (field === 'event') event.event = value;
          else if (field === 'data') data.push(value);
        }
        if (data.length === 0 && event.id === undefined) continue;
        event.data = data.join('\n');
        events.push(event);
        options.onEvent?.(event);
        if (event.event === 'end' || options.stop?.(event, events)) {
          controller.abort();
          return events;
        }
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
