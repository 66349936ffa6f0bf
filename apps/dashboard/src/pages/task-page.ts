import type { ApiClient, ApiError } from '../api.ts';
import { h, link, replaceKeepingFocus } from '../dom.ts';
import { bytes, when } from '../format.ts';
import type { PageContext } from '../page.ts';
import { isFinalTaskState, stateBadge } from '../states.ts';
import type { TaskStatus } from '../views.ts';
import { definition, jobCard } from './job-card.ts';
import { logView } from './log-view.ts';

function actions(ctx: PageContext, task: TaskStatus, refresh: () => void): HTMLElement | null {
  if (!ctx.session.mayAct() || task.group_id) return null;
  const act = (verb: 'cancel' | 'retry'): void => {
    if (!confirm(`${verb === 'cancel' ? 'Cancel' : 'Retry'} task ${task.id}?`)) return;
    ctx.api.request('POST', `/task/${task.id}/${verb}`).then(refresh, (e: ApiError) => alert(e.message));
  };
  const final = isFinalTaskState(task.state);
  return h(
    'div',
    { class: 'actions' },
    h(
      'button',
      {
        type: 'button',
        'data-key': 'cancel',
        disabled: final || task.state === 'created',
        onclick: () => act('cancel'),
      },
      'Cancel',
    ),
    h(
      'button',
      {
        type: 'button',
        'data-key': 'retry',
        disabled: !['failed', 'cancelled'].includes(task.state),
        onclick: () => act('retry'),
      },
      'Retry',
    ),
  );
}

/** The task's facts: branch, submitter, group, targets, bundle, repository line, reason. */
function taskFacts(task: TaskStatus): HTMLDListElement {
  return definition([
    ['Branch', task.branch ?? '–'],
    ['Submitted by', task.created_by],
    ['Created', when(task.created_at)],
    ['Group', task.group_id ? link(`/group/${task.group_id}`, `group ${task.group_id}`) : null],
    ['Targets', task.bundle ? task.bundle.targets.join(', ') : null],
    [
      'Bundle',
      task.bundle
        ? h('code', { title: task.bundle.sha256 }, `${task.bundle.sha256.slice(0, 16)}… (${bytes(task.bundle.size)})`)
        : 'not uploaded',
    ],
    [
      'Repository',
      task.repo_url
        ? h('code', null, `deb [signed-by=/etc/apt/keyrings/aoinb-archive-key.asc] ${task.repo_url} ./`)
        : null,
    ],
    ['Reason', task.reason],
  ]);
}

/** Buttons to pick the arch whose log is shown, when the task has several builds. */
function archTabs(task: TaskStatus, shown: string, choose: (arch: string) => void): HTMLElement | null {
  if (task.jobs.length <= 1) return null;
  return h(
    'div',
    { class: 'tabs', role: 'group', 'aria-label': 'Which arch' },
    task.jobs.map((j) =>
      h(
        'button',
        {
          type: 'button',
          'aria-pressed': String(j.arch === shown),
          'data-key': `arch-${j.arch}`,
          onclick: () => choose(j.arch),
        },
        j.arch,
      ),
    ),
  );
}

/**
 * The log pane's drawer: the chosen arch's log (the first build's at first), followed
 * live, drawn again only when the build shown or its run changes.
 */
function logPane(
  api: ApiClient,
  logs: HTMLElement,
  firstArch: string,
  signal: AbortSignal,
): (task: TaskStatus) => void {
  const chosen = { arch: firstArch };
  let logKey = '';
  let logAbort: AbortController | undefined;
  signal.addEventListener('abort', () => logAbort?.abort());
  const drawLog = (task: TaskStatus): void => {
    const job = task.jobs.find((j) => j.arch === chosen.arch) ?? task.jobs[0];
    if (!job) return replaceKeepingFocus(logs, h('p', { class: 'muted' }, 'No build yet, so no log.'));
    const key = `${job.arch}/${job.run}`;
    if (key === logKey) return;
    logKey = key;
    logAbort?.abort();
    logAbort = new AbortController();
    const tabs = archTabs(task, job.arch, (arch) => {
      chosen.arch = arch;
      logKey = '';
      drawLog(task);
    });
    replaceKeepingFocus(logs, tabs, logView(api, task.id, job.arch, job.run, logAbort.signal));
  };
  return drawLog;
}

/** One task: its builds per arch with phases, resources and packages, and the live log of each. */
export function taskPage(ctx: PageContext): void {
  const id = ctx.id!;
  const heading = h('h1', null, `Task ${id}`);
  const summary = h('div', { class: 'summary' });
  const jobs = h('div', { class: 'jobs' });
  const logs = h('div', { class: 'logs' });
  ctx.main.append(
    h('p', { class: 'crumbs' }, link('/tasks', '← Tasks')),
    heading,
    summary,
    h('h2', null, 'Builds'),
    jobs,
    h('h2', null, 'Log'),
    logs,
  );
  let last = '';
  const drawLog = logPane(ctx.api, logs, ctx.query.get('arch') ?? '', ctx.signal);
  const refresh = async (): Promise<void> => {
    let task: TaskStatus;
    try {
      task = await ctx.api.request<TaskStatus>('GET', `/task/${id}/status`, { signal: ctx.signal });
    } catch (error) {
      replaceKeepingFocus(summary, h('p', { class: 'error', role: 'alert' }, (error as Error).message));
      return;
    }
    const text = JSON.stringify({
      ...task,
      now: task.jobs.some((j) => j.state === 'running') ? Math.floor(Date.now() / 5000) : 0,
    });
    if (text === last) return;
    last = text;
    heading.replaceChildren(
      `Task ${task.id}`,
      task.package ? `: ${task.package.name} ${task.package.version}` : '',
      ' ',
      stateBadge(task.state),
    );
    const again = (): void => {
      last = '';
      void refresh();
    };
    replaceKeepingFocus(summary, taskFacts(task), actions(ctx, task, again));
    replaceKeepingFocus(
      jobs,
      task.jobs.length ? task.jobs.map((j) => jobCard(ctx.api, j)) : h('p', { class: 'muted' }, 'Not built yet.'),
    );
    drawLog(task);
  };
  ctx.api.poll(ctx.signal, 2000, refresh);
}
