import type { GroupList, GroupStatus } from '@aoinb/farm-contract';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { AoinbError } from '@aoinb/errors';
import type { FarmClient } from '@aoinb/farm-client';
import type { CliRuntime, CommandEnv, Registration } from '../command.ts';
import { paintState } from '../colours.ts';
import { farmClient, farmOptions, printJson } from '../farm/farm-env.ts';
import { finalGroupStates, groupHeadline, groupRows } from '../farm/group-table.ts';
import { renderTable, tablePrinter } from '../farm/status-table.ts';

async function fetchStatus(client: FarmClient, id: string, signal: AbortSignal): Promise<GroupStatus> {
  return client.json<GroupStatus>('GET', `/group/${encodeURIComponent(id)}/status`, undefined, signal);
}

/** Polls the group until it ends, redrawing the member table; exit status 0 only when it succeeded. */
async function watchGroup(client: FarmClient, id: string, env: CommandEnv, json: boolean): Promise<number> {
  const print = tablePrinter(env.stdout);
  for (;;) {
    const status = await fetchStatus(client, id, env.signal);
    if (!json)
      print(`${groupHeadline(status)}\n${renderTable(groupRows(status), (cell) => paintState(env.paint, cell))}`);
    if (finalGroupStates.has(status.state)) {
      if (json) env.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      return status.state === 'succeeded' ? 0 : 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function listGroups(
  client: FarmClient,
  env: CommandEnv,
  state: string | undefined,
  json: boolean,
): Promise<number> {
  const list = await client.json<GroupList>(
    'GET',
    `/group${state ? `?state=${encodeURIComponent(state)}` : ''}`,
    undefined,
    env.signal,
  );
  if (json) {
    env.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    return 0;
  }
  const rows = [['GROUP', 'STATE', 'BRANCH', 'MODE', 'PUBLISH', 'TASKS', 'CREATED']];
  for (const g of list.groups)
    rows.push([g.id, g.state, g.branch, g.mode, g.publish, String(g.tasks.length), g.created_at]);
  env.stdout.write(`${renderTable(rows, (cell) => paintState(env.paint, cell))}\n`);
  return 0;
}

interface GroupOpts {
  tree?: string;
  branch?: string;
  mode: 'dag' | 'sequential';
  publish: 'each' | 'atomic';
  arch?: string[];
  network?: boolean;
  state?: string;
  wait: boolean;
  json?: boolean;
  url?: string;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** The group's own options: also read by its sub-commands (commander hands them to the parent). */
function groupOpts(command: Command): GroupOpts {
  return command.optsWithGlobals<GroupOpts>();
}

async function submitAndWatch(env: CommandEnv, group: string, opts: GroupOpts): Promise<number> {
  if (!opts.tree || !opts.branch)
    throw new AoinbError(
      'USAGE',
      'aoinb group groups/NAME needs --tree ABBS_DIR and --branch BRANCH (see aoinb group --help)',
    );
  const client = await farmClient(env, opts.url);
  const { submitGroup } = await import('../farm/group-submit.ts');
  const submitted = await submitGroup(client, {
    tree: path.resolve(opts.tree),
    group,
    branch: opts.branch,
    archs: opts.arch ?? [],
    mode: opts.mode,
    publish: opts.publish,
    network: opts.network === true,
    signal: env.signal,
    onProgress: (line) => opts.json || env.stderr.write(`${line}\n`),
  });
  if (!opts.json) env.stderr.write(`submitted ${group} as group ${submitted.id} (${submitted.tasks.length} tasks)\n`);
  if (!opts.wait) {
    if (opts.json) printJson(env, submitted);
    else env.stdout.write(`${submitted.id}\n`);
    return 0;
  }
  return watchGroup(client, submitted.id, env, opts.json === true);
}

/** `group status ID`: the member table; exits 1 when the group ended other than succeeded. */
function addStatusAction(group: Command, runtime: CliRuntime): void {
  group
    .command('status')
    .summary("a group's member table")
    .argument('<id>', 'group id')
    .action(
      runtime.action(async (env, id: string, _o: unknown, command: Command) => {
        const opts = groupOpts(command);
        const client = await farmClient(env, opts.url);
        const status = await fetchStatus(client, id, env.signal);
        if (opts.json) printJson(env, status);
        else
          env.stdout.write(
            `${groupHeadline(status)}\n${renderTable(groupRows(status), (cell) => paintState(env.paint, cell))}\n`,
          );
        return finalGroupStates.has(status.state) && status.state !== 'succeeded' ? 1 : 0;
      }),
    );
}

/** `group cancel|retry|delete ID` (retry with --wait watches the new round). */
function addChangeActions(group: Command, runtime: CliRuntime): void {
  const summaries = {
    cancel: 'cancel every member that has not ended',
    retry: 'build the failed, cancelled and skipped members again (a new round), then watch',
    delete: 'delete a finished group with its member tasks, logs and repository (admin)',
  };
  for (const action of ['cancel', 'retry', 'delete'] as const) {
    group
      .command(action)
      .summary(summaries[action])
      .argument('<id>', 'group id')
      .action(
        runtime.action(async (env, id: string, _o: unknown, command: Command) => {
          const opts = groupOpts(command);
          const client = await farmClient(env, opts.url);
          const answer = await client.json<{ id: string; state: string }>(
            action === 'delete' ? 'DELETE' : 'POST',
            `/group/${encodeURIComponent(id)}${action === 'delete' ? '' : `/${action}`}`,
            undefined,
            env.signal,
          );
          if (action === 'retry' && opts.wait) return watchGroup(client, id, env, opts.json === true);
          if (opts.json) printJson(env, answer);
          else env.stdout.write(`group ${answer.id}: ${paintState(env.paint, answer.state)}\n`);
          return 0;
        }),
      );
  }
}

/** `group list`: the groups, newest first. */
function addListAction(group: Command, runtime: CliRuntime): void {
  group
    .command('list')
    .summary('the groups, newest first')
    .action(
      runtime.action(async (env, _o: unknown, command: Command) => {
        const opts = groupOpts(command);
        return listGroups(await farmClient(env, opts.url), env, opts.state, opts.json === true);
      }),
    );
}

function addGroupActions(group: Command, runtime: CliRuntime): void {
  addStatusAction(group, runtime);
  addChangeActions(group, runtime);
  addListAction(group, runtime);
}

export const registerGroup: Registration = (program, runtime) => {
  const group = farmOptions(
    program
      .command('group')
      .summary('build an ABBS tree group over the farm as a dependency DAG; group status, list, cancel, retry, delete')
      .description(
        'aoinb group groups/NAME --tree ABBS_DIR --branch B: submit every member of an ABBS group file and ' +
          'build them in dependency order, with a live member table; exits 0 only when the group succeeded.\n' +
          'The sub-commands look at groups already submitted (their options are the ones listed here).',
      )
      .argument('[group]', 'the group file, groups/NAME')
      .option('--tree <abbs_dir>', 'the ABBS tree holding groups/ and the packages')
      .option('--branch <branch>', 'branch to build for')
      .addOption(
        new Option('--mode <mode>', 'dag: by dependencies; sequential: one after another')
          .choices(['dag', 'sequential'])
          .default('dag'),
      )
      .addOption(
        new Option('--publish <when>', 'each: publish each member as it succeeds; atomic: all together at the end')
          .choices(['each', 'atomic'])
          .default('each'),
      )
      .option('--arch <arch>', 'build for this arch (repeatable; reads groups/NAME.<arch> too)', collect)
      .option(
        '--network',
        "every member's builds get HTTP(S) through the worker's checked proxy (network_builds must allow it)",
      )
      .option('--state <state>', 'group list: only groups in this state')
      .option('--no-wait', 'print the group id and return at once'),
  );
  group.action(
    runtime.action(async (env, name: string | undefined, opts: GroupOpts, command: Command) => {
      if (!name) {
        command.help({ error: true });
      }
      return submitAndWatch(env, name, opts);
    }),
  );
  addGroupActions(group, runtime);
};
