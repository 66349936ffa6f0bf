export { FarmHarness, type FarmProcess, type JobStatus, type TaskStatus } from './farm-harness.ts';
export { farmTokens, type FarmOptions, type WorkerOptions } from './farm-options.ts';
export { callApi, type ApiAnswer, type ApiCallOptions } from './farm-api.ts';
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
export { bundleMembers, craftTar, packTestBundle, type TarMember, type TestBundle } from './test-bundles.ts';
export {
  alertRuleQueries,
  alertRulesFile,
  asGrafanaSends,
  dashboardQueries,
  type DeployQuery,
} from './deploy-queries.ts';
export { farmDeadlineMs } from './deadlines.ts';
