import { AoinbError } from '@aoinb/errors';
import { followLog, type FarmClient } from '@aoinb/farm-client';
import type { CommandEnv, Registration } from '../command.ts';
import { paintState } from '../colours.ts';
import { farmClient, farmOptions, printJson, terminalStates, type FarmOpts } from '../farm/farm-env.ts';
import { renderTable, statusRows, tablePrinter } from '../farm/status-table.ts';
import { uploadBundle } from '../farm/upload-bundle.ts';
import type { CreateTaskReply, TaskStatus } from '@aoinb/farm-contract';

/**
 * The seed's four calls: create, upload the bundle, set the branch, start. When a
 * step after the create fails (a bad branch, a refused bundle), the task is deleted
 * again, so a failed submit leaves no task behind in `created`.
 */
async function submitOne(
  client: FarmClient,
  tar: Buffer,
  branch: string,
  build: { archs?: string[]; network?: boolean },
  signal: AbortSignal,
): Promise<string> {
  const { id } = await client.json<CreateTaskReply>('POST', '/task', {}, signal);
  try {
    await uploadBundle(client, id, tar, signal);
    await client.raw('PUT', `/task/${id}/branch`, { body: branch, headers: { 'content-type': 'text/plain' }, signal });
    await client.json('PUT', `/task/${id}/build`, build, signal);
  } catch (error) {
    // Best effort: the error the user needs is the one that stopped the submit.
    await client.raw('DELETE', `/task/${id}`).catch(() => undefined);
    throw error;
  }
  return id;
}

async function statuses(client: FarmClient, ids: string[], signal: AbortSignal): Promise<TaskStatus[]> {
  return Promise.all(ids.map((id) => client.json<TaskStatus>('GET', `/task/${id}/status`, undefined, signal)));
}

/** Polls until every task has ended, showing the table as it goes. */
export async function watchTasks(
  client: FarmClient,
  ids: string[],
  env: CommandEnv,
  show: boolean,
): Promise<TaskStatus[]> {
  const print = tablePrinter(env.stdout);
  for (;;) {
    const current = await statuses(client, ids, env.signal);
    if (show) print(renderTable(statusRows(current), (cell) => paintState(env.paint, cell)));
    if (current.every((t) => terminalStates.has(t.state))) return current;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

interface SubmitOpts extends FarmOpts {
  branch?: string;
  tree?: string;
  arch?: string[];
  network?: boolean;
  wait: boolean;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

async function submitBundles(env: CommandEnv, args: string[], opts: SubmitOpts): Promise<number> {
  // Checked here, not as a commander required option, so that a mistyped flag gets its suggestion first.
  const branch = opts.branch;
  if (!branch) throw new AoinbError('USAGE', 'submit needs --branch BRANCH (see aoinb submit --help)');
  const client = await farmClient(env, opts.url);
  // Every bundle is packed (and so checked) before the first task is created.
  const { packForSubmit } = await import('../farm/submit-bundles.ts');
  const bundles = await packForSubmit(opts.tree, args);
  const ids: string[] = [];
  for (const bundle of bundles) {
    const build = { ...(opts.arch ? { archs: opts.arch } : {}), ...(opts.network ? { network: true } : {}) };
    const id = await submitOne(client, bundle.archive, branch, build, env.signal);
    ids.push(id);
    if (!opts.json) env.stderr.write(`submitted ${bundle.label} as task ${id}\n`);
  }
  if (!opts.wait) {
    if (opts.json)
      printJson(
        env,
        ids.map((id) => ({ id })),
      );
    else env.stdout.write(`${ids.join('\n')}\n`);
    return 0;
  }
  if (ids.length === 1 && !opts.json) {
    const end = await followLog(client, ids[0]!, {
      signal: env.signal,
      onLines: (lines) => env.stdout.write(`${lines.join('\n')}\n`),
    });
    env.stderr.write(`task ${ids[0]}: ${end.state}${end.reason ? ` (${end.reason})` : ''}\n`);
  }
  const final = await watchTasks(client, ids, env, !opts.json);
  if (opts.json) printJson(env, final);
  return final.every((t) => t.state === 'succeeded') ? 0 : 1;
}

export const registerSubmit: Registration = (program, runtime) => {
  farmOptions(
    program
      .command('submit')
      .summary(
        'submit bundles (folders, or packages of an ABBS tree) to the farm; follows the log of one, ' +
          'or a live table of many',
      )
      .description(
        'Submit each BUNDLE_DIR (or, with --tree, each package of an ABBS tree by name or category/name) as a ' +
          'task for --branch and wait: one bundle shows its live log, several a live table. Exits 0 only when ' +
          'every task succeeded. Every bundle is packed before the first task is created, ' +
          'and a submit that fails part-way deletes the task it created.',
      )
      .argument('<bundle...>', 'bundle folders (spec and autobuild/), or with --tree package names or category/name')
      .option(
        '--tree <abbs_dir>',
        'take the bundles from this ABBS tree: the arguments are package names or category/name',
      )
      .option('--branch <branch>', 'branch to build for (a source list of the farm; required)')
      .option('--arch <arch>', 'build only for this arch (repeatable; default: every arch the bundle allows)', collect)
      .option(
        '--network',
        "give the builds HTTP(S) through the worker's checked proxy (never the host, the farm or the LAN); " +
          "the coordinator's network_builds must allow this token",
      )
      .option('--no-wait', 'print the task ids and return at once'),
  ).action(runtime.action(async (env, bundles: string[], opts: SubmitOpts) => submitBundles(env, bundles, opts)));
};
