import { Option, type Command } from 'commander';
import { shutdownModes } from '@aoinb/config';
import type { CliRuntime, Registration } from '../command.ts';

/** `aoinb worker` / `aoinb coordinator`: the app as a child, stopped with us; options passed on. */
function appAction(
  app: 'worker' | 'coordinator',
  runtime: CliRuntime,
  toArgs: (opts: Record<string, string | undefined>) => string[],
) {
  return runtime.action(async (env, opts: Record<string, string | undefined>) => {
    const { startApp, stopChild } = await import('../farm/app-process.ts');
    const child = startApp(app, ['-c', env.configDir, ...toArgs(opts)]);
    const stop = () => void stopChild(child, 120_000);
    env.signal.addEventListener('abort', stop, { once: true });
    const result = await child;
    env.signal.removeEventListener('abort', stop);
    return result.exitCode ?? 1;
  });
}

function passOn(opts: Record<string, string | undefined>, names: Record<string, string>): string[] {
  return Object.entries(names).flatMap(([key, flag]) => (opts[key] === undefined ? [] : [flag, opts[key]]));
}

function addWorker(program: Command, runtime: CliRuntime): void {
  program
    .command('worker')
    .summary("run a build-host worker agent for this host's arch tags")
    .description(
      'Run a worker agent: it pulls build jobs for [worker] archs from the farm and builds them here (root). ' +
        'SIGTERM or Ctrl-C stops it as --on-shutdown says.',
    )
    .addOption(
      new Option('--on-shutdown <mode>', 'on SIGTERM, requeue running builds or finish them').choices(shutdownModes),
    )
    .action(appAction('worker', runtime, (opts) => passOn(opts, { onShutdown: '--on-shutdown' })));
}

export const registerAppCommands: Registration = (program, runtime) => {
  addWorker(program, runtime);
  program
    .command('coordinator')
    .summary('run the coordinator API')
    .description(
      'Run the coordinator: the REST API ([coordinator] listen), the job queues in Redis and the package repositories.',
    )
    .action(appAction('coordinator', runtime, () => []));
};
