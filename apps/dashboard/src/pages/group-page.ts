import type { ApiError } from '../api.ts';
import { h, link, replaceKeepingFocus } from '../dom.ts';
import { duration, when } from '../format.ts';
import type { PageContext } from '../page.ts';
import { isFinalGroupState, stateBadge } from '../states.ts';
import type { GroupStatus } from '../views.ts';
import { layeredView } from './group-layers.ts';

const countOrder = ['succeeded', 'running', 'queued', 'waiting', 'failed', 'skipped', 'cancelled'];

function actions(ctx: PageContext, group: GroupStatus, refresh: () => void): HTMLElement | null {
  if (!ctx.session.mayAct()) return null;
  const act = (verb: 'cancel' | 'retry'): void => {
    if (!confirm(`${verb === 'cancel' ? 'Cancel' : 'Retry'} group ${group.id}?`)) return;
    ctx.api.request('POST', `/group/${group.id}/${verb}`).then(refresh, (e: ApiError) => alert(e.message));
  };
  const final = isFinalGroupState(group.state);
  return h(
    'div',
    { class: 'actions' },
    h(
      'button',
      { type: 'button', 'data-key': 'cancel', disabled: final, onclick: () => act('cancel') },
      'Cancel group',
    ),
    h(
      'button',
      {
        type: 'button',
        'data-key': 'retry',
        disabled: !['failed', 'partial', 'cancelled'].includes(group.state),
        onclick: () => act('retry'),
      },
      'Retry failed and skipped',
    ),
  );
}

function counts(group: GroupStatus): HTMLElement {
  const entries = Object.entries(group.counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => countOrder.indexOf(a) - countOrder.indexOf(b));
  return h(
    'ul',
    { class: 'counts', 'aria-label': 'Members per state' },
    entries.map(([state, n]) => h('li', null, stateBadge(state, `${n} ${state}`))),
  );
}

/** The group's facts: branch, mode, critical path, when, reason, its apt source line. */
function groupFacts(group: GroupStatus): HTMLElement {
  return h(
    'dl',
    { class: 'facts' },
    h('dt', null, 'Branch'),
    h('dd', null, group.branch),
    h('dt', null, 'Mode'),
    h('dd', null, `${group.mode}, publish ${group.publish}${group.round > 1 ? `, round ${group.round}` : ''}`),
    h('dt', null, 'Critical path'),
    h('dd', null, `${duration(group.critical_path_seconds)} (estimated)`),
    h('dt', null, 'Submitted'),
    h('dd', null, `${when(group.created_at)} by ${group.created_by}`),
    h('dt', null, 'Finished'),
    h('dd', null, when(group.finished_at)),
    group.reason ? [h('dt', null, 'Reason'), h('dd', null, group.reason)] : null,
    h('dt', null, 'Apt source'),
    h('dd', null, h('code', null, group.apt_source)),
  );
}

/** A group build: its members by layer with state, what each waits for or why it was skipped, the critical path. */
export function groupPage(ctx: PageContext): void {
  const id = ctx.id!;
  const heading = h('h1', null, `Group ${id}`);
  const summary = h('div', { class: 'summary' });
  const graph = h('div', { class: 'graph' });
  ctx.main.append(
    h('p', { class: 'crumbs' }, link('/groups', '← Groups')),
    heading,
    summary,
    h('h2', null, 'Members'),
    graph,
  );
  let last = '';
  const refresh = async (): Promise<void> => {
    let group: GroupStatus;
    try {
      group = await ctx.api.request<GroupStatus>('GET', `/group/${id}/status`, { signal: ctx.signal });
    } catch (error) {
      replaceKeepingFocus(summary, h('p', { class: 'error', role: 'alert' }, (error as Error).message));
      return;
    }
    const text = JSON.stringify(group);
    if (text === last) return;
    last = text;
    heading.replaceChildren(`Group ${group.id} `, stateBadge(group.state));
    replaceKeepingFocus(
      summary,
      counts(group),
      groupFacts(group),
      actions(ctx, group, () => {
        last = '';
        void refresh();
      }),
    );
    replaceKeepingFocus(graph, layeredView(group.members));
  };
  ctx.api.poll(ctx.signal, 2000, refresh);
}
