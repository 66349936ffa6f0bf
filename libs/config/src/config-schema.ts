import path from 'node:path';
import { TableReader, type Problem, type TomlTable } from './table-reader.ts';
import { readFarmConfig, type FarmConfig } from './farm-config.ts';
import { readNotifyConfig, type NotifyConfig } from './notify-config.ts';
import { readRetentionConfig, type RetentionConfig } from './retention-config.ts';
import { readSourceSettings, type SourceFetchSettings } from './source-settings.ts';

/** Where the seed keeps its configuration folder. */
export const defaultConfigDir = '/var/cache/aoinb/conf';

/** AOSC's BuildKit tarball location; `{arch}` is replaced by the host's arch. */
export const defaultBaseosUrl = 'https://repo.aosc.io/aosc-os/os-{arch}/buildkit/aosc-os_buildkit_latest_{arch}.tar.xz';

export interface BuildSettings {
  /**
   * Refresh a branch instance when its last apt refresh is older than this; 0 = before every build, as the seed does.
   */
  instanceRefreshMinutes: number;
  /** How often a running build's CPU, memory and disk are sampled. */
  sampleIntervalSeconds: number;
  /** A build running longer is killed and fails; 0 = no limit. */
  timeoutMinutes: number;
  /** Extra systemd-nspawn arguments, e.g. `--bind-ro=/srv/distfiles`. */
  nspawnArgs: string[];
  /** `Name <email>`: written as autobuild4's MTER, the `Maintainer:` of every package built. */
  maintainer: string;
  /** Publish the `-dbg` packages autobuild4 makes beside each package. */
  keepDbg: boolean;
  /** Per-build limits (0 = none); a bundle's ENVREQ raises them to what it says it needs. */
  memoryLimitMib: number;
  pidsLimit: number;
  diskLimitMib: number;
  /** The host's shared apt archive cache, pruned least recently used to this size; 0 = none (each root its own). */
  aptCacheMib: number;
  /** Disk budget of the dependency layers, evicted least recently used; 0 = no layers (install every build). */
  depLayersMib: number;
  /** `source_allow`, `source_max_mib`, `source_timeout_minutes`, `source_stall_seconds`. */
  sources: SourceFetchSettings;
}

/** Where `[build] maintainer` is unset (ciel's default is a bot identity, too). */
export const defaultMaintainer = 'aoinb build farm <aoinb@localhost>';

/**
 * `Name <email>` as ciel accepts it; it goes into a bash file inside the build
 * container between double quotes, so quotes, `$`, backquotes and backslashes are refused.
 */
const maintainerPattern = /^[^"$`\\<>\x00-\x1f]*[^"$`\\<>\s] <[^"$`\\<>\s@]+@[^"$`\\<>\s@]+>$/;

export interface AoinbConfig {
  configDir: string;
  workDir: string;
  arch: string;
  baseos: {
    url: string;
    /** sources.list used inside the base OS by update-baseos. */
    sourcesList: string;
  };
  build: BuildSettings;
  /** [coordinator], [redis], [worker], [[tokens]]: only the farm commands use these. */
  farm: FarmConfig;
  /** [[notify.webhook]]: who the coordinator tells when builds end. */
  notify: NotifyConfig;
  /** [retention]: what the coordinator's pruner removes, and when. */
  retention: RetentionConfig;
}

const archPattern = /^[a-z0-9][a-z0-9_]*$/;

function absoluteIn(configDir: string, file: string): string {
  return path.resolve(configDir, file);
}

/** The schema of `config.toml`: reads every known key, reports every problem by key path. */
export function readConfigTable(raw: TomlTable, configDir: string, problems: Problem[]): AoinbConfig {
  const root = new TableReader(raw, '', problems);
  const workDir = root.string('work_dir', { default: '/var/cache/aoinb/work' });
  if (!path.isAbsolute(workDir)) root.problem('work_dir', `must be an absolute path, got ${JSON.stringify(workDir)}`);
  const arch = root.string('arch', { pattern: archPattern, hint: 'an AOSC arch name such as amd64 or arm64' });

  const baseosTable = root.section('baseos');
  const baseos = {
    url: baseosTable.string('url', { default: defaultBaseosUrl }).replaceAll('{arch}', arch),
    sourcesList: absoluteIn(configDir, baseosTable.string('sources_list', { default: 'source_lists/baseos.list' })),
  };
  baseosTable.rejectUnknown();

  const buildTable = root.section('build');
  const build: BuildSettings = {
    instanceRefreshMinutes: buildTable.integer('instance_refresh_minutes', { default: 0, min: 0 }),
    sampleIntervalSeconds: buildTable.number('sample_interval_seconds', { default: 3, min: 0.1 }),
    timeoutMinutes: buildTable.integer('timeout_minutes', { default: 0, min: 0 }),
    nspawnArgs: buildTable.stringArray('nspawn_args', []),
    maintainer: buildTable.string('maintainer', {
      default: defaultMaintainer,
      pattern: maintainerPattern,
      hint: 'want "Name <email>" without quotes, $, ` or \\',
    }),
    keepDbg: buildTable.boolean('keep_dbg', true),
    memoryLimitMib: buildTable.integer('memory_limit_mib', { default: 8192, min: 0, max: 16 * 1024 * 1024 }),
    pidsLimit: buildTable.integer('pids_limit', { default: 4096, min: 0, max: 4_194_304 }),
    diskLimitMib: buildTable.integer('disk_limit_mib', { default: 32768, min: 0, max: 1024 * 1024 * 1024 }),
    aptCacheMib: buildTable.integer('apt_cache_mib', { default: 4096, min: 0, max: 1024 * 1024 * 1024 }),
    depLayersMib: buildTable.integer('dep_layers_mib', { default: 16384, min: 0, max: 1024 * 1024 * 1024 }),
    sources: readSourceSettings(buildTable),
  };
  buildTable.rejectUnknown();

  const farm = readFarmConfig(root, arch, workDir, configDir);
  const notify = readNotifyConfig(root, configDir);
  const retention = readRetentionConfig(root);
  root.rejectUnknown();
  return { configDir, workDir, arch, baseos, build, farm, notify, retention };
}
