import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createInterface } from 'node:readline';
import { isStreamId, type LogEntry, type TaskRecord } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';

export interface FollowTarget {
  task: TaskRecord;
  arch: string;
  run: number;
  /** Resume after this event id: a Redis stream id, or `a<line>` for the archived file. */
  lastEventId?: string;
}

/** Archived lines per SSE event when replaying a log whose stream expired. */
const archiveBatch = 500;

/** One SSE event carrying a batch of lines; a `\r` inside a line would end the field, so it splits it. */
function eventText(id: string, lines: string[]): string {
  const data = lines
    .flatMap((l) => l.split('\r'))
    .map((l) => `data: ${l}\n`)
    .join('');
  return `id: ${id}\n${data}\n`;
}

function endText(state: string, reason: string): string {
  return `event: end\ndata: ${JSON.stringify({ state, reason })}\n\n`;
}

/** Writes, waiting for the socket to drain (or to close: a gone client never drains). */
async function write(res: ServerResponse, text: string): Promise<void> {
  if (res.destroyed || res.writableEnded) return;
  if (!res.write(text)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
}

/** Replays the archived log file (its stream expired), resuming after line `a<n>`. */
async function replayArchive(
  ctx: CoordinatorContext,
  res: ServerResponse,
  target: FollowTarget,
  file: string,
): Promise<void> {
  const skip = target.lastEventId?.startsWith('a') ? Number(target.lastEventId.slice(1)) || 0 : 0;
  let n = 0;
  let batch: string[] = [];
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    n += 1;
    if (n <= skip) continue;
    batch.push(line);
    if (batch.length === archiveBatch) {
      await write(res, eventText(`a${n}`, batch));
      batch = [];
    }
  }
  if (batch.length > 0) await write(res, eventText(`a${n}`, batch));
  const build = await ctx.store.getBuild(target.task.id, target.arch);
  await write(res, endText(build?.state ?? 'unknown', build?.reason ?? ''));
}

/**
 * Streams a build log as Server-Sent Events: one event per stream entry (a
 * batch of lines, `id` = the Redis stream id), `event: end` with the final
 * state at the end. Live entries come from the coordinator's log fanout (one
 * Redis reader per log, whatever the number of followers).
 */
export async function followLog(
  ctx: CoordinatorContext,
  req: IncomingMessage,
  res: ServerResponse,
  target: FollowTarget,
): Promise<void> {
  const key = ctx.keys.log(target.task.id, target.arch, target.run);
  const archive = ctx.layout.logFile(target.task.id, target.arch, target.run);
  const streamGone = async (): Promise<boolean> =>
    (await ctx.redis.exists(key)) === 0 && (await stat(archive).catch(() => undefined)) !== undefined;
  const fromArchive = target.lastEventId?.startsWith('a') || (await streamGone());
  const aborted = new AbortController();
  req.on('close', () => aborted.abort());
  const start = (): void => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
  };
  if (fromArchive) {
    start();
    await replayArchive(ctx, res, target, archive);
    res.end();
    return;
  }
  const afterId = target.lastEventId && isStreamId(target.lastEventId) ? target.lastEventId : '0';
  const sink = {
    entries: async (entries: LogEntry[]) => {
      let text = '';
      for (const entry of entries) {
        if (entry.lines.length > 0) text += eventText(entry.id, entry.lines);
        if (entry.eof) text += endText(entry.eof.state, entry.eof.reason);
      }
      if (text) await write(res, text);
    },
    idle: async () => write(res, ': keep-alive\n\n'),
    ended: async (state: string, reason: string) => write(res, endText(state, reason)),
  };
  const follow = { key, taskId: target.task.id, arch: target.arch, run: target.run, afterId };
  start();
  try {
    await ctx.logs.follow(follow, sink, aborted.signal);
  } finally {
    res.end();
  }
}
