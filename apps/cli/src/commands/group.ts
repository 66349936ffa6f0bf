import path from 'node:path';
import { parseArgs } from 'node:util';
import { AoinbError } from '@aoinb/errors';
import type { FarmClient } from '@aoinb/farm-client';
import type { Command, CommandEnv } from '../command.ts';
import { farmClient } from '../farm/farm-env.ts';
import { submitGroup } from '../farm/group-submit.ts';
import { finalGroupStates, groupHeadline, groupRows, type GroupStatusView } from '../farm/group-table.ts';
import { renderTable, tablePrinter } from '../farm/status-table.ts';

const usage = [
  'aoinb group --tree ABBS_DIR groups/NAME --branch B [--mode dag|sequential] [--publish each|atomic] [--arch A]... [--no-wait] [--json] [--url URL]',
  '       aoinb group status|cancel|retry ID [--json] [--url URL]',
  '       aoinb group list [--state S] [--json] [--url URL]',
].join('\n');

const options = {
  tree: { type: 'string' },
  branch: { type: 'string' },
  mode: { type: 'string', default: 'dag' },
  publish: { type: 'string', default: 'each' },
  arch: { type: 'string', multiple: true },
  state: { type: 'string' },
  'no-wait': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  url: { type: 'string' },
} as const;

async function fetchStatus(client: FarmClient, id: string, signal: AbortSignal): Promise<GroupStatusView> {
  return client.json<GroupStatusView>('GET', `/group/${encodeURIComponent(id)}/status`, undefined, signal);
}

/** Polls the group until it ends, redrawing the member table; exit status 0 only when it succeeded. */
async function watchGroup(client: FarmClient, id: string, env: CommandEnv, json: boolean): Promise<number> {
  const print = tablePrinter(env.stdout);
  for (;;) {
    const status = await fetchStatus(client, id, env.signal);
    if (!json) print(`${groupHeadline(status)}\n${renderTable(groupRows(status))}`);
    if (finalGroupStates.has(status.state)) {
      if (json) env.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      return status.state === 'succeeded' ? 0 : 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function listGroups(client: FarmClient, env: CommandEnv, state: string | undefined, json: boolean): Promise<number> {
  const list = await client.json<{ groups: Array<{ id: string; state: string; branch: string; mode: string; publish: string; tasks: string[]; created_at: string }> }>('GET', `/group${state ? `?state=${encodeURIComponent(state)}` : ''}`, undefined, env.signal);
  if (json) {
    env.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    return 0;
  }
  const rows = [['GROUP', 'STATE', 'BRANCH', 'MODE', 'PUBLISH', 'TASKS', 'CREATED']];
  for (const g of list.groups) rows.push([g.id, g.state, g.branch, g.mode, g.publish, String(g.tasks.length), g.created_at]);
  env.stdout.write(`${renderTable(rows)}\n`);
  return 0;
}

/** `status`, `cancel`, `retry` and `list` on an existing group. */
async function groupAction(action: string, id: string | undefined, values: { json: boolean; 'no-wait': boolean; state?: string }, client: FarmClient, env: CommandEnv): Promise<number> {
  if (action === 'list') return listGroups(client, env, values.state, values.json);
  if (!id) throw new AoinbError('USAGE', `usage: ${usage}`);
  if (action === 'status') {
    const status = await fetchStatus(client, id, env.signal);
    env.stdout.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : `${groupHeadline(status)}\n${renderTable(groupRows(status))}\n`);
    return 0;
  }
  const answer = await client.json<{ id: string; state: string; round?: number }>('POST', `/group/${encodeURIComponent(id)}/${action}`, undefined, env.signal);
  if (action === 'retry' && !values['no-wait']) return watchGroup(client, id, env, values.json);
  env.stdout.write(values.json ? `${JSON.stringify(answer, null, 2)}\n` : `group ${answer.id}: ${answer.state}\n`);
  return 0;
}

export const groupCommand: Command = {
  name: 'group',
  usage,
  summary: 'build an ABBS tree group (groups/NAME) as a dependency DAG over the farm, with a live member table; group status, list, cancel, retry',
  async run(args, env) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options });
    const client = await farmClient(env, values.url);
    const [first, second] = positionals;
    if (first && ['status', 'cancel', 'retry', 'list'].includes(first)) return groupAction(first, second, values, client, env);
    if (!first || positionals.length !== 1 || !values.tree || !values.branch) throw new AoinbError('USAGE', `usage: ${usage}`);
    if (values.mode !== 'dag' && values.mode !== 'sequential') throw new AoinbError('USAGE', `--mode is dag or sequential, got ${values.mode}`);
    if (values.publish !== 'each' && values.publish !== 'atomic') throw new AoinbError('USAGE', `--publish is each or atomic, got ${values.publish}`);
    const submitted = await submitGroup(client, {
      tree: path.resolve(values.tree),
      group: first,
      branch: values.branch,
      archs: values.arch ?? [],
      mode: values.mode,
      publish: values.publish,
      signal: env.signal,
      onProgress: (line) => values.json || env.stderr.write(`${line}\n`),
    });
    if (!values.json) env.stderr.write(`submitted ${first} as group ${submitted.id} (${submitted.tasks.length} tasks)\n`);
    if (values['no-wait']) {
      env.stdout.write(values.json ? `${JSON.stringify(submitted, null, 2)}\n` : `${submitted.id}\n`);
      return 0;
    }
    return watchGroup(client, submitted.id, env, values.json);
  },
};
