import { execa, type ResultPromise } from 'execa';
import type { FarmHarness } from '@aoinb/farm-harness';
import { redisPid, withRedis } from './fault-checks.ts';

/** What makes a SIGKILLed Redis come back with every write it acknowledged: AOF, fsynced on each write. */
const persistence = ['--appendonly', 'yes', '--appendfsync', 'always'];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The farm's redis-server as an operator's, with its data on disk: killed with SIGKILL and started again on
 * the same port and data folder, from its append-only file. The harness's server runs without persistence
 * (tests that need none stay fast), so `enable` turns AOF on at run time, as `CONFIG SET` would on a
 * production server, and waits for the first rewrite to have written the data so far.
 */
export class RestartableRedis {
  private restarted: ResultPromise | undefined;

  private constructor(private readonly farm: FarmHarness) {}

  static async enable(farm: FarmHarness): Promise<RestartableRedis> {
    await withRedis(farm.redis.url, async (redis) => {
      await redis.config('SET', 'appendonly', 'yes');
      await redis.config('SET', 'appendfsync', 'always');
    });
    const written = async (): Promise<boolean> => {
      const info = await withRedis(farm.redis.url, (redis) => redis.info('persistence'));
      return (
        /aof_enabled:1/.test(info) && /aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)
      );
    };
    await farm.waitFor(written, 30_000, 'Redis to write its first append-only file');
    return new RestartableRedis(farm);
  }

  /** SIGKILLs the running server and waits until it is gone (its port closed). */
  async kill(): Promise<void> {
    const pid = await redisPid(this.farm.redis.url);
    process.kill(pid, 'SIGKILL');
    await this.farm.waitFor(async () => !alive(pid), 10_000, `redis-server ${pid} to die`);
  }

  /** Starts redis-server again on the same port and folder, and waits until it answers as itself. */
  async start(): Promise<void> {
    const { port, dir } = this.farm.redis;
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persistence];
    const child = execa('redis-server', [...args, '--daemonize', 'no'], { reject: false, stdin: 'ignore', all: true });
    this.restarted = child;
    // Its log joins the farm's (as `redis-server (2)`), for a failed test's report.
    this.farm.logs.follow('redis-server', child.all);
    // Itself, not another test's server that took the port while ours was down (then ours exits at once).
    const answers = async (): Promise<boolean> => {
      if (child.exitCode !== null) throw new Error(`redis-server did not start again: ${String((await child).all)}`);
      return (await redisPid(this.farm.redis.url).catch(() => 0)) === child.pid;
    };
    await this.farm.waitFor(answers, 30_000, 'redis-server to answer again');
  }

  /** Stops the server this started (the harness stops its own). */
  async stop(): Promise<void> {
    this.restarted?.kill('SIGKILL');
    await this.restarted;
  }
}
