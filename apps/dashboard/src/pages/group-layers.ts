import { h, link } from '../dom.ts';
import { between, duration } from '../format.ts';
import { stateBadge } from '../states.ts';
import type { GroupMember, MemberRef } from '../views.ts';

const keyOf = (m: { task_id: string; arch: string | null }): string => `${m.task_id}/${m.arch ?? ''}`;
const name = (r: MemberRef): string => `${r.package ?? `task ${r.task_id}`} (${r.arch ?? '?'})`;
const outcome = (state: string | null): string =>
  state === 'failed' ? 'failed' : state ? `was ${state}` : 'did not succeed';

/** Layer = 1 + the deepest dependency's layer; members arrive in topological order. */
export function layersOf(members: GroupMember[]): GroupMember[][] {
  const depth = new Map<string, number>();
  const layers: GroupMember[][] = [];
  for (const m of members) {
    const d = Math.max(-1, ...m.depends_on.map((r) => depth.get(keyOf(r)) ?? -1)) + 1;
    depth.set(keyOf(m), d);
    (layers[d] ??= []).push(m);
  }
  return layers;
}

/** The longest chain by estimates: from the member with the longest path, always to its longest dependent. */
export function criticalPath(members: GroupMember[]): Set<string> {
  const dependents = new Map<string, GroupMember[]>();
  for (const m of members)
    for (const r of m.depends_on) dependents.set(keyOf(r), [...(dependents.get(keyOf(r)) ?? []), m]);
  const path = new Set<string>();
  let current = [...members].sort((a, b) => b.critical_path_seconds - a.critical_path_seconds)[0];
  while (current && !path.has(keyOf(current))) {
    path.add(keyOf(current));
    current = [...(dependents.get(keyOf(current)) ?? [])].sort(
      (a, b) => b.critical_path_seconds - a.critical_path_seconds,
    )[0];
  }
  return path;
}

/** What a member waits for or why it was skipped, in words. */
export function explanation(m: GroupMember): string | null {
  if (m.skipped_because) {
    const s = m.skipped_because;
    const root = s.root && keyOf(s.root) !== keyOf(s) ? `, because ${name(s.root)} ${outcome(s.root.state)}` : '';
    return `Skipped because ${name(s)} ${outcome(s.state)}${root}.`;
  }
  if (m.state === 'waiting' && m.waiting_for.length > 0)
    return `Waiting for ${m.waiting_for.map((r) => `${name(r)}, ${r.state ?? 'not started'}`).join('; ')}.`;
  if (m.state === 'failed' && m.reason) return `Failed: ${m.reason}`;
  return null;
}

function memberCard(m: GroupMember, critical: boolean): HTMLElement {
  const why = explanation(m);
  const took = between(m.started_at, m.finished_at);
  return h(
    'li',
    { class: `member card${critical ? ' critical' : ''}`, 'data-member': m.package, 'data-state': m.state },
    h(
      'div',
      { class: 'member-head' },
      link(`/task/${m.task_id}?arch=${m.arch}`, h('strong', null, m.package)),
      h('span', { class: 'muted' }, ` ${m.arch}`),
    ),
    stateBadge(m.state),
    critical
      ? h('span', { class: 'critical-mark' }, h('span', { 'aria-hidden': 'true' }, '◆'), ' critical path')
      : null,
    why ? h('p', { class: `why${m.state === 'failed' ? ' error' : ''}` }, why) : null,
    m.depends_on.length ? h('p', { class: 'muted small' }, `Needs ${m.depends_on.map(name).join(', ')}`) : null,
    h(
      'p',
      { class: 'muted small' },
      took !== null ? `${m.finished_at ? 'Took' : 'Running for'} ${duration(took)} · ` : '',
      `estimate ${duration(m.estimate_seconds)}${m.estimate_known ? ' (from earlier builds)' : ' (default)'}`,
      m.builder ? ` · on ${m.builder}` : '',
    ),
  );
}

/** The group as layers: layer 1 needs nothing in the group, layer n needs something in layer n-1. */
export function layeredView(members: GroupMember[]): HTMLElement {
  const critical = criticalPath(members);
  return h(
    'ol',
    { class: 'layers', 'aria-label': 'Members by dependency layer' },
    layersOf(members).map((layer, i) =>
      h(
        'li',
        { class: 'layer' },
        h('h3', null, `Layer ${i + 1}`),
        h(
          'p',
          { class: 'layer-hint muted small' },
          i === 0 ? 'Needs nothing in the group' : `Each needs something in layer ${i}`,
        ),
        h(
          'ul',
          { class: 'members' },
          layer.map((m) => memberCard(m, critical.has(keyOf(m)))),
        ),
      ),
    ),
  );
}
