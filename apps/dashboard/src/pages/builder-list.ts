import { h, link, replaceKeepingFocus } from '../dom.ts';
import { ago, bytes, when } from '../format.ts';
import type { PageContext } from '../page.ts';
import { stateBadge } from '../states.ts';
import type { BuilderView, QueueCounts } from '../views.ts';

/** online (idle or building), draining (finishing, taking nothing new) or offline (no heartbeat). */
function availability(b: BuilderView): string {
  if (b.state === 'offline') return 'offline';
  return b.mode === 'draining' ? 'draining' : 'online';
}

function meter(used: number, total: number, label: string): HTMLElement {
  return h(
    'span',
    { class: 'meter-wrap' },
    label,
    h('meter', { min: 0, max: total, value: used, 'aria-hidden': 'true' }),
  );
}

/** Load averages, with the cores they are over. */
function loadText(b: BuilderView): string {
  if (b.load) return `${b.load.map((l) => l.toFixed(2)).join(' / ')}${b.cores ? ` on ${b.cores} cores` : ''}`;
  return b.cores ? `– (${b.cores} cores)` : '–';
}

/** Memory in use as a meter, or the total alone when the free figure is unknown. */
function memoryCell(b: BuilderView): HTMLElement | string {
  const memUsed =
    b.memory_total_bytes !== null && b.memory_free_bytes !== null ? b.memory_total_bytes - b.memory_free_bytes : null;
  if (memUsed !== null && b.memory_total_bytes)
    return meter(memUsed, b.memory_total_bytes, `${bytes(memUsed)} of ${bytes(b.memory_total_bytes)} used`);
  return b.memory_total_bytes ? `– (${bytes(b.memory_total_bytes)})` : '–';
}

function builderFacts(b: BuilderView): HTMLElement {
  return h(
    'dl',
    { class: 'facts' },
    h('dt', null, 'Host'),
    h('dd', null, b.hostname ?? '–'),
    h('dt', null, 'Arch tags'),
    h('dd', null, b.arch_tags.length ? b.arch_tags.map((a) => h('span', { class: 'tag' }, a)) : '–'),
    h('dt', null, 'Slots'),
    h('dd', null, b.slots === null ? '–' : `${b.current_tasks.length} of ${b.slots} busy`),
    h('dt', null, 'Building'),
    h(
      'dd',
      null,
      b.current_tasks.length
        ? b.current_tasks.map((t) => [link(`/task/${t.task_id}?arch=${t.arch}`, `task ${t.task_id} (${t.arch})`), ' '])
        : 'nothing',
    ),
    h('dt', null, 'Load'),
    h('dd', null, loadText(b)),
    h('dt', null, 'Memory'),
    h('dd', null, memoryCell(b)),
    h('dt', null, 'Disk free'),
    h('dd', null, bytes(b.disk_free_bytes)),
    h('dt', null, 'Last heartbeat'),
    h('dd', null, h('time', { datetime: b.last_heartbeat, title: when(b.last_heartbeat) }, ago(b.last_heartbeat))),
  );
}

function builderCard(b: BuilderView): HTMLElement {
  const state = availability(b);
  return h(
    'article',
    {
      class: `card builder${state === 'offline' ? ' is-offline' : ''}`,
      'data-builder': b.id,
      'data-availability': state,
    },
    h(
      'h2',
      null,
      b.id,
      ' ',
      stateBadge(state),
      h('span', { class: 'muted small' }, state !== 'offline' ? b.state : b.hostname ? 'last known facts' : ''),
    ),
    builderFacts(b),
  );
}

/** The queues' table around `body`. */
function queueTable(body: HTMLElement): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'list narrow' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['Arch', 'Waiting', 'Building', 'Failed jobs kept'].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      body,
    ),
  );
}

function queueRow(q: QueueCounts['queues'][number]): HTMLElement {
  return h(
    'tr',
    null,
    h('th', { scope: 'row' }, q.arch),
    h('td', null, String(q.waiting)),
    h('td', null, String(q.active)),
    h('td', null, String(q.failed)),
  );
}

/**
 * An offline builder's facts expire with its heartbeat: the returned function
 * fills them in from what this page last saw of it.
 */
function lastKnownFacts(): (b: BuilderView) => BuilderView {
  const known = new Map<string, BuilderView>();
  return (b) => {
    if (b.state !== 'offline') {
      known.set(b.id, b);
      return b;
    }
    const seen = known.get(b.id);
    return seen
      ? {
          ...b,
          hostname: seen.hostname,
          arch_tags: seen.arch_tags,
          slots: seen.slots,
          cores: seen.cores,
          memory_total_bytes: seen.memory_total_bytes,
        }
      : b;
  };
}

/** Build hosts and the queue depth of each arch, refreshed every 2 s. */
export function builderListPage(ctx: PageContext): void {
  const list = h('div', { class: 'builders' });
  const queues = h('tbody');
  const status = h('p', { class: 'muted', 'aria-live': 'polite' });
  ctx.main.append(h('h1', null, 'Builders'), status, list, h('h2', null, 'Queues'), queueTable(queues));
  let last = '';
  const withKnown = lastKnownFacts();
  ctx.api.poll(ctx.signal, 2000, async () => {
    try {
      const [answer, queue] = await Promise.all([
        ctx.api.request<{ builders: BuilderView[] }>('GET', '/builder/status', { signal: ctx.signal }),
        ctx.api.request<QueueCounts>('GET', '/queue', { signal: ctx.signal }),
      ]);
      const builders = answer.builders.map(withKnown);
      // Heartbeat ages change every second; redraw at most every 5 s for them.
      const text = JSON.stringify({
        builders: builders.map((b) => ({ ...b, last_heartbeat: Math.floor(Date.parse(b.last_heartbeat) / 5000) })),
        queue,
      });
      if (text === last) return;
      last = text;
      const online = builders.filter((b) => b.state !== 'offline').length;
      status.textContent = `${online} of ${builders.length} builders online; updated live.`;
      replaceKeepingFocus(
        list,
        builders.length
          ? builders.map(builderCard)
          : h('p', { class: 'muted' }, 'No builder has ever sent a heartbeat.'),
      );
      replaceKeepingFocus(queues, queue.queues.map(queueRow));
    } catch (error) {
      status.textContent = `Could not load builders: ${(error as Error).message}`;
    }
  });
}
