import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createInterface } from 'node:readline';
import {
  closeRedis,
  connectRedis,
  farmKeys,
  isFinalBuildState,
  isStreamId,
  waitLogEntries,
  type LogEntry,
  type TaskRecord,
} from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';

export interface FollowTarget {
  task: TaskRecord;
  arch: string;
  run: number;
  /** Resume after this event id: a Redis stream id, or `a<line>` for the archived file. */
  lastEventId?: string;
}

/** How long one blocking read waits before a keep-alive comment. */
const blockMs = 10_000;
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

/** Writes entries; resolves true once the end-of-log entry was sent. */
async function sendEntries(res: ServerResponse, entries: LogEntry[]): Promise<boolean> {
  let text = '';
  for (const entry of entries) {
    if (entry.lines.length > 0) text += eventText(entry.id, entry.lines);
    if (entry.eof) {
      await write(res, text + endText(entry.eof.state, entry.eof.reason));
      return true;
    }
  }
  if (text) await write(res, text);
  return false;
}

/**
 * Streams a build log as Server-Sent Events: one event per stream entry (a
 * batch of lines, `id` = the Redis stream id), `event: end` with the final
 * state at the end. Each follower holds its own Redis connection for XREAD
 * BLOCK, closed when the client goes away.
 */
export async function followLog(
  ctx: CoordinatorContext,
  req: IncomingMessage,
  res: ServerResponse,
  target: FollowTarget,
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  const key = farmKeys.log(target.task.id, target.arch, target.run);
  const archive = ctx.layout.logFile(target.task.id, target.arch, target.run);
  const streamGone = async (): Promise<boolean> =>
    (await ctx.redis.exists(key)) === 0 && (await stat(archive).catch(() => undefined)) !== undefined;
  if (target.lastEventId?.startsWith('a') || (await streamGone())) {
    await replayArchive(ctx, res, target, archive);
    res.end();
    return;
  }
  const blocking = connectRedis(ctx.connection, ctx.logger, 'sse');
  let closed = false;
  req.on('close', () => {
    closed = true;
    blocking.disconnect();
  });
  let last = target.lastEventId && isStreamId(target.lastEventId) ? target.lastEventId : '0';
  try {
    while (!closed) {
      const entries = await waitLogEntries(blocking, key, last, blockMs);
      if (closed) break;
      if (entries.length > 0) {
        last = entries[entries.length - 1]!.id;
        if (await sendEntries(res, entries)) break;
        continue;
      }
      await write(res, ': keep-alive\n\n');
      // Whatever happened to the log's end, a follower stops once its run is final (or superseded, or gone).
      const build = await ctx.store.getBuild(target.task.id, target.arch);
      if (!build || build.run !== target.run || isFinalBuildState(build.state)) {
        const same = build?.run === target.run;
        await write(res, endText(same ? build.state : 'unknown', same ? (build.reason ?? '') : ''));
        break;
      }
    }
  } catch (error) {
    if (!closed) ctx.logger.warn({ taskId: target.task.id, err: (error as Error).message }, 'log follower stopped');
  } finally {
    await closeRedis(blocking);
    res.end();
  }
}
