import { logEofField, logLinesField } from './log-writer.ts';
import type { RedisClient } from './redis-options.ts';

export interface LogEntry {
  /** Redis stream id; SSE event id, and what `Last-Event-ID` resumes after. */
  id: string;
  lines: string[];
  /** Present on the last entry of a build's log. */
  eof?: { state: string; reason: string };
}

type RawEntry = [id: string, fields: string[]];

function toEntry([id, fields]: RawEntry): LogEntry {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i] as string, fields[i + 1] as string);
  const text = map.get(logLinesField);
  const eof = map.get(logEofField);
  return {
    id,
    lines: text === undefined ? [] : text.split('\n'),
    ...(eof !== undefined ? { eof: { state: eof, reason: map.get('reason') ?? '' } } : {}),
  };
}

export function isStreamId(value: string): boolean {
  return /^\d+-\d+$/.test(value);
}

/** Entries after `afterId` ('0' = from the start), at most `count`. */
export async function readLogEntries(
  redis: RedisClient,
  key: string,
  afterId: string,
  count: number,
): Promise<LogEntry[]> {
  const start = afterId === '0' ? '-' : `(${afterId}`;
  const raw = (await redis.xrange(key, start, '+', 'COUNT', count)) as RawEntry[];
  return raw.map(toEntry);
}

/**
 * Waits up to `blockMs` for entries after `afterId`. Needs a connection of its
 * own: XREAD BLOCK holds it.
 */
export async function waitLogEntries(
  blocking: RedisClient,
  key: string,
  afterId: string,
  blockMs: number,
  count = 500,
): Promise<LogEntry[]> {
  const reply = await blocking.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', key, afterId);
  if (!reply || reply.length === 0) return [];
  return (reply[0]?.[1] ?? []).map(toEntry);
}
