import { farmKeys, type FarmKeys, type RedisClient } from '@aoinb/farm-protocol';

/** One `type=build` entry of `{aoinb}:events`: a build changed state. */
export interface BuildTransition {
  id: string;
  taskId: string;
  arch: string;
  state: string;
  from: string;
  /** Epoch ms of the change (the Lua script's clock). */
  atMs: number;
}

function fieldsOf(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
}

/**
 * Reads the farm's event stream from where it left off. The stream is
 * written by the state scripts in the same transaction as each change, so it
 * sees every transition, whichever path made it (report, cancel, reconcile,
 * stalled checker). It starts at the stream's end when created: counters begin
 * at zero with the coordinator, as Prometheus counters do.
 */
export class BuildEventReader {
  private cursor: string | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly batch = 1000,
    private readonly keys: FarmKeys = farmKeys,
  ) {}

  /** Remembers the stream's current end; later reads return only newer entries. */
  async start(): Promise<void> {
    if (this.cursor !== undefined) return;
    const last = (await this.redis.xrevrange(this.keys.events, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
    this.cursor = last[0]?.[0] ?? '0-0';
  }

  /** Every build transition since the last call (at most `limit`; the rest come next time). */
  async *read(limit = 50_000): AsyncGenerator<BuildTransition> {
    await this.start();
    let seen = 0;
    while (seen < limit) {
      const entries = (await this.redis.xrange(this.keys.events, `(${this.cursor}`, '+', 'COUNT', this.batch)) as Array<
        [string, string[]]
      >;
      for (const [id, flat] of entries) {
        seen += 1;
        const f = fieldsOf(flat);
        if (f.type === 'build' && f.taskId && f.arch && f.state) {
          yield {
            id,
            taskId: f.taskId,
            arch: f.arch,
            state: f.state,
            from: f.from ?? '',
            atMs: Date.parse(f.at ?? '') || Number(id.split('-')[0]),
          };
        }
        this.cursor = id;
      }
      if (entries.length < this.batch) return;
    }
  }
}
