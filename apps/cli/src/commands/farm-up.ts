import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { loadConfig } from '@aoinb/config';
import { assertBaseosLoaded, workLayout } from '@aoinb/buildroot';
import { AoinbError } from '@aoinb/errors';
import type { ResultPromise } from 'execa';
import type { Command, CommandEnv } from '../command.ts';
import { startApp, stopChild } from '../farm/app-process.ts';
import { startEmbeddedRedis, writeSecretFile } from '../farm/embedded-redis.ts';

/** Resolves with the coordinator's URL once it says it listens. */
async function coordinatorUrl(child: ResultPromise): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    try {
      const url = (JSON.parse(line) as { url?: string }).url;
      if (url) return url;
    } catch {
      // not the announcement line
    }
  }
  throw new AoinbError('UNAVAILABLE', 'the coordinator exited before it was listening (see its messages above)');
}

async function startFarm(env: CommandEnv, children: Array<{ name: string; child: ResultPromise }>): Promise<void> {
  const config = await loadConfig(env.configDir);
  await assertBaseosLoaded(workLayout(config.workDir));
  const workerToken = config.farm.worker.token ?? config.farm.tokens.find((t) => t.role === 'worker')?.token;
  if (!workerToken) {
    throw new AoinbError('CONFIG_INVALID', `${env.configDir}/config.toml: farm up needs a [[tokens]] entry with role = "worker" (or [worker] token_file) for its local worker`);
  }
  // Secrets reach the children as 0600 files they are told the paths of, never as values.
  const childEnv: Record<string, string> = { AOINB_WORKER_TOKEN_FILE: await writeSecretFile(config.workDir, 'worker.token', workerToken) };
  if (!config.farm.redis.url) {
    const redis = await startEmbeddedRedis(config.workDir);
    children.push({ name: 'redis-server', child: redis.child });
    childEnv.AOINB_REDIS_URL = redis.url;
    childEnv.AOINB_REDIS_PASSWORD_FILE = redis.passwordFile;
    env.stdout.write(`redis:       ${redis.url} (embedded, data in ${config.workDir}/farm/redis)\n`);
  }
  const coordinator = startApp('coordinator', ['-c', env.configDir], { env: childEnv, stdout: 'pipe' });
  children.push({ name: 'coordinator', child: coordinator });
  const url = await coordinatorUrl(coordinator);
  env.stdout.write(`coordinator: ${url} (API docs at ${url}/docs)\n`);
  children.push({ name: 'worker', child: startApp('worker', ['-c', env.configDir], { env: childEnv }) });
  env.stdout.write(`worker:      ${config.farm.worker.id} for ${config.farm.worker.archs.join(', ')} (${config.farm.worker.slots} slot(s))\n`);
  env.stdout.write(`aoinb farm is up; submit with: aoinb -c ${env.configDir} submit BUNDLE_DIR --branch BRANCH. Ctrl-C stops it.\n`);
}

export const farmUpCommand: Command = {
  name: 'farm',
  usage: 'aoinb farm up [-c CONFIG_DIR]',
  summary: 'farm up: run Redis (embedded unless [redis] url is set), the coordinator and a local worker',
  async run(args, env) {
    if (args[0] !== 'up' || args.length !== 1) throw new AoinbError('USAGE', `usage: ${this.usage}`);
    if (process.getuid?.() !== 0) throw new AoinbError('NOT_ROOT', 'farm up runs a build worker (OverlayFS, systemd-nspawn): run it as root');
    const children: Array<{ name: string; child: ResultPromise }> = [];
    let status = 0;
    try {
      await startFarm(env, children);
      // Runs until Ctrl-C, or until one part stops on its own (then everything stops).
      const exited = Promise.race(children.map(async ({ name, child }) => (await child.catch(() => child), name)));
      const stopped = once(env.signal, 'abort').then(() => undefined);
      const which = await Promise.race([exited, stopped]);
      if (which) {
        env.stderr.write(`aoinb: ${which} stopped unexpectedly; stopping the farm\n`);
        status = 1;
      }
    } finally {
      // Workers first (they hand running builds back), then the API, then Redis.
      for (const { child } of [...children].reverse()) await stopChild(child, 120_000);
    }
    return status;
  },
};
