import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';
import type { Command, CommandEnv } from '../command.ts';

export interface WorkerRunOptions {
  configDir: string;
  /** Aborting sends SIGTERM: the worker stops taking jobs and hands back or finishes running ones (`worker.on_shutdown`). */
  signal: AbortSignal;
  /** Extra arguments for the worker (`--executor fake`, `--on-shutdown finish`, ...). */
  args?: string[];
  /** Where the worker's output goes; default: this process's. */
  stdio?: 'inherit' | 'ignore';
}

/**
 * Runs the worker agent from a config folder until the signal aborts; resolves
 * to its exit status. The agent lives in apps/worker, and apps never import each
 * other, so it runs as a child process (`node --import tsx <worker main>`) and
 * this function only starts it, forwards the stop signal and waits.
 */
export async function runWorkerProcess(options: WorkerRunOptions): Promise<number> {
  const main = fileURLToPath(import.meta.resolve('@aoinb/worker/main'));
  const loader = import.meta.resolve('tsx');
  const child = execa(process.execPath, ['--import', loader, main, '-c', options.configDir, ...(options.args ?? [])], {
    stdio: options.stdio ?? 'inherit',
    reject: false,
  });
  const stop = (): void => void child.kill('SIGTERM');
  options.signal.addEventListener('abort', stop, { once: true });
  try {
    const result = await child;
    if (result.exitCode === undefined && result.signal) return 128 + (result.signal === 'SIGINT' ? 2 : 15);
    return result.exitCode ?? 1;
  } finally {
    options.signal.removeEventListener('abort', stop);
  }
}

export const workerCommand: Command = {
  name: 'worker',
  usage: 'aoinb worker [--executor nspawn|fake] [--on-shutdown requeue|finish]',
  summary: 'run a build-host agent: take jobs for this host\'s arch tags from the farm',
  async run(args: string[], env: CommandEnv) {
    const allowed = new Set(['--executor', '--on-shutdown', '--fake-duration-ms', '--fake-lines']);
    for (let i = 0; i < args.length; i += 2) {
      if (!allowed.has(args[i]!) || args[i + 1] === undefined) throw new AoinbError('USAGE', `usage: ${this.usage}`);
    }
    return runWorkerProcess({ configDir: env.configDir, signal: env.signal, args });
  },
};
