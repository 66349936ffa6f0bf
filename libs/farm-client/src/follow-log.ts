import { AoinbError } from '@aoinb/errors';
import type { FarmClient } from './farm-client.ts';
import { sseEvents } from './sse-events.ts';

export interface LogEnd {
  state: string;
  reason: string;
}

/**
 * Follows a task's live log over Server-Sent Events until the build ends. A
 * dropped connection is resumed where it stopped (`Last-Event-ID`), so no line
 * is lost or shown twice.
 */
export async function followLog(
  client: FarmClient,
  taskId: string,
  options: {
    arch?: string;
    run?: number;
    onLines: (lines: string[]) => void;
    signal?: AbortSignal;
    maxReconnects?: number;
  },
): Promise<LogEnd> {
  let lastEventId: string | undefined;
  let reconnects = 0;
  const params = new URLSearchParams();
  if (options.arch) params.set('arch', options.arch);
  if (options.run) params.set('run', String(options.run));
  const query = params.size ? `?${params}` : '';
  for (;;) {
    try {
      const response = await client.raw('GET', `/task/${taskId}/log${query}`, {
        headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
        signal: options.signal,
      });
      if (!response.body) throw new Error('empty response');
      for await (const event of sseEvents(response.body)) {
        if (event.event === 'end') return JSON.parse(event.data) as LogEnd;
        if (event.id) lastEventId = event.id;
        if (event.event === 'message') options.onLines(event.data.split('\n'));
      }
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (error instanceof AoinbError && error.code !== 'UNAVAILABLE') throw error;
    }
    reconnects += 1;
    if (reconnects > (options.maxReconnects ?? 30))
      throw new AoinbError('UNAVAILABLE', `lost the log stream of task ${taskId} ${reconnects} times; giving up`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * 2 ** Math.min(reconnects, 5))));
  }
}
