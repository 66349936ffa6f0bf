/**
 * The API's answers the pages read: the contract's types (type-only, so the
 * bundle carries no schema code). See libs/farm-contract and docs/protocol.md.
 */
export type {
  ArtifactView as Artifact,
  BuilderView,
  FarmInfo,
  GroupMember,
  GroupStatus,
  GroupSummary,
  JobView,
  MemberRef,
  QueueCounts,
  ResourceSampleView as ResourceSample,
  ResourceView as Resources,
  TaskList,
  TaskStatus,
  TaskSummary,
  Whoami as Identity,
} from '@aoinb/farm-contract';
