import { once } from 'node:events';
import { loadConfig } from '@aoinb/config';
import { assertBaseosLoaded, workLayout } from '@aoinb/buildroot';
import { AoinbError } from '@aoinb/errors';
import type { ResultPromise } from 'execa';
import { colourWanted, palette } from '../colours.ts';
import type { CommandEnv } from '../command.ts';
import { startApp, stopChild } from './app-process.ts';
import { startEmbeddedRedis, writeSecretFile } from './embedded-redis.ts';
import { forwardLines, logLineFormatter, type LogFormat } from './log-lines.ts';

type Children = Array<{ name: string; child: ResultPromise }>;

/** Starts an app with its log (stderr) shown as `format` says; resolves its stdout lines to `onStdout`. */
function startLogged(
  app: 'coordinator' | 'worker',
  env: CommandEnv,
  format: LogFormat,
  childEnv: Record<string, string>,
  onStdout?: (line: string) => boolean,
): ResultPromise {
  const p = palette(colourWanted(env.stderr));
  const child = startApp(app, ['-c', env.configDir], { env: childEnv, stdout: 'pipe', stderr: 'pipe' });
  const show = logLineFormatter(format, app, p);
  void forwardLines(child.stderr!, env.stderr, show);
  void forwardLines(child.stdout!, env.stderr, show, onStdout);
  return child;
}

/** Resolves with the coordinator's URL once it says it listens. */
function coordinatorUrl(child: ResultPromise, claim: (handler: (line: string) => boolean) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    claim((line) => {
      try {
        const url = (JSON.parse(line) as { url?: string }).url;
        if (url) resolve(url);
        return Boolean(url);
      } catch {
        return false;
      }
    });
    void child.then(() =>
      reject(new AoinbError('UNAVAILABLE', 'the coordinator exited before it was listening (see its messages above)')),
    );
  });
}

async function startFarm(env: CommandEnv, children: Children, format: LogFormat): Promise<void> {
  const config = await loadConfig(env.configDir);
  await assertBaseosLoaded(workLayout(config.workDir));
  const workerToken = config.farm.worker.token ?? config.farm.tokens.find((t) => t.role === 'worker')?.token;
  if (!workerToken) {
    throw new AoinbError(
      'CONFIG_INVALID',
      `${env.configDir}/config.toml: farm up needs a [[tokens]] entry with role = "worker" (or [worker] ` +
        `token_file) for its local worker`,
    );
  }
  // Secrets reach the children as 0600 files they are told the paths of, never as values.
  const childEnv: Record<string, string> = {
    AOINB_WORKER_TOKEN_FILE: await writeSecretFile(config.workDir, 'worker.token', workerToken),
  };
  const p = env.paint;
  if (!config.farm.redis.url && !config.farm.redis.cluster) {
    const redis = await startEmbeddedRedis(config.workDir);
    children.push({ name: 'redis-server', child: redis.child });
    childEnv.AOINB_REDIS_URL = redis.url;
    childEnv.AOINB_REDIS_PASSWORD_FILE = redis.passwordFile;
    env.stdout.write(`${p.bold('redis:      ')} ${redis.url} (embedded, data in ${config.workDir}/farm/redis)\n`);
  }
  let urlLine: (line: string) => boolean = () => false;
  const coordinator = startLogged('coordinator', env, format, childEnv, (line) => urlLine(line));
  children.push({ name: 'coordinator', child: coordinator });
  const url = await coordinatorUrl(coordinator, (handler) => (urlLine = handler));
  env.stdout.write(`${p.bold('coordinator:')} ${p.cyan(url)} (API docs at ${url}/docs)\n`);
  children.push({ name: 'worker', child: startLogged('worker', env, format, childEnv) });
  env.stdout.write(
    `${p.bold('worker:     ')} ${config.farm.worker.id} for ${config.farm.worker.archs.join(', ')} ` +
      `(${config.farm.worker.slots} slot(s))\n`,
  );
  env.stdout.write(
    `${p.green('aoinb farm is up')}; submit with: aoinb -c ${env.configDir} submit BUNDLE_DIR --branch BRANCH. ` +
      `Ctrl-C stops it.\n`,
  );
}

/** `aoinb farm up`: runs until Ctrl-C or until one part stops. */
export async function farmUp(env: CommandEnv, format: LogFormat): Promise<number> {
  if (process.getuid?.() !== 0)
    throw new AoinbError('NOT_ROOT', 'farm up runs a build worker (OverlayFS, systemd-nspawn): run it as root');
  const children: Children = [];
  let status = 0;
  try {
    await startFarm(env, children, format);
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
}
