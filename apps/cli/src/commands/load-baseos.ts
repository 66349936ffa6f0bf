import { loadBaseos } from '@aoinb/buildroot';
import type { Command } from '../command.ts';
import { hostContext } from '../host-context.ts';
import { progressPrinter } from '../progress-bar.ts';

export const loadBaseosCommand: Command = {
  name: 'load-baseos',
  usage: 'aoinb load-baseos',
  summary: 'install the base OS from $work_dir/buildkit_<arch>.tar.{xz,gz,zst}, downloading it when absent',
  async run(_args, env) {
    const ctx = await hostContext(env);
    const { tarball, downloaded } = await loadBaseos(ctx, {
      signal: env.signal,
      onProgress: progressPrinter(env.stderr),
      onLine: (line) => env.stderr.write(`${line}\n`),
    });
    env.stdout.write(`base OS loaded from ${tarball}${downloaded ? ' (downloaded)' : ''}\n`);
    return 0;
  },
};
