import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { farmClient, type TaskStatus } from '../farm/farm-env.ts';
import { renderTable, statusRows } from '../farm/status-table.ts';

interface TaskList {
  tasks: Array<{ id: string; state: string; branch: string | null; package: { name: string; version: string } | null; archs: string[]; created_at: string }>;
  next: string | null;
}

export const statusCommand: Command = {
  name: 'status',
  usage: 'aoinb status [TASK_ID] [--state S] [--branch B] [--arch A] [--json] [--url URL]',
  summary: "a task's status (jobs, builders, artifacts), or the list of tasks",
  async run(args, env) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { state: { type: 'string' }, branch: { type: 'string' }, arch: { type: 'string' }, json: { type: 'boolean', default: false }, url: { type: 'string' } },
    });
    const client = await farmClient(env, values.url);
    if (positionals[0]) {
      const status = await client.json<TaskStatus>('GET', `/task/${encodeURIComponent(positionals[0])}/status`, undefined, env.signal);
      env.stdout.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : `${renderTable(statusRows([status]))}\n`);
      return 0;
    }
    const query = new URLSearchParams();
    for (const key of ['state', 'branch', 'arch'] as const) if (values[key]) query.set(key, values[key]!);
    const list = await client.json<TaskList>('GET', `/task${query.size ? `?${query}` : ''}`, undefined, env.signal);
    if (values.json) {
      env.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      return 0;
    }
    const rows = [['TASK', 'STATE', 'BRANCH', 'PACKAGE', 'ARCHS', 'CREATED']];
    for (const t of list.tasks) rows.push([t.id, t.state, t.branch ?? '', t.package ? `${t.package.name} ${t.package.version}` : '', t.archs.join(','), t.created_at]);
    env.stdout.write(`${renderTable(rows)}\n`);
    return 0;
  },
};
