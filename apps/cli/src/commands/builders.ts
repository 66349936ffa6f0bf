import type { BuilderList, BuilderView } from '@aoinb/farm-contract';
import type { Registration } from '../command.ts';
import { paintState } from '../colours.ts';
import { farmClient, farmOptions, printJson, type FarmOpts } from '../farm/farm-env.ts';
import { formatBytes } from '../format.ts';
import { renderTable } from '../farm/status-table.ts';

function builderRow(b: BuilderView): string[] {
  return [
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
  ];
}

export const registerBuilders: Registration = (program, runtime) => {
  farmOptions(
    program.command('builders').summary('the build hosts: arch tags, state, current tasks, resources'),
  ).action(
    runtime.action(async (env, opts: FarmOpts) => {
      const client = await farmClient(env, opts.url);
      const body = await client.json<BuilderList>('GET', '/builder/status', undefined, env.signal);
      if (opts.json) {
        printJson(env, body);
        return 0;
      }
      const rows = [
        ['BUILDER', 'STATE', 'ARCHS', 'SLOTS', 'TASKS', 'CORES', 'MEMORY', 'DISK FREE', 'LOAD', 'LAST HEARTBEAT'],
        ...body.builders.map(builderRow),
      ];
      env.stdout.write(`${renderTable(rows, (cell) => paintState(env.paint, cell))}\n`);
      return 0;
    }),
  );
};
