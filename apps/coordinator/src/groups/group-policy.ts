import type { MemberState } from '@aoinb/farm-contract';

/**
 * The release rule of a group, as a pure function (the scheduler and the
 * benchmark's simulator both run it): a waiting member is released when every
 * in-group dependency succeeded, and skipped as soon as one of them failed,
 * was cancelled or was skipped itself. Members are visited in topological
 * order, so a failure reaches every member downstream in one pass.
 */

/** What a member is doing, as the group status reports it (the contract's MemberState). */
export type MemberStatus = MemberState;

export const endedStatuses: readonly MemberStatus[] = ['succeeded', 'failed', 'cancelled', 'skipped'];

export function isEnded(status: MemberStatus): boolean {
  return endedStatuses.includes(status);
}

export interface MemberView {
  status: MemberStatus;
  /** For a skipped member: the failure at the root of the chain. */
  root?: { key: string; state: string };
}

export interface SkipDecision {
  key: string;
  /** The dependency that did not succeed. */
  because: { key: string; state: string };
  /** Where the chain of skips started (a failed or cancelled member). */
  root: { key: string; state: string };
}

export interface PolicyDecision {
  release: string[];
  skip: SkipDecision[];
}

/**
 * `skipQueued`: a released member that has not started may still be skipped
 * (sequential groups release every member at once, to one job).
 */
export function decide(
  order: string[],
  deps: Map<string, string[]>,
  views: Map<string, MemberView>,
  options: { skipQueued?: boolean } = {},
): PolicyDecision {
  const current = new Map(views);
  const release: string[] = [];
  const skip: SkipDecision[] = [];
  for (const key of order) {
    const status = current.get(key)?.status;
    if (status !== 'waiting' && !(options.skipQueued && status === 'queued')) continue;
    const mine = deps.get(key) ?? [];
    const bad = mine.find((d) => ['failed', 'cancelled', 'skipped'].includes(current.get(d)?.status ?? ''));
    if (bad !== undefined) {
      const dep = current.get(bad) as MemberView;
      const root = dep.status === 'skipped' && dep.root ? dep.root : { key: bad, state: dep.status };
      skip.push({ key, because: { key: bad, state: dep.status }, root });
      current.set(key, { status: 'skipped', root });
    } else if (status === 'waiting' && mine.every((d) => current.get(d)?.status === 'succeeded')) {
      release.push(key);
    }
  }
  return { release, skip };
}

/** Which dependencies a waiting member still waits for. */
export function waitingFor(key: string, deps: Map<string, string[]>, views: Map<string, MemberView>): string[] {
  return (deps.get(key) ?? []).filter((d) => views.get(d)?.status !== 'succeeded');
}
