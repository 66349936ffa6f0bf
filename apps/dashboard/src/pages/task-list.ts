import { h, link, replaceKeepingFocus } from '../dom.ts';
import { ago, between, duration, when } from '../format.ts';
import type { PageContext } from '../page.ts';
import { stateBadge } from '../states.ts';
import type { TaskList, TaskSummary } from '../views.ts';

const states = ['', 'created', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];
const filterNames = ['state', 'branch', 'arch', 'submitter'] as const;

function filterForm(ctx: PageContext, onChange: () => void): HTMLFormElement {
  const field = (name: string, label: string, control: HTMLElement): HTMLElement =>
    h('div', { class: 'field' }, h('label', { for: `f-${name}` }, label), control);
  const select = (name: string, options: string[]): HTMLSelectElement =>
    h(
      'select',
      { id: `f-${name}`, name },
      options.map((o) =>
        h(
          'option',
          { value: o, selected: ctx.query.get(name) === o || (!ctx.query.get(name) && o === '') },
          o || 'any',
        ),
      ),
    );
  const text = (name: string, placeholder: string): HTMLInputElement =>
    h('input', { id: `f-${name}`, name, type: 'search', placeholder, value: ctx.query.get(name) ?? '' });
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter tasks' },
    field('state', 'State', select('state', states)),
    field('branch', 'Branch', text('branch', 'stable')),
    field('arch', 'Arch', select('arch', ['', ...ctx.farm.archs])),
    field('submitter', 'Submitted by', text('submitter', 'token name')),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const changed = (): void => {
    const query = new URLSearchParams();
    for (const name of filterNames) {
      const value = (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim();
      if (value) query.set(name, value);
    }
    ctx.setQuery(query);
    ctx.query = query;
    onChange();
  };
  form.addEventListener('change', changed);
  form.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(changed, 400);
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    changed();
  });
  return form;
}

function row(t: TaskSummary): HTMLTableRowElement {
  return h(
    'tr',
    { 'data-task': t.id },
    h('td', null, link(`/task/${t.id}`, `#${t.id}`)),
    h(
      'td',
      null,
      t.package
        ? h('span', null, h('strong', null, t.package.name), ` ${t.package.version}`)
        : h('span', { class: 'muted' }, 'no bundle yet'),
    ),
    h('td', null, stateBadge(t.state)),
    h('td', null, t.branch ?? '–'),
    h('td', null, t.archs.join(', ') || '–'),
    h('td', null, t.created_by),
    h('td', null, t.group_id ? link(`/group/${t.group_id}`, `group ${t.group_id}`) : '–'),
    h('td', null, h('time', { datetime: t.created_at, title: when(t.created_at) }, ago(t.created_at))),
    h('td', null, t.finished_at ? duration(between(t.created_at, t.finished_at)) : '–'),
  );
}

/** The tasks' table around `body`. */
function taskTable(body: HTMLElement): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'list' },
      h('caption', { class: 'visually-hidden' }, 'Tasks, newest first'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['Task', 'Package', 'State', 'Branch', 'Archs', 'Submitted by', 'Group', 'Created', 'Took'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      body,
    ),
  );
}

/** Draws one page of tasks: the rows, how many, and the links to older and newest. */
function drawPage(
  ctx: PageContext,
  page: TaskList,
  parts: { body: HTMLElement; status: HTMLElement; more: HTMLElement },
) {
  replaceKeepingFocus(
    parts.body,
    page.tasks.length
      ? page.tasks.map(row)
      : h('tr', null, h('td', { colspan: '9', class: 'empty' }, 'No tasks match.')),
  );
  const plural = page.tasks.length === 1 ? '' : 's';
  parts.status.textContent = `${page.tasks.length} task${plural} shown, newest first; updated live.`;
  const older = new URLSearchParams(ctx.query);
  if (page.next) older.set('before', page.next);
  replaceKeepingFocus(
    parts.more,
    page.next ? link(`/tasks?${older}`, 'Older tasks →') : null,
    ctx.query.get('before') ? [' ', link('/tasks', 'Newest')] : null,
  );
}

/** Every task, newest first, filtered by state, branch, arch and submitter; refreshed every 2 s. */
export function taskListPage(ctx: PageContext): void {
  const parts = {
    body: h('tbody'),
    status: h('p', { class: 'muted', 'aria-live': 'polite' }),
    more: h('p', { class: 'pager' }),
  };
  let last = '';
  const refresh = async (): Promise<void> => {
    const query = new URLSearchParams(ctx.query);
    query.set('limit', '50');
    try {
      const page = await ctx.api.request<TaskList>('GET', `/task?${query}`, { signal: ctx.signal });
      const text = JSON.stringify(page);
      if (text === last) return;
      last = text;
      drawPage(ctx, page, parts);
    } catch (error) {
      parts.status.textContent = `Could not load tasks: ${(error as Error).message}`;
    }
  };
  const again = (): void => {
    last = '';
    void refresh();
  };
  ctx.main.append(h('h1', null, 'Tasks'), filterForm(ctx, again), parts.status, taskTable(parts.body), parts.more);
  ctx.api.poll(ctx.signal, 2000, refresh);
}
