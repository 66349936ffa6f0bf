export {
  FarmHarness,
  farmTokens,
  type FarmOptions,
  type FarmProcess,
  type JobStatus,
  type TaskStatus,
  type WorkerOptions,
} from './farm-harness.ts';
export {
  groupStatus,
  member,
  ms,
  postGroup,
  uploadTasks,
  waitForGroup,
  type GroupMemberStatus,
  type GroupStatus,
} from './group-client.ts';
export { linesOf, readSse, type SseEvent } from './sse-client.ts';
export { craftTar, packTestBundle, validMembers, type TarMember, type TestBundle } from './test-bundles.ts';
export {
  alertRuleQueries,
  alertRulesFile,
  asGrafanaSends,
  dashboardQueries,
  type DeployQuery,
} from './deploy-queries.ts';
