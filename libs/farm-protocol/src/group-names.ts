/**
 * BullMQ names of group builds (issue 4); their Redis keys are in `farmNames`,
 * under the farm's prefix. A group is a BullMQ flow whose parent lives in the
 * `group-flow` queue and whose children live in the `build-<arch>` queues,
 * all under the same prefix (one hash tag: one Cluster slot).
 */
export const groupFlowQueueName = 'group-flow';

/** The BullMQ job name of a group's parent job. */
export const groupJobName = 'group';

/** The parent job of one round of a group (round 1, then one per retry). */
export function groupParentJobId(groupId: string, round: number): string {
  return `g${groupId}-r${round}`;
}

/** The one job of a sequential group's round on one arch. */
export function sequenceJobId(groupId: string, arch: string, round: number): string {
  return `s${groupId}-${arch}-r${round}`;
}

export function parseSequenceJobId(jobId: string): { groupId: string; arch: string; round: number } | undefined {
  const match = /^s(\d+)-([a-z0-9_]+)-r(\d+)$/.exec(jobId);
  if (!match) return undefined;
  return { groupId: match[1] as string, arch: match[2] as string, round: Number(match[3]) };
}

/** A group member: one arch of one task, `<taskId>/<arch>`. */
export function memberKey(taskId: string, arch: string): string {
  return `${taskId}/${arch}`;
}

export function parseMemberKey(key: string): { taskId: string; arch: string } {
  const at = key.indexOf('/');
  return { taskId: key.slice(0, at), arch: key.slice(at + 1) };
}
