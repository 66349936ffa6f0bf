import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeTestConfig } from '@aoinb/testkit';
import { farmTokens, type FarmOptions, type WorkerOptions } from './farm-options.ts';

/** Where one process of a test farm keeps its config, and what it connects to. */
export interface FarmConfigPlace {
  dir: string;
  workDir: string;
  /** The coordinator's listen port (every process's `[coordinator] listen`). */
  listenPort: number;
  storageDir: string;
  redis: { url: string } | { cluster: string[] };
  /** The `[worker]` table of a worker's config; absent for a coordinator. */
  worker?: WorkerOptions;
}

function tomlList(values: string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
}

function coordinatorLines(o: FarmOptions, place: FarmConfigPlace): string[] {
  return [
    '[coordinator]',
    `listen = "127.0.0.1:${place.listenPort}"`,
    ...(o.publicUrl ? [`public_url = ${JSON.stringify(o.publicUrl)}`] : []),
    ...(o.leaseSeconds ? [`lease_seconds = ${o.leaseSeconds}`] : []),
    ...(o.reconcileIntervalSeconds ? [`reconcile_interval_seconds = ${o.reconcileIntervalSeconds}`] : []),
    `archs = ${tomlList(o.archs)}`,
    `noarch_arch = "${o.noarchArch ?? o.archs[0]}"`,
    `max_bundle_mib = ${o.maxBundleMib ?? 1}`,
    `storage_dir = ${JSON.stringify(place.storageDir)}`,
    `stalled_interval_seconds = ${o.stalledIntervalSeconds ?? 1}`,
    ...(o.maxStalledCount ? [`max_stalled_count = ${o.maxStalledCount}`] : []),
    ...(o.networkBuilds ? [`network_builds = "${o.networkBuilds}"`] : []),
    ...(o.settleSeconds !== undefined ? [`settle_seconds = ${o.settleSeconds}`] : []),
    ...(o.dashboardDir ? [`dashboard_dir = ${JSON.stringify(o.dashboardDir)}`] : []),
    '[redis]',
    'cluster' in place.redis ? `cluster = ${tomlList(place.redis.cluster)}` : `url = "${place.redis.url}"`,
    ...(o.redisPrefix ? [`prefix = ${JSON.stringify(o.redisPrefix)}`] : []),
  ];
}

function workerLines(worker: WorkerOptions): string[] {
  return [
    '[worker]',
    `id = "${worker.id}"`,
    `archs = ${tomlList(worker.archs)}`,
    `slots = ${worker.slots ?? 1}`,
    'token_file = "secrets/worker.token"',
    `heartbeat_seconds = ${worker.heartbeatSeconds ?? 1}`,
    `lock_seconds = ${worker.lockSeconds ?? 2}`,
    `on_shutdown = "${worker.onShutdown ?? 'requeue'}"`,
    ...(worker.metricsListen ? [`metrics_listen = "${worker.metricsListen}"`] : []),
    ...(worker.minFreeDiskMib !== undefined ? [`min_free_disk_mib = ${worker.minFreeDiskMib}`] : []),
    ...(worker.cores !== undefined ? [`cores = ${worker.cores}`] : []),
    ...(worker.memoryGib !== undefined ? [`memory_gib = ${worker.memoryGib}`] : []),
    ...(worker.allowNetworkBuilds ? ['allow_network_builds = true'] : []),
  ];
}

/**
 * Writes one process's config folder: the shared [coordinator], [redis] and [[tokens]]
 * (every role, its secret in `secrets/<role>.token`), a worker's own [worker], then
 * `extraToml`. Returns the folder.
 */
export async function writeFarmConfig(o: FarmOptions, place: FarmConfigPlace): Promise<string> {
  await mkdir(path.join(place.dir, 'secrets'), { recursive: true });
  for (const [role, token] of Object.entries(farmTokens))
    await writeFile(path.join(place.dir, 'secrets', `${role}.token`), `${token}\n`);
  const lines = [
    ...coordinatorLines(o, place),
    ...(place.worker ? workerLines(place.worker) : []),
    ...Object.keys(farmTokens).flatMap((role) => [
      '[[tokens]]',
      `name = "${role}-user"`,
      `role = "${role}"`,
      `file = "secrets/${role}.token"`,
    ]),
    o.extraToml ?? '',
  ];
  return writeTestConfig({
    dir: place.dir,
    workDir: place.workDir,
    arch: o.archs[0] ?? 'amd64',
    sourceLists: o.sourceLists ?? { stable: 'deb http://127.0.0.1:9/debian bookworm main' },
    sourceAllow: o.sourceAllow,
    extraToml: lines.join('\n'),
  });
}
