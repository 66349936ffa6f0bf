import { Option } from 'commander';
import type { CommandEnv, Registration } from '../command.ts';
import { paintState } from '../colours.ts';
import { farmClient, farmOptions, printJson, type FarmOpts } from '../farm/farm-env.ts';
import type { FarmClient } from '@aoinb/farm-client';
import type { TaskList, TaskStatus } from '@aoinb/farm-contract';
import { renderTable, statusRows } from '../farm/status-table.ts';

interface StatusOpts extends FarmOpts {
  state?: string;
  branch?: string;
  arch?: string;
}

/**
 * A script can test a task with `aoinb status ID`: 0 while it
 * builds or once it succeeded, 1 when it failed or was cancelled.
 */
export function statusExit(state: string): number {
  return state === 'failed' || state === 'cancelled' ? 1 : 0;
}

/** One task's jobs, builders and artifacts; the exit status says how it went (statusExit). */
async function showTask(env: CommandEnv, client: FarmClient, task: string, opts: StatusOpts): Promise<number> {
  const status = await client.json<TaskStatus>(
    'GET',
    `/task/${encodeURIComponent(task)}/status`,
    undefined,
    env.signal,
  );
  if (opts.json) printJson(env, status);
  else env.stdout.write(`${renderTable(statusRows([status]), (cell) => paintState(env.paint, cell))}\n`);
  return statusExit(status.state);
}

/** The newest tasks, filtered by state, branch and arch. */
async function listTasks(env: CommandEnv, client: FarmClient, opts: StatusOpts): Promise<number> {
  const query = new URLSearchParams();
  for (const key of ['state', 'branch', 'arch'] as const) if (opts[key]) query.set(key, opts[key]);
  const list = await client.json<TaskList>('GET', `/task${query.size ? `?${query}` : ''}`, undefined, env.signal);
  if (opts.json) {
    printJson(env, list);
    return 0;
  }
  const rows = [['TASK', 'STATE', 'BRANCH', 'PACKAGE', 'ARCHS', 'CREATED']];
  for (const t of list.tasks)
    rows.push([
      t.id,
      t.state,
      t.branch ?? '',
      t.package ? `${t.package.name} ${t.package.version}` : '',
      t.archs.join(','),
      t.created_at,
    ]);
  env.stdout.write(`${renderTable(rows, (cell) => paintState(env.paint, cell))}\n`);
  return 0;
}

export const registerStatus: Registration = (program, runtime) => {
  farmOptions(
    program
      .command('status')
      .summary("a task's status (jobs, builders, artifacts), or the list of tasks")
      .description(
        "With TASK: the task's jobs, builders and artifacts; exits 1 when the task failed or was cancelled, " +
          'else 0. Without: the newest tasks, filtered by --state, --branch, --arch.',
      )
      .argument('[task]', 'task id')
      .addOption(
        new Option('--state <state>', 'list only tasks in this state').choices([
          'created',
          'queued',
          'running',
          'succeeded',
          'failed',
          'cancelled',
        ]),
      )
      .option('--branch <branch>', 'list only tasks of this branch')
      .option('--arch <arch>', 'list only tasks building for this arch'),
  ).action(
    runtime.action(async (env, task: string | undefined, opts: StatusOpts) => {
      const client = await farmClient(env, opts.url);
      return task ? showTask(env, client, task, opts) : listTasks(env, client, opts);
    }),
  );
};
