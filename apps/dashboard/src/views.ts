/**
 * The API's answers the pages read: the contract's types (type-only, so the
 * bundle carries no schema code). See libs/farm-contract and docs/protocol.md.
 */
export type {
  ArtifactView as Artifact,
  BuilderView,
  GroupMember,
  GroupStatus,
  GroupSummary,
  JobView,
  MemberRef,
  ResourceView as Resources,
  TaskStatus,
  TaskSummary,
} from '@aoinb/farm-contract';
