import { parseArgs } from 'node:util';
import { AoinbError } from '@aoinb/errors';
import type { Command } from '../command.ts';
import { farmClient } from '../farm/farm-env.ts';

interface TestAnswer {
  delivery: string;
  results: Array<{ webhook: string; format: string; ok: boolean; status: number; attempts: number; error?: string }>;
}

/** `aoinb notify test`: the coordinator sends a test message to its [[notify.webhook]] receivers (it holds their secrets). */
export const notifyCommand: Command = {
  name: 'notify',
  usage: 'aoinb notify test [--webhook NAME] [--json] [--url URL]',
  summary: 'send a test message to the coordinator\'s webhooks and show what each answered',
  async run(args, env) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { webhook: { type: 'string' }, json: { type: 'boolean', default: false }, url: { type: 'string' } } });
    if (positionals[0] !== 'test' || positionals.length > 1) throw new AoinbError('USAGE', `usage: ${notifyCommand.usage}`);
    const client = await farmClient(env, values.url);
    const body = await client.json<TestAnswer>('POST', '/notify/test', values.webhook ? { webhook: values.webhook } : {}, env.signal);
    if (values.json) env.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    else {
      for (const r of body.results) {
        env.stdout.write(`${r.webhook} (${r.format}): ${r.ok ? `delivered (HTTP ${r.status})` : `NOT delivered: ${r.error ?? `HTTP ${r.status}`}`}\n`);
      }
    }
    return body.results.every((r) => r.ok) ? 0 : 1;
  },
};
