import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { AoinbError } from '@aoinb/errors';
import { followLog, type FarmClient } from '@aoinb/farm-client';
import type { Command, CommandEnv } from '../command.ts';
import { farmClient, terminalStates, type TaskStatus } from '../farm/farm-env.ts';
import { renderTable, statusRows, tablePrinter } from '../farm/status-table.ts';
import { packForSubmit } from '../farm/submit-bundles.ts';

/** The seed's four calls: create, upload the bundle, set the branch, start. */
async function submitOne(client: FarmClient, tar: Buffer, branch: string, archs: string[] | undefined, signal: AbortSignal): Promise<string> {
  const { id } = await client.json<{ id: string }>('POST', '/task', {}, signal);
  await client.raw('PUT', `/task/${id}/build_bundle`, {
    body: tar,
    headers: { 'content-type': 'application/octet-stream', 'x-checksum-sha256': createHash('sha256').update(tar).digest('hex') },
    signal,
  });
  await client.raw('PUT', `/task/${id}/branch`, { body: branch, headers: { 'content-type': 'text/plain' }, signal });
  await client.json('PUT', `/task/${id}/build`, archs ? { archs } : {}, signal);
  return id;
}

async function statuses(client: FarmClient, ids: string[], signal: AbortSignal): Promise<TaskStatus[]> {
  return Promise.all(ids.map((id) => client.json<TaskStatus>('GET', `/task/${id}/status`, undefined, signal)));
}

/** Polls until every task has ended, showing the table as it goes. */
export async function watchTasks(client: FarmClient, ids: string[], env: CommandEnv, show: boolean): Promise<TaskStatus[]> {
  const print = tablePrinter(env.stdout);
  for (;;) {
    const current = await statuses(client, ids, env.signal);
    if (show) print(renderTable(statusRows(current)));
    if (current.every((t) => terminalStates.has(t.state))) return current;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

export const submitCommand: Command = {
  name: 'submit',
  usage: 'aoinb submit BUNDLE_DIR... | --tree ABBS_DIR PKG... --branch B [--arch A]... [--no-wait] [--json] [--url URL]',
  summary: 'submit bundles (folders, or packages of an ABBS tree by name or category/name) to the farm; follows the log of one, or a live table of many',
  async run(args, env) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        branch: { type: 'string' },
        tree: { type: 'string' },
        arch: { type: 'string', multiple: true },
        'no-wait': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        url: { type: 'string' },
      },
    });
    if (positionals.length === 0 || !values.branch) throw new AoinbError('USAGE', `usage: ${this.usage}`);
    const bundles = await packForSubmit(values.tree, positionals);
    const client = await farmClient(env, values.url);
    const ids: string[] = [];
    for (const bundle of bundles) {
      const id = await submitOne(client, bundle.archive, values.branch, values.arch, env.signal);
      ids.push(id);
      if (!values.json) env.stderr.write(`submitted ${bundle.label} as task ${id}\n`);
    }
    if (values['no-wait']) {
      env.stdout.write(values.json ? `${JSON.stringify(ids.map((id) => ({ id })))}\n` : `${ids.join('\n')}\n`);
      return 0;
    }
    if (ids.length === 1 && !values.json) {
      const end = await followLog(client, ids[0]!, { signal: env.signal, onLines: (lines) => env.stdout.write(`${lines.join('\n')}\n`) });
      env.stderr.write(`task ${ids[0]}: ${end.state}${end.reason ? ` (${end.reason})` : ''}\n`);
    }
    const final = await watchTasks(client, ids, env, !values.json);
    if (values.json) env.stdout.write(`${JSON.stringify(final, null, 2)}\n`);
    return final.every((t) => t.state === 'succeeded') ? 0 : 1;
  },
};
