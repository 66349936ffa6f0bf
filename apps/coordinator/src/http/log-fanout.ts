import { AoinbError } from '@aoinb/errors';
import {
  closeRedis,
  connectRedis,
  isFinalBuildState,
  readLogEntries,
  waitLogEntries,
  type BuildRecord,
  type LogEntry,
  type RedisClient,
  type FarmConnection,
} from '@aoinb/farm-protocol';
import type { Logger } from '@aoinb/logging';

/** What a follower is told: entries in order, keep-alives while the log is quiet, then the end. */
export interface FollowerSink {
  entries(entries: LogEntry[]): Promise<void>;
  idle(): Promise<void>;
  /** The build ended without an end marker being read (run replaced, stream gone). */
  ended(state: string, reason: string): Promise<void>;
}

export interface FanoutDeps {
  redis: RedisClient;
  connection: FarmConnection;
  logger: Logger;
  getBuild(taskId: string, arch: string): Promise<BuildRecord | undefined>;
  /** Live followers one token may hold at once. */
  perToken: number;
  /** How long one blocking read waits before followers get a keep-alive. */
  blockMs?: number;
}

/** Batches a slow follower may have waiting before it is ended (it reconnects with Last-Event-ID). */
const maxQueuedBatches = 1000;

interface Stream {
  key: string;
  taskId: string;
  arch: string;
  run: number;
  /** The last id the shared reader has delivered; joining followers catch up to it. */
  last: string;
  followers: Set<FollowerSink>;
  /** Resolved once `last` is known. */
  ready: Promise<void>;
  /** Its shared reader runs (started by the first follower). */
  reading: boolean;
  /** Its blocking connection, once reading; dropped as soon as the last follower leaves. */
  reader?: RedisClient;
}

/**
 * One Redis reader per live log stream, shared by all its SSE followers (a
 * blocking XREAD holds a connection, so per follower would mean one connection
 * per browser tab), and a cap on live followers per token.
 */
export class LogFanout {
  private readonly streams = new Map<string, Stream>();
  private readonly perToken = new Map<string, number>();
  private readonly readers = new Set<RedisClient>();
  private closed = false;

  constructor(private readonly deps: FanoutDeps) {}

  /** Live followers of a log, for tests and metrics. */
  followers(key: string): number {
    return this.streams.get(key)?.followers.size ?? 0;
  }

  /** Shared readers open now. */
  get readerCount(): number {
    return this.readers.size;
  }

  /**
   * Admits one more live follower for `token`, or refuses with 429 when it
   * holds its limit already; call the returned function when it leaves.
   */
  admit(token: string): () => void {
    const held = this.perToken.get(token) ?? 0;
    if (held >= this.deps.perToken)
      throw new AoinbError(
        'TOO_MANY_FOLLOWERS',
        `token ${token} already follows ${held} live logs (the limit is ${this.deps.perToken}); close one first`,
      );
    this.perToken.set(token, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.perToken.get(token) ?? 1) - 1;
      if (left > 0) this.perToken.set(token, left);
      else this.perToken.delete(token);
    };
  }

  /**
   * Follows `key` from after `afterId` until the end; resolves when the log
   * ended or `signal` aborted (the client went away).
   */
  async follow(
    target: { key: string; taskId: string; arch: string; run: number; afterId: string },
    sink: FollowerSink,
    signal: AbortSignal,
  ): Promise<void> {
    const stream = this.streamFor(target);
    await stream.ready;
    const upTo = stream.last;
    await new Promise<void>((resolve) => {
      const relay = new FollowerRelay(sink, target.afterId, () => {
        stream.followers.delete(relay);
        this.release(stream);
        resolve();
      });
      const finish = (): void => relay.finish();
      signal.addEventListener('abort', finish, { once: true });
      if (signal.aborted) return finish();
      stream.followers.add(relay);
      if (!stream.reading) {
        stream.reading = true;
        void this.read(stream);
      }
      this.catchUp(target.key, target.afterId, upTo, sink)
        .then(async (eof) => (eof ? finish() : relay.caughtUp()))
        .catch((error: Error) => {
          this.deps.logger.warn({ key: target.key, err: error.message }, 'log follower catch-up failed');
          finish();
        });
    });
  }

  /** Sends the entries after `afterId` up to `upTo` (inclusive); true when the end was among them. */
  private async catchUp(key: string, afterId: string, upTo: string, sink: FollowerSink): Promise<boolean> {
    let from = afterId;
    while (from !== upTo && upTo !== '0') {
      const page = (await readLogEntries(this.deps.redis, key, from, 500)).filter((e) => compareIds(e.id, upTo) <= 0);
      if (page.length === 0) return false;
      await sink.entries(page);
      if (page.some((e) => e.eof)) return true;
      from = page[page.length - 1]!.id;
    }
    return false;
  }

  private streamFor(target: { key: string; taskId: string; arch: string; run: number }): Stream {
    const existing = this.streams.get(target.key);
    if (existing) return existing;
    const stream: Stream = { ...target, last: '0', followers: new Set(), ready: Promise.resolve(), reading: false };
    stream.ready = this.deps.redis.xrevrange(target.key, '+', '-', 'COUNT', 1).then((top) => {
      stream.last = top[0]?.[0] ?? '0';
    });
    this.streams.set(target.key, stream);
    return stream;
  }

  /** The shared reader of one stream; ends when its last follower leaves or the log ends. */
  private async read(stream: Stream): Promise<void> {
    const blocking = connectRedis(this.deps.connection, this.deps.logger, 'log-fanout');
    stream.reader = blocking;
    this.readers.add(blocking);
    try {
      while (!this.closed && stream.followers.size > 0) {
        const entries = await waitLogEntries(blocking, stream.key, stream.last, this.deps.blockMs ?? 10_000);
        if (entries.length > 0) {
          stream.last = entries[entries.length - 1]!.id;
          await Promise.all([...stream.followers].map((f) => f.entries(entries)));
          if (entries.some((e) => e.eof)) break;
          continue;
        }
        await Promise.all([...stream.followers].map((f) => f.idle()));
        const end = await this.endWithoutMarker(stream);
        if (end) {
          await Promise.all([...stream.followers].map((f) => f.ended(end.state, end.reason)));
          break;
        }
      }
    } catch (error) {
      if (this.closed || stream.followers.size === 0) return;
      this.deps.logger.warn({ key: stream.key, err: (error as Error).message }, 'log reader stopped');
      await Promise.all([...stream.followers].map((f) => f.ended('unknown', 'the log reader stopped')));
    } finally {
      if (this.streams.get(stream.key) === stream) this.streams.delete(stream.key);
      this.readers.delete(blocking);
      await closeRedis(blocking);
    }
  }

  /**
   * Followers stop at the final state whatever happened to the end marker:
   * the run is final (reconcile repairs its log's end), replaced by a later
   * run, or gone.
   */
  private async endWithoutMarker(stream: Stream): Promise<{ state: string; reason: string } | undefined> {
    const build = await this.deps.getBuild(stream.taskId, stream.arch);
    if (!build) return { state: 'unknown', reason: '' };
    const final = isFinalBuildState(build.state);
    if (build.run !== stream.run) return { state: final ? build.state : 'unknown', reason: build.reason ?? '' };
    if (!final) return undefined;
    // Entries that came with the final state (its end marker among them) are read first.
    const rest = await readLogEntries(this.deps.redis, stream.key, stream.last, 1);
    return rest.length > 0 ? undefined : { state: build.state, reason: build.reason ?? '' };
  }

  private release(stream: Stream): void {
    if (stream.followers.size > 0) return;
    if (this.streams.get(stream.key) === stream) this.streams.delete(stream.key);
    // A blocked XREAD would hold its connection until the timeout: drop it now.
    stream.reader?.disconnect();
  }

  /** Stops every reader (coordinator shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.readers].map(async (r) => closeRedis(r)));
  }
}

/**
 * One follower of a shared stream. Entries the shared reader hands over wait in order here until the
 * follower's catch-up is done; the reader never waits for a follower, and one that falls too far behind
 * is ended (it resumes by id).
 */
class FollowerRelay implements FollowerSink {
  private readonly queue: LogEntry[][] = [];
  private isCaughtUp = false;
  private draining = false;
  private finished = false;

  /** `onFinish` runs once, when the follower is done (end of log, too far behind, gone). */
  constructor(
    private readonly sink: FollowerSink,
    private readonly afterId: string,
    private readonly onFinish: () => void,
  ) {}

  async entries(entries: LogEntry[]): Promise<void> {
    if (this.queue.length >= maxQueuedBatches) return this.finish();
    this.queue.push(entries);
    void this.drain();
  }

  async idle(): Promise<void> {
    if (this.isCaughtUp && this.queue.length === 0 && !this.draining) await this.sink.idle();
  }

  async ended(state: string, reason: string): Promise<void> {
    await this.drain();
    if (!this.finished) await this.sink.ended(state, reason);
    this.finish();
  }

  /** The catch-up reached where the shared reader began: what it queued meanwhile goes out now. */
  async caughtUp(): Promise<void> {
    this.isCaughtUp = true;
    await this.drain();
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.onFinish();
  }

  private async drain(): Promise<void> {
    if (this.draining || !this.isCaughtUp || this.finished) return;
    this.draining = true;
    try {
      for (let batch = this.queue.shift(); batch && !this.finished; batch = this.queue.shift()) {
        const fresh = batch.filter((e) => compareIds(e.id, this.afterId) > 0);
        if (fresh.length > 0) await this.sink.entries(fresh);
        if (batch.some((e) => e.eof)) return this.finish();
      }
    } finally {
      this.draining = false;
    }
  }
}

/** Orders Redis stream ids (`ms-seq`). */
export function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}
