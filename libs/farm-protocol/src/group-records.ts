import type { EstimateSource, GroupMode, GroupState, PublishMode } from '@aoinb/farm-contract/states';

// The group states and modes are the contract's (libs/farm-contract/src/states.ts).
export { finalGroupStates, isFinalGroupState } from '@aoinb/farm-contract/states';
export type { EstimateSource, GroupMode, GroupState, PublishMode } from '@aoinb/farm-contract/states';

/** `{aoinb}:group:<id>`. Times are ISO 8601 strings. */
export interface GroupRecord {
  id: string;
  state: GroupState;
  branch: string;
  mode: GroupMode;
  publish: PublishMode;
  /** The member tasks, in the order they were given. */
  taskIds: string[];
  /** Every arch some member builds on. */
  archs: string[];
  /** 1, then one more per retry; each round is one BullMQ flow (a parent job that gains a child per released member). */
  round: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  cancelRequested: boolean;
  /** Why the group was cancelled. */
  reason?: string;
  /** When an atomic group's debs were published to the branch repo. */
  publishedAt?: string;
}

/** One member (one arch of one task) of a group's plan: its place in the DAG and its priority. */
export interface GroupMemberPlan {
  /** `<taskId>/<arch>`. */
  key: string;
  taskId: string;
  arch: string;
  /** The bundle's main PKGNAME. */
  package: string;
  /** Member keys this one waits for (its in-group BUILDDEP/PKGDEP providers). */
  deps: string[];
  /** Expected duration: earlier builds of this package and arch, or the configured default. */
  estimateSeconds: number;
  /** Whether `estimateSeconds` comes from earlier builds. */
  estimateKnown: boolean;
  /** Where `estimateSeconds` comes from (absent in plans made before it was recorded). */
  estimateSource?: EstimateSource;
  /** Length of the longest path from the start of this member to the end of the group (seconds). */
  pathSeconds: number;
  /** BullMQ priority (1 runs first): longer remaining critical path, smaller number. */
  priority: number;
}

/** Where a member stands in the group apart from its build: `released` means the build record tells the rest. */
export type MemberPhase = 'waiting' | 'released' | 'skipped' | 'cancelled';

/** Value of `{aoinb}:group:<id>:members` field `<taskId>/<arch>` (JSON). */
export interface MemberRecord {
  phase: MemberPhase;
  /** The round this member last took part in. */
  round: number;
  /** The build run this round makes (the build record's `run` once released). */
  run: number;
  /** When the phase was set. */
  at: string;
  /** For `skipped`: the dependency that did not succeed, and the failure at the root of the chain. */
  skippedBecause?: { key: string; state: string; rootKey: string; rootState: string };
}
