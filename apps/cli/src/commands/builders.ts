import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { farmClient } from '../farm/farm-env.ts';
import { formatBytes } from '../format.ts';
import { renderTable } from '../farm/status-table.ts';

interface BuilderView {
  id: string;
  state: string;
  hostname: string | null;
  arch_tags: string[];
  slots: number | null;
  current_tasks: Array<{ task_id: string; arch: string }>;
  cores: number | null;
  memory_total_bytes: number | null;
  disk_free_bytes: number | null;
  load: number[] | null;
  last_heartbeat: string | null;
}

export const buildersCommand: Command = {
  name: 'builders',
  usage: 'aoinb builders [--json] [--url URL]',
  summary: 'the build hosts: arch tags, state, current tasks, resources',
  async run(args, env) {
    const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false }, url: { type: 'string' } } });
    const client = await farmClient(env, values.url);
    const body = await client.json<{ builders: BuilderView[] }>('GET', '/builder/status', undefined, env.signal);
    if (values.json) {
      env.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
      return 0;
    }
    const rows = [['BUILDER', 'STATE', 'ARCHS', 'SLOTS', 'TASKS', 'CORES', 'MEMORY', 'DISK FREE', 'LOAD', 'LAST HEARTBEAT']];
    for (const b of body.builders) {
      rows.push([
        b.id,
        b.state,
        b.arch_tags.join(','),
        String(b.slots ?? ''),
        b.current_tasks.map((t) => `${t.task_id}/${t.arch}`).join(' '),
        String(b.cores ?? ''),
        b.memory_total_bytes ? formatBytes(b.memory_total_bytes) : '',
        b.disk_free_bytes ? formatBytes(b.disk_free_bytes) : '',
        b.load ? b.load.map((l) => l.toFixed(2)).join(' ') : '',
        b.last_heartbeat ?? '',
      ]);
    }
    env.stdout.write(`${renderTable(rows)}\n`);
    return 0;
  },
};
