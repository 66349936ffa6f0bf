import { h, link, replaceKeepingFocus } from '../dom.ts';
import { ago, when } from '../format.ts';
import type { PageContext } from '../page.ts';
import { stateBadge } from '../states.ts';
import type { GroupSummary } from '../views.ts';

/** The groups' table around `body`. */
function groupTable(body: HTMLElement): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'list' },
      h('caption', { class: 'visually-hidden' }, 'Group builds, newest first'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['Group', 'State', 'Branch', 'Mode', 'Members', 'Round', 'Submitted by', 'Created'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      body,
    ),
  );
}

function groupRow(g: GroupSummary): HTMLElement {
  return h(
    'tr',
    { 'data-group': g.id },
    h('td', null, link(`/group/${g.id}`, `#${g.id}`)),
    h('td', null, stateBadge(g.state)),
    h('td', null, g.branch),
    h('td', null, `${g.mode}, publish ${g.publish}`),
    h('td', null, String(g.tasks.length)),
    h('td', null, String(g.round)),
    h('td', null, g.created_by),
    h('td', null, h('time', { datetime: g.created_at, title: when(g.created_at) }, ago(g.created_at))),
  );
}

/** Every group build, newest first, refreshed every 2 s. */
export function groupListPage(ctx: PageContext): void {
  const body = h('tbody');
  const status = h('p', { class: 'muted', 'aria-live': 'polite' });
  let last = '';
  ctx.main.append(h('h1', null, 'Groups'), status, groupTable(body));
  ctx.api.poll(ctx.signal, 2000, async () => {
    try {
      const page = await ctx.api.request<{ groups: GroupSummary[] }>('GET', '/group?limit=100', { signal: ctx.signal });
      const text = JSON.stringify(page);
      if (text === last) return;
      last = text;
      const plural = page.groups.length === 1 ? '' : 's';
      status.textContent = `${page.groups.length} group${plural}, newest first; updated live.`;
      replaceKeepingFocus(
        body,
        page.groups.length
          ? page.groups.map(groupRow)
          : h('tr', null, h('td', { colspan: '8', class: 'empty' }, 'No groups yet.')),
      );
    } catch (error) {
      status.textContent = `Could not load groups: ${(error as Error).message}`;
    }
  });
}
