export {
  defaultConfigDir,
  defaultBaseosUrl,
  defaultMaintainer,
  readConfigTable,
  type AoinbConfig,
  type BuildSettings,
} from './config-schema.ts';
export { loadConfig, readTomlFile, formatProblems } from './load-config.ts';
export { sourceListFor, assertBranchName } from './source-lists.ts';
export { TableReader, type Problem, type TomlTable, type TomlValue } from './table-reader.ts';
export {
  readFarmConfig,
  parseListen,
  type FarmConfig,
  type CoordinatorConfig,
  type WorkerConfig,
  type TokenConfig,
  type TokenRole,
  type MetricsAccess,
  type NetworkBuildsPolicy,
  type ListenAddress,
  shutdownModes,
  type ShutdownMode,
} from './farm-config.ts';
export { type RedisConfig } from './redis-config.ts';
export {
  notifyEvents,
  readNotifyConfig,
  type NotifyConfig,
  type NotifyEvent,
  type WebhookConfig,
} from './notify-config.ts';
export { readRetentionConfig, type RetentionConfig } from './retention-config.ts';
export { parseAllowedDestination, type AllowedDestination, type SourceFetchSettings } from './source-settings.ts';
export { parseEntryArgs, type EntryArgs, type EntryArgsSpec } from './entry-args.ts';
