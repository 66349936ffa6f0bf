import { encodeFields, type HashSchema } from './hash-codec.ts';
import { activeBuildMember, logMember, type FarmKeys } from './names.ts';
import { capacityArg, type HostCapacity } from './placement.ts';
import type { BuildRecord, BuildState, TaskState } from './records.ts';
import { transitionScript } from './transition-script.ts';
import type { RedisClient } from './redis-options.ts';

/**
 * Why a guarded script refused: the build is gone, on another run or attempt, holds another key, is in another
 * state, has a cancel request, needs more than the claiming host has (`capacity`), or has a report of its
 * attempt publishing (`settling`: see fenceScript's settle lease).
 */
export type Refusal = '' | 'gone' | 'run' | 'attempt' | 'key' | 'state' | 'cancel' | 'capacity' | 'settling';

/** Refusals that mean "addressed to a run or attempt that is no longer current". */
export function isStale(refusal: Refusal): boolean {
  return refusal === 'run' || refusal === 'attempt' || refusal === 'key';
}

export interface TransitionRequest {
  taskId: string;
  arch: string;
  /** Fencing: the run the caller acts on; a build on another run refuses (refusal `run`). */
  run: number;
  /** Every arch of the task, so the script can derive the task's state. */
  archs: string[];
  from?: BuildState[];
  to?: BuildState;
  /** Fencing: the build's attempt must equal `equals`, or be below `below`. */
  attempt?: { equals: number } | { below: number };
  /** Fencing: the build must hold this attempt key hash (a worker's report). */
  attemptKeyHash?: string;
  refuseIfCancelRequested?: boolean;
  /** A worker claiming the build: the attempt goes up by one (and fences every earlier attempt). */
  incrementAttempt?: boolean;
  /** The claiming host: refused (`capacity`, nothing changed) when the build's `needs` ask for more. */
  capacity?: HostCapacity;
  set?: Partial<BuildRecord>;
  unset?: Array<keyof BuildRecord & string>;
  /** A line from the farm for the run's log, written in the same step (before the end, if the state is final). */
  note?: string;
}

export interface TransitionOutcome {
  done: boolean;
  /** Refused because a cancel was requested (only with refuseIfCancelRequested). */
  cancelRequested: boolean;
  /** Why it was refused ('' when done). */
  refusal: Refusal;
  /** The build's state after the call (before it, when refused); '' when there is no such build. */
  state: BuildState | '';
  /** The build's run and attempt (after the call). */
  run: number;
  attempt: number;
  taskState: TaskState | '';
  /** The build's state and builder before the call. */
  previousState: BuildState | '';
  previousBuilder: string;
}

export const eventCap = 10_000;

function attemptRule(rule: TransitionRequest['attempt']): string {
  if (!rule) return '';
  return 'equals' in rule ? `=${rule.equals}` : `<${rule.below}`;
}

type Reply = [number, string, number, string, string, string, number, string];

/** Runs transition-script.ts for one request. */
export async function runTransition(
  redis: RedisClient,
  keys: FarmKeys,
  schema: HashSchema<BuildRecord>,
  req: TransitionRequest,
): Promise<TransitionOutcome> {
  const pairs = Object.entries(encodeFields(schema, req.set ?? {})).flat();
  const names = [
    keys.build(req.taskId, req.arch),
    keys.task(req.taskId),
    keys.activeBuilds,
    keys.events,
    keys.log(req.taskId, req.arch, req.run),
    keys.unarchivedLogs,
    ...req.archs.map((a) => keys.build(req.taskId, a)),
  ];
  const args = [
    (req.from ?? []).join(','),
    req.to ?? '',
    String(req.run),
    attemptRule(req.attempt),
    req.refuseIfCancelRequested ? '1' : '0',
    new Date().toISOString(),
    activeBuildMember(req.taskId, req.arch),
    req.taskId,
    req.arch,
    String(eventCap),
    req.incrementAttempt ? '1' : '0',
    req.attemptKeyHash ?? '',
    req.note ?? '',
    logMember(req.taskId, req.arch, req.run),
    capacityArg(req.capacity),
    String(pairs.length / 2),
    ...pairs,
    ...(req.unset ?? []),
  ];
  const reply = (await redis.eval(transitionScript, names.length, ...names, ...args)) as Reply;
  const refusal = reply[7] as Refusal;
  return {
    done: reply[0] === 1,
    cancelRequested: refusal === 'cancel',
    refusal,
    state: reply[1] as BuildState | '',
    attempt: Number(reply[2]),
    taskState: reply[3] as TaskState | '',
    previousState: reply[4] as BuildState | '',
    previousBuilder: reply[5],
    run: Number(reply[6]),
  };
}
