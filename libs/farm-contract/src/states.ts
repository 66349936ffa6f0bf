/**
 * Every state the farm reports, as plain lists: the schemas build their enums
 * from them, and the dashboard imports this file alone (no TypeBox in its bundle).
 */
export const taskStates = ['created', 'queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TaskState = (typeof taskStates)[number];

/** One arch of a task (one BullMQ job per run). */
export const buildStates = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type BuildState = (typeof buildStates)[number];

export const finalBuildStates = ['succeeded', 'failed', 'cancelled'] as const;
export type FinalBuildState = (typeof finalBuildStates)[number];
/** A task ends in the same three states as its builds. */
export const finalTaskStates = finalBuildStates;

export function isFinalTaskState(state: string): state is FinalBuildState {
  return (finalTaskStates as readonly string[]).includes(state);
}

export function isFinalBuildState(state: string): state is FinalBuildState {
  return (finalBuildStates as readonly string[]).includes(state);
}

/**
 * Where a group member's expected duration comes from: its package's learned requirement on that
 * arch (earlier builds' wall time), the older duration history, or the configured default.
 */
export const estimateSources = ['learned', 'history', 'default'] as const;
export type EstimateSource = (typeof estimateSources)[number];

export const groupStates = ['queued', 'running', 'succeeded', 'failed', 'partial', 'cancelled'] as const;
export type GroupState = (typeof groupStates)[number];

export const finalGroupStates = ['succeeded', 'failed', 'partial', 'cancelled'] as const;

export function isFinalGroupState(state: string): boolean {
  return (finalGroupStates as readonly string[]).includes(state);
}

/** A group member: its phase in the group until released, then its build's state. */
export const memberStates = ['waiting', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'] as const;
export type MemberState = (typeof memberStates)[number];

/** `dag`: members spread over every free host as their dependencies succeed; `sequential`: one job per arch, in order, on one host. */
export const groupModes = ['dag', 'sequential'] as const;
export type GroupMode = (typeof groupModes)[number];

/** `each`: every member reaches the branch repo as it succeeds; `atomic`: all at once, only when every member succeeded. */
export const publishModes = ['each', 'atomic'] as const;
export type PublishMode = (typeof publishModes)[number];

export const builderStates = ['idle', 'building', 'offline'] as const;
export type BuilderState = (typeof builderStates)[number];

/**
 * Why a build did not succeed, as a class a dashboard or script can count and
 * match on (the `reason` is for people). `build` is the package's own fault
 * (build.sh failed, a bad bundle); every other class is the farm's or the host's.
 */
export const failureClasses = [
  'build',
  'disk-full',
  'out-of-memory',
  'timeout',
  'cancelled',
  'lost-host',
  'infrastructure',
] as const;
export type FailureClass = (typeof failureClasses)[number];

/** `draining`: SIGTERM received, taking no new jobs; `paused`: taking no jobs for a reason (disk, farm identity). */
export const builderModes = ['active', 'draining', 'paused'] as const;
export type BuilderMode = (typeof builderModes)[number];
