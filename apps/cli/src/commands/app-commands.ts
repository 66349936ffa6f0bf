import type { Command } from '../command.ts';
import { startApp, stopChild } from '../farm/app-process.ts';

/** `aoinb worker` / `aoinb coordinator`: the app as a child, stopped with us. */
function appCommand(app: 'worker' | 'coordinator', summary: string, extraUsage: string): Command {
  return {
    name: app,
    usage: `aoinb ${app} [-c CONFIG_DIR]${extraUsage}`,
    summary,
    async run(args, env) {
      const child = startApp(app, ['-c', env.configDir, ...args]);
      const stop = () => void stopChild(child, 120_000);
      env.signal.addEventListener('abort', stop, { once: true });
      const result = await child;
      env.signal.removeEventListener('abort', stop);
      return result.exitCode ?? 1;
    },
  };
}

export const workerCommand = appCommand('worker', 'run a build-host worker agent for this host\'s arch tags', ' [--on-shutdown requeue|finish]');
export const coordinatorCommand = appCommand('coordinator', 'run the coordinator API', '');
