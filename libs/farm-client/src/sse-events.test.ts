import { describe, expect, it } from 'vitest';
import { sseEvents, type SseEvent } from './sse-events.ts';

async function parse(chunks: string[]): Promise<SseEvent[]> {
  const encoder = new TextEncoder();
  const body = (async function* () {
    for (const chunk of chunks) yield encoder.encode(chunk);
  })();
  const events: SseEvent[] = [];
  for await (const event of sseEvents(body)) events.push(event);
  return events;
}

describe('sseEvents', () => {
  it('parses ids, event names and multi-line data, across chunk boundaries', async () => {
    const events = await parse([
      'retry: 2000\n\n: keep-alive\n\nid: 1-0\nda',
      'ta: line one\ndata: line two\n\nevent: end\ndata: {"state":"succeeded"}\n\n',
    ]);
    expect(events).toEqual([
      { id: '1-0', event: 'message', data: 'line one\nline two' },
      { event: 'end', data: '{"state":"succeeded"}' },
    ]);
  });

  it('accepts CRLF line ends and keeps a space after the first one', async () => {
    expect(await parse(['id: a3\r\ndata:  indented\r\n\r\n'])).toEqual([
      { id: 'a3', event: 'message', data: ' indented' },
    ]);
  });
});
