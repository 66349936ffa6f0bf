import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { appendLogLines, checkExec, LeaseStore, logMember, readLogEntries } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { whileRenewing } from './renewed-claim.ts';

/** A finished log stays readable (and followable) from Redis this long after it is archived. */
export const archivedStreamTtlSeconds = 3600;

/** Renewed while the archive is written: a coordinator that dies mid-archive frees its claim within this. */
const archiveClaimMs = 15_000;

/**
 * Writes the whole stream to `logs/<task>/<arch>-r<run>.log`, then lets the
 * stream expire and takes it off the list of logs to archive. One archiver per
 * log across coordinators (a per-log claim, renewed while it is written):
 * the one that ended the build and the reconcile of the other may both get
 * here; the second finds it claimed or already archived and does nothing.
 */
export async function archiveLog(ctx: CoordinatorContext, taskId: string, arch: string, run: number): Promise<void> {
  const member = logMember(taskId, arch, run);
  const claims = new LeaseStore(ctx.redis, ctx.keys.prefix);
  const claim = `log-archive:${member}`;
  if (!(await claims.acquire(claim, ctx.leases.holder, archiveClaimMs))) return;
  try {
    // An expiry is set once the stream is archived (-2: the stream is gone): nothing left to write.
    if ((await ctx.redis.pttl(ctx.keys.log(taskId, arch, run))) !== -1) {
      await ctx.redis.srem(ctx.keys.unarchivedLogs, member);
      return;
    }
    await whileRenewing(
      archiveClaimMs,
      () => claims.renew(claim, ctx.leases.holder, archiveClaimMs),
      () => writeArchive(ctx, taskId, arch, run),
    );
  } finally {
    await claims.release(claim, ctx.leases.holder).catch(() => undefined);
  }
}

async function writeArchive(ctx: CoordinatorContext, taskId: string, arch: string, run: number): Promise<void> {
  const key = ctx.keys.log(taskId, arch, run);
  const file = ctx.layout.logFile(taskId, arch, run);
  await Promise.all([mkdir(path.dirname(file), { recursive: true }), mkdir(ctx.layout.tmpDir, { recursive: true })]);
  // In this coordinator's own tmp folder: what a kill mid-archive leaves there is swept at the next start.
  const tmp = path.join(ctx.layout.tmpDir, `log-${taskId}-${arch}-r${run}-${randomUUID()}`);
  async function* text(): AsyncGenerator<string> {
    let after = '0';
    for (;;) {
      const entries = await readLogEntries(ctx.redis, key, after, 2000);
      if (entries.length === 0) return;
      for (const entry of entries) {
        if (entry.lines.length > 0) yield `${entry.lines.join('\n')}\n`;
        after = entry.id;
      }
    }
  }
  // A pipeline, so a write error (a full storage disk) rejects here instead of crashing the process.
  try {
    await pipeline(Readable.from(text()), createWriteStream(tmp));
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
  await rename(tmp, file);
  const replies = await ctx.redis
    .multi()
    .expire(key, archivedStreamTtlSeconds)
    .srem(ctx.keys.unarchivedLogs, logMember(taskId, arch, run))
    .exec();
  checkExec(
    `archiving the log of ${taskId}/${arch} run ${run}`,
    [`EXPIRE ${key}`, `SREM ${ctx.keys.unarchivedLogs}`],
    replies,
  );
}

/**
 * After a build's final state: the state script wrote the log's end with it;
 * this makes sure of it (a log without an end gets one, never a second) and
 * archives the log in the background (a stop waits for it). Reconcile archives what a crash left.
 */
export async function endLog(
  ctx: CoordinatorContext,
  taskId: string,
  arch: string,
  run: number,
  state: string,
  reason?: string,
): Promise<void> {
  if (await ctx.store.endLogIfOpen(taskId, arch, run, state, reason))
    ctx.logger.warn({ taskId, arch, run, state }, 'a final build had a log without an end; ended it');
  ctx.background.start('log archive failed; the log stays in Redis', { taskId, arch, run }, () =>
    archiveLog(ctx, taskId, arch, run),
  );
}

/** A line from the farm itself (not build output) in a build's log. */
export async function noteInLog(
  ctx: CoordinatorContext,
  taskId: string,
  arch: string,
  run: number,
  line: string,
): Promise<void> {
  await appendLogLines(ctx.redis, ctx.keys.log(taskId, arch, run), [`[aoinb] ${line}`]);
}
