import { updateBaseos } from '@aoinb/buildroot';
import type { Command } from '../command.ts';
import { hostContext } from '../host-context.ts';

export const updateBaseosCommand: Command = {
  name: 'update-baseos',
  usage: 'aoinb update-baseos',
  summary: 'apt update, full-upgrade and clean the base OS (instances are reset)',
  async run(_args, env) {
    const ctx = await hostContext(env);
    await updateBaseos(ctx, { signal: env.signal, onLine: (line) => env.stdout.write(`${line}\n`) });
    env.stdout.write('base OS updated; instances will be recreated on their next build\n');
    return 0;
  },
};
