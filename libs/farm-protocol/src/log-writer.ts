import type { Logger } from '@aoinb/logging';
import type { RedisClient } from './redis-options.ts';

export interface LogWriterOptions {
  /** A line waits at most this long before it is sent (ms). */
  flushMs?: number;
  /** Lines per stream entry at most. */
  maxBatchLines?: number;
  /** Stream entries kept (approximately); older ones are trimmed. */
  maxEntries?: number;
  /** Longer lines are cut. */
  maxLineChars?: number;
  /** Lines held while Redis is unreachable; beyond it the oldest are dropped (and counted). */
  maxBufferedLines?: number;
}

/** Stream entry field holding lines (joined by \n). */
export const logLinesField = 'l';
/**
 * Stream entry field marking the end of a build's log; its value is the final
 * build state. Only the guarded scripts write it (transition-script.ts, with
 * the final state; FarmStore.endLogIfOpen, the net), never a log writer.
 */
export const logEofField = 'eof';

/**
 * Ships build output to a Redis stream as it appears: lines are batched for at
 * most `flushMs` (10 ms) so 10,000 lines/s cost ~100 XADDs/s, and one XADD is
 * in flight at a time so order is kept.
 */
export class LogStreamWriter {
  private buffer: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private dropped = 0;
  private readonly flushMs: number;
  private readonly maxBatchLines: number;
  private readonly maxEntries: number;
  private readonly maxLineChars: number;
  private readonly maxBufferedLines: number;

  constructor(
    private readonly redis: RedisClient,
    readonly key: string,
    private readonly logger: Logger,
    options: LogWriterOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 10;
    this.maxBatchLines = options.maxBatchLines ?? 1000;
    this.maxEntries = options.maxEntries ?? 200_000;
    this.maxLineChars = options.maxLineChars ?? 16_384;
    this.maxBufferedLines = options.maxBufferedLines ?? 500_000;
  }

  write(line: string): void {
    this.buffer.push(line.length > this.maxLineChars ? `${line.slice(0, this.maxLineChars)} [aoinb: line cut]` : line);
    if (this.buffer.length > this.maxBufferedLines) {
      this.buffer.shift();
      this.dropped += 1;
    }
    if (this.buffer.length >= this.maxBatchLines) this.kick(0);
    else this.kick(this.flushMs);
  }

  private kick(delay: number): void {
    if (this.inflight) return;
    if (this.timer && delay > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delay);
  }

  /** Sends everything buffered (and what arrives meanwhile); resolves once the buffer is empty and in Redis. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (;;) {
      while (this.inflight) await this.inflight;
      if (this.buffer.length === 0 && this.dropped === 0) return;
      this.inflight = this.sendAll().finally(() => {
        this.inflight = undefined;
      });
      await this.inflight;
    }
  }

  private async sendAll(): Promise<void> {
    while (this.buffer.length > 0 || this.dropped > 0) {
      if (this.dropped > 0) {
        this.buffer.unshift(`[aoinb] ${this.dropped} log lines dropped while Redis was unreachable`);
        this.dropped = 0;
      }
      const batch = this.buffer.splice(0, this.maxBatchLines);
      try {
        await this.redis.xadd(this.key, 'MAXLEN', '~', this.maxEntries, '*', logLinesField, batch.join('\n'));
      } catch (error) {
        this.logger.warn({ err: (error as Error).message, stream: this.key }, 'log shipping failed; retrying');
        this.buffer.unshift(...batch);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
}

/** Appends lines at once (markers written by the coordinator or the agent, not build output). */
export async function appendLogLines(redis: RedisClient, key: string, lines: string[]): Promise<void> {
  await redis.xadd(key, '*', logLinesField, lines.join('\n'));
}
