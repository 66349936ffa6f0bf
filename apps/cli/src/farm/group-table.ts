import type { GroupMember, GroupStatus, MemberRef } from '@aoinb/farm-contract';
import { finalGroupStates as contractFinalGroupStates } from '@aoinb/farm-contract/states';
import { elapsed } from './status-table.ts';

/** A group in one of these states changes no more. */
export const finalGroupStates: ReadonlySet<string> = new Set(contractFinalGroupStates);

function ref(r: MemberRef): string {
  return r.package ?? `task ${r.task_id}`;
}

function detail(m: GroupMember): string {
  if (m.state === 'waiting')
    return m.waiting_for.length > 0 ? `waiting for ${m.waiting_for.map(ref).join(', ')}` : 'about to be released';
  if (m.state === 'skipped' && m.skipped_because) {
    const s = m.skipped_because;
    const root = s.root.task_id === s.task_id && s.root.arch === s.arch ? '' : ` (${ref(s.root)} ${s.root.state})`;
    return `skipped: ${ref(s)} ${s.state}${root}`;
  }
  return m.reason ?? m.artifacts.map((a) => a.name).join(' ');
}

/** Rows of the member table: one per member (task and arch), in the group's build order. */
export function groupRows(status: GroupStatus): string[][] {
  const rows = [['TASK', 'PACKAGE', 'ARCH', 'STATE', 'BUILDER', 'TIME', 'DETAIL']];
  for (const m of status.members)
    rows.push([
      m.task_id,
      m.package,
      m.arch,
      m.state,
      m.builder ?? '',
      elapsed(m.started_at, m.finished_at),
      detail(m),
    ]);
  return rows;
}

/** One line above the table: the group, its state and how many members are where. */
export function groupHeadline(status: GroupStatus): string {
  const counts = Object.entries(status.counts)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  return (
    `group ${status.id} (${status.mode}, publish ${status.publish}, ` +
    `branch ${status.branch}${status.round > 1 ? `, round ${status.round}` : ''}): ${status.state} - ${counts}`
  );
}
