import { cleanup } from '@aoinb/buildroot';
import { AoinbError } from '@aoinb/errors';
import type { Command } from '../command.ts';
import { hostContext } from '../host-context.ts';

export const cleanupCommand: Command = {
  name: 'cleanup',
  usage: 'aoinb cleanup all|baseos|<instance>',
  summary: 'destroy every instance and the base OS, the base OS, or one instance',
  async run(args, env) {
    if (args.length !== 1) throw new AoinbError('USAGE', `usage: ${this.usage}`);
    const ctx = await hostContext(env);
    const destroyed = await cleanup(ctx, args[0]!, env.signal);
    env.stdout.write(destroyed.length > 0 ? `destroyed: ${destroyed.join(', ')}\n` : 'nothing to destroy\n');
    return 0;
  },
};
