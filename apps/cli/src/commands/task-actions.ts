import { parseArgs } from 'node:util';
import { AoinbError } from '@aoinb/errors';
import type { Command } from '../command.ts';
import { farmClient } from '../farm/farm-env.ts';

/** `cancel` and `retry`: one POST on a task, the new state printed. */
function taskAction(name: 'cancel' | 'retry', summary: string): Command {
  return {
    name,
    usage: `aoinb ${name} TASK_ID [--json] [--url URL]`,
    summary,
    async run(args, env) {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false }, url: { type: 'string' } } });
      if (positionals.length !== 1) throw new AoinbError('USAGE', `usage: ${this.usage}`);
      const client = await farmClient(env, values.url);
      const body = await client.json<{ id: string; state: string }>('POST', `/task/${encodeURIComponent(positionals[0]!)}/${name}`, undefined, env.signal);
      env.stdout.write(values.json ? `${JSON.stringify(body, null, 2)}\n` : `task ${body.id}: ${body.state}\n`);
      return 0;
    },
  };
}

export const cancelCommand = taskAction('cancel', 'cancel a task: queued jobs at once, running builds within seconds');
export const retryCommand = taskAction('retry', 'run the failed or cancelled archs of a task again');
