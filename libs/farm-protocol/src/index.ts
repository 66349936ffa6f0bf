export {
  farmPrefix,
  defaultFarmPrefix,
  farmPrefixProblem,
  farmNames,
  farmKeys,
  type FarmKeys,
  buildQueueName,
  archOfQueue,
  buildJobId,
  parseBuildJobId,
  activeBuildMember,
  parseActiveBuildMember,
  logMember,
  parseLogMember,
} from './names.ts';
export {
  finalBuildStates,
  isFinalBuildState,
  type TaskState,
  type BuildState,
  type BundleInfo,
  type TaskRecord,
  type BuildRecord,
  type ArtifactRecord,
  type BuilderFacts,
  type BuilderState,
  type BuilderStatus,
  type CancelMessage,
  type FarmEvent,
} from './records.ts';
export { buildJobName, type BuildJobData, type BuildJobResult, type SequenceStep } from './job-types.ts';
export { attemptKeyHeader, attemptKeyHash, newAttemptKey, type AttemptBinding } from './attempt-key.ts';
export {
  redisOptions,
  connectRedis,
  closeRedis,
  queueConnection,
  closeQueueConnection,
  farmNode,
  type RedisClient,
  type FarmConnection,
} from './redis-options.ts';
export {
  FarmStore,
  taskSchema,
  buildSchema,
  type IdempotentAnswer,
  type TaskFields,
  type TaskUpdateOutcome,
} from './farm-store.ts';
export { isStale, type Refusal, type TransitionRequest, type TransitionOutcome } from './build-transition.ts';
export { encodeFields, decodeFields, type HashSchema, type FieldKind } from './hash-codec.ts';
export { LogStreamWriter, appendLogLines, logLinesField, logEofField, type LogWriterOptions } from './log-writer.ts';
export { readLogEntries, waitLogEntries, isStreamId, type LogEntry } from './log-reader.ts';
export { writeHeartbeat, retireBuilder, readBuilders } from './builder-registry.ts';
export { publishCancel, subscribeCancel } from './cancel-channel.ts';
export {
  buildQueueOptions,
  stalledCheckerOptions,
  buildWorkerOptions,
  type RetentionSettings,
  type StalledSettings,
} from './queue-settings.ts';
export { backoffDelay, sleep, runWithRestart } from './loops.ts';
export {
  groupFlowQueueName,
  groupJobName,
  groupParentJobId,
  sequenceJobId,
  parseSequenceJobId,
  memberKey,
  parseMemberKey,
} from './group-names.ts';
export {
  finalGroupStates,
  isFinalGroupState,
  type GroupState,
  type GroupMode,
  type PublishMode,
  type EstimateSource,
  type GroupRecord,
  type GroupMemberPlan,
  type MemberPhase,
  type MemberRecord,
} from './group-records.ts';
export { GroupStore, groupSchema, type NewGroup, type ReleaseRequest } from './group-store.ts';
export { RetentionStore, type TaskDeletion, type DeletionOutcome, type PendingDeletion } from './retention-store.ts';
export { LeaseStore, leaseKey } from './lease-store.ts';
export {
  adoptFarmIdentity,
  claimFarmIdentity,
  farmIdentityKey,
  farmIdHeader,
  newFarmIdentity,
  nextIdOfFarm,
  readFarmIdentity,
  readFarmIdentityRaw,
  type FarmIdentity,
} from './farm-identity.ts';
export {
  shortfallsOf,
  mergeNeeds,
  hasNeeds,
  describeNeeds,
  formatNeed,
  gib,
  gb,
  capacityArg,
  type BuildNeeds,
  type HostCapacity,
  type LearnedRequirement,
  type Shortfall,
} from './placement.ts';
