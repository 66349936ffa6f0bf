import { api, ApiError, openProtected, poll } from '../api.ts';
import { resourceChart } from '../chart.ts';
import { h, link, replaceKeepingFocus } from '../dom.ts';
import { between, bytes, duration, when } from '../format.ts';
import type { PageContext } from '../page.ts';
import { session } from '../session.ts';
import { isFinalTaskState, stateBadge } from '../states.ts';
import type { JobView, TaskStatus } from '../views.ts';
import { logView } from './log-view.ts';

const phaseOrder = ['prepare', 'instance', 'workspace', 'build', 'collect', 'upload'];

function definition(items: Array<[string, Node | string | null]>): HTMLDListElement {
  return h(
    'dl',
    { class: 'facts' },
    items.filter(([, v]) => v !== null).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
  );
}

function phases(job: JobView): HTMLElement | null {
  const entries = Object.entries(job.phases_ms).sort(([a], [b]) => phaseOrder.indexOf(a) - phaseOrder.indexOf(b));
  if (entries.length === 0) return null;
  const total = Math.max(
    1,
    entries.reduce((sum, [, ms]) => sum + ms, 0),
  );
  return h(
    'div',
    { class: 'phases' },
    h('h4', null, 'Phases'),
    h(
      'ol',
      { class: 'phase-bar', 'aria-label': 'Time per phase' },
      entries.map(([name, ms]) => {
        const item = h(
          'li',
          { title: `${name}: ${duration(ms / 1000)}` },
          h('span', null, name),
          h('small', null, duration(ms / 1000)),
        );
        // Through the CSSOM: the page's CSP allows no inline style attributes.
        item.style.flexGrow = Math.max(ms / total, 0.04).toFixed(3);
        return item;
      }),
    ),
  );
}

function resources(job: JobView): HTMLElement | null {
  const r = job.resources;
  if (!r) return null;
  return h(
    'div',
    { class: 'resources' },
    h('h4', null, 'Resources'),
    definition([
      [
        'CPU',
        `${r.cpu_seconds.toFixed(1)} s (peak ${r.peak_cpu_cores?.toFixed(2) ?? '–'} cores, ` +
          `average ${r.avg_cpu_cores?.toFixed(2) ?? '–'})`,
      ],
      ['Memory peak', bytes(r.peak_memory_bytes)],
      ['Disk peak', bytes(r.peak_disk_bytes)],
    ]),
    resourceChart(r.samples),
  );
}

function artifacts(job: JobView): HTMLElement | null {
  if (job.artifacts.length === 0) return null;
  return h(
    'div',
    { class: 'artifacts' },
    h('h4', null, 'Packages'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'list' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['File', 'Size', 'SHA-256', ''].map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        h(
          'tbody',
          null,
          job.artifacts.map((a) =>
            h(
              'tr',
              null,
              h('td', null, a.repo_url ? h('a', { href: a.repo_url, download: a.name }, a.name) : a.name),
              h('td', null, bytes(a.size)),
              h('td', null, h('code', { title: a.sha256 }, `${a.sha256.slice(0, 12)}…`)),
              h(
                'td',
                null,
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'quiet',
                    'data-key': `dl-${a.name}`,
                    onclick: () => void openProtected(new URL(a.url).pathname, a.name, 'download'),
                  },
                  'Download',
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function jobCard(job: JobView): HTMLElement {
  const took = between(job.started_at, job.finished_at);
  return h(
    'article',
    { class: 'card job', 'data-arch': job.arch },
    h(
      'h3',
      null,
      job.arch,
      ' ',
      stateBadge(job.state),
      job.cancel_requested && !job.finished_at ? h('span', { class: 'muted' }, ' (cancel requested)') : null,
    ),
    definition([
      ['Builder', job.builder ?? '–'],
      ['Run / attempt', `${job.run} / ${job.attempt}`],
      ['Queued', when(job.queued_at)],
      ['Started', when(job.started_at)],
      ['Finished', when(job.finished_at)],
      [job.finished_at ? 'Took' : 'Running for', took === null ? '–' : duration(took)],
      ['Reason', job.reason],
    ]),
    phases(job),
    resources(job),
    artifacts(job),
  );
}

function actions(task: TaskStatus, refresh: () => void): HTMLElement | null {
  if (!session.mayAct() || task.group_id) return null;
  const act = (verb: 'cancel' | 'retry'): void => {
    if (!confirm(`${verb === 'cancel' ? 'Cancel' : 'Retry'} task ${task.id}?`)) return;
    api('POST', `/task/${task.id}/${verb}`).then(refresh, (e: ApiError) => alert(e.message));
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
  let logKey = '';
  let logAbort: AbortController | undefined;
  ctx.signal.addEventListener('abort', () => logAbort?.abort());
  const chosen = { arch: ctx.query.get('arch') ?? '' };

  const drawLog = (task: TaskStatus): void => {
    const job = task.jobs.find((j) => j.arch === chosen.arch) ?? task.jobs[0];
    if (!job) return replaceKeepingFocus(logs, h('p', { class: 'muted' }, 'No build yet, so no log.'));
    const key = `${job.arch}/${job.run}`;
    if (key === logKey) return;
    logKey = key;
    logAbort?.abort();
    logAbort = new AbortController();
    const tabs =
      task.jobs.length > 1
        ? h(
            'div',
            { class: 'tabs', role: 'group', 'aria-label': 'Which arch' },
            task.jobs.map((j) =>
              h(
                'button',
                {
                  type: 'button',
                  'aria-pressed': String(j.arch === job.arch),
                  'data-key': `arch-${j.arch}`,
                  onclick: () => {
                    chosen.arch = j.arch;
                    logKey = '';
                    drawLog(task);
                  },
                },
                j.arch,
              ),
            ),
          )
        : null;
    replaceKeepingFocus(logs, tabs, logView(task.id, job.arch, job.run, logAbort.signal));
  };

  const refresh = async (): Promise<void> => {
    let task: TaskStatus;
    try {
      task = await api<TaskStatus>('GET', `/task/${id}/status`, { signal: ctx.signal });
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
    replaceKeepingFocus(
      summary,
      definition([
        ['Branch', task.branch ?? '–'],
        ['Submitted by', task.created_by],
        ['Created', when(task.created_at)],
        ['Group', task.group_id ? link(`/group/${task.group_id}`, `group ${task.group_id}`) : null],
        ['Targets', task.bundle ? task.bundle.targets.join(', ') : null],
        [
          'Bundle',
          task.bundle
            ? h(
                'code',
                { title: task.bundle.sha256 },
                `${task.bundle.sha256.slice(0, 16)}… (${bytes(task.bundle.size)})`,
              )
            : 'not uploaded',
        ],
        [
          'Repository',
          task.repo_url
            ? h('code', null, `deb [signed-by=/etc/apt/keyrings/aoinb-archive-key.asc] ${task.repo_url} ./`)
            : null,
        ],
        ['Reason', task.reason],
      ]),
      actions(task, () => {
        last = '';
        void refresh();
      }),
    );
    replaceKeepingFocus(jobs, task.jobs.length ? task.jobs.map(jobCard) : h('p', { class: 'muted' }, 'Not built yet.'));
    drawLog(task);
  };
  poll(ctx.signal, 2000, refresh);
}
