import { parseArgs } from 'node:util';
import { AoinbError } from '@aoinb/errors';
import { followLog } from '@aoinb/farm-client';
import type { Command } from '../command.ts';
import { farmClient } from '../farm/farm-env.ts';

export const logsCommand: Command = {
  name: 'logs',
  usage: 'aoinb logs TASK_ID [-f] [--arch A] [--url URL]',
  summary: "a task's build log; -f follows it live until the build ends",
  async run(args, env) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { follow: { type: 'boolean', short: 'f', default: false }, arch: { type: 'string' }, url: { type: 'string' } },
    });
    if (positionals.length !== 1) throw new AoinbError('USAGE', `usage: ${this.usage}`);
    const id = encodeURIComponent(positionals[0]!);
    const client = await farmClient(env, values.url);
    if (values.follow) {
      const end = await followLog(client, id, { arch: values.arch, signal: env.signal, onLines: (lines) => env.stdout.write(`${lines.join('\n')}\n`) });
      env.stderr.write(`task ${positionals[0]}: ${end.state}${end.reason ? ` (${end.reason})` : ''}\n`);
      return end.state === 'succeeded' ? 0 : 1;
    }
    const response = await client.raw('GET', `/task/${id}/log${values.arch ? `?arch=${encodeURIComponent(values.arch)}` : ''}`, { signal: env.signal });
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) env.stdout.write(chunk);
    return 0;
  },
};
