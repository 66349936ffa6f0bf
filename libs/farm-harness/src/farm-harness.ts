import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, type ConnectionOptions } from 'bullmq';
import { execa, type ResultPromise } from 'execa';
import { buildQueueName, closeQueueConnection, defaultFarmPrefix, queueConnection } from '@aoinb/farm-protocol';
import {
  freePort,
  startRedis,
  startRedisCluster,
  writeTestConfig,
  type RedisClusterHandle,
  type RedisHandle,
} from '@aoinb/testkit';
import type { TaskStatus } from '@aoinb/farm-contract';

/**
 * A whole farm for tests and benchmarks: a real redis-server, the coordinator
 * and worker agents as separate processes (`node --import tsx <entry point>`),
 * each with its own config folder, the workers on the fake executor. The apps
 * are started through their packages' entry points, never imported.
 */
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const entryPoint = (specifier: string): string => fileURLToPath(import.meta.resolve(specifier));
const coordinatorMain = entryPoint('@aoinb/coordinator/main');
const workerMain = entryPoint('@aoinb/worker/main');
/** The test-only worker entry point: the production one has no fake executor. */
const fakeWorkerMain = entryPoint('@aoinb/worker/fake-main');

/** One token per role; each process's config lists them all as `[[tokens]]` named `<role>-user`. */
export const farmTokens = {
  reader: 'reader-token-0123456789',
  maintainer: 'maintainer-token-0123456789',
  worker: 'worker-token-0123456789',
  admin: 'admin-token-0123456789',
} as const;

export interface FarmOptions {
  /** Archs with build queues. */
  archs: string[];
  noarchArch?: string;
  maxBundleMib?: number;
  stalledIntervalSeconds?: number;
  /** `[coordinator] max_stalled_count`: times a job may come back from a lost worker before it fails. */
  maxStalledCount?: number;
  /** TOML appended to every config (e.g. [build] settings). */
  extraToml?: string;
  /** Branch -> sources.list text; default: `stable` with an unreachable mirror (enough for the fake executor). */
  sourceLists?: Record<string, string>;
  /** `[build] source_allow` entries for workers that fetch sources from loopback servers. */
  sourceAllow?: string[];
  logLevel?: string;
  /** `[redis] prefix` of every process (default `{aoinb}`): farms apart by prefix. */
  redisPrefix?: string;
  /** Run on a real 3-master Redis Cluster (`[redis] cluster`) instead of one redis-server. */
  redisCluster?: boolean;
  /** `[coordinator] public_url` (e.g. a balancer in front of two coordinators); default: the coordinator's listen. */
  publicUrl?: string;
  /** `[coordinator] lease_seconds` and `reconcile_interval_seconds`. */
  leaseSeconds?: number;
  reconcileIntervalSeconds?: number;
  /** Extra `node` flags for the coordinator process only (e.g. `--cpu-prof` in the scale benchmark). */
  coordinatorNodeArgs?: string[];
  /** `[coordinator] network_builds` (default: the config's, `never`). */
  networkBuilds?: 'never' | 'admin' | 'any-submitter';
}

export interface WorkerOptions {
  id: string;
  archs: string[];
  slots?: number;
  lockSeconds?: number;
  heartbeatSeconds?: number;
  onShutdown?: 'requeue' | 'finish';
  /** `fake` (default) or `nspawn`: the real pipeline (then `workDir` should hold a loaded base OS). */
  executor?: 'fake' | 'nspawn';
  /** The worker's work_dir; default: its own folder under the farm root. */
  workDir?: string;
  fakeDurationMs?: number;
  /** `[worker] metrics_listen`, e.g. `127.0.0.1:9464`: the worker serves /metrics there. */
  metricsListen?: string;
  /** `[worker] min_free_disk_mib` (default: the config's). */
  minFreeDiskMib?: number;
  /** `[worker] cores` / `memory_gib`: what the worker offers builds (default: the host's). */
  cores?: number;
  memoryGib?: number;
  /** `[worker] allow_network_builds`. */
  allowNetworkBuilds?: boolean;
}

type Child = ResultPromise<{
  reject: false;
  stdin: 'ignore';
  stdout: 'pipe';
  stderr: 'pipe';
  all: true;
  env: Record<string, string>;
}>;

export interface FarmProcess {
  name: string;
  child: Child;
  /** Everything the process wrote (stdout and stderr), for failure messages. */
  output(): string;
}

function tomlList(values: string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
}

export class FarmHarness {
  readonly processes = new Map<string, FarmProcess>();
  coordinatorUrl = '';
  private port = 0;

  /**
   * `redis`: the redis-server (with `redisCluster`, the cluster's first node: stop() stops them all); `cluster`:
   * the cluster, when the farm runs on one.
   */
  private constructor(
    readonly root: string,
    readonly redis: RedisHandle,
    readonly options: FarmOptions,
    readonly cluster?: RedisClusterHandle,
  ) {}

  static async create(options: FarmOptions): Promise<FarmHarness> {
    const root = await mkdtemp(path.join(tmpdir(), 'aoinb-farm-'));
    let farm: FarmHarness;
    if (options.redisCluster) {
      const cluster = await startRedisCluster({ dir: root });
      const first = { url: cluster.urls[0]!, port: cluster.ports[0]!, dir: cluster.dir, stop: cluster.stop };
      farm = new FarmHarness(root, first, options, cluster);
    } else farm = new FarmHarness(root, await startRedis({ dir: root }), options);
    // A test or benchmark that crashes must not leave agents running: kill them as the process exits.
    process.once('exit', () => {
      for (const p of farm.processes.values()) p.child.kill('SIGKILL');
    });
    farm.port = await freePort();
    farm.coordinatorUrl = `http://127.0.0.1:${farm.port}`;
    return farm;
  }

  get storageDir(): string {
    return path.join(this.root, 'storage');
  }

  /** A config folder (one per process): shared [coordinator], [redis], [[tokens]]; its own [worker]. */
  async configDir(name: string, worker?: WorkerOptions, listenPort = this.port): Promise<string> {
    const dir = path.join(this.root, 'conf', name);
    await mkdir(path.join(dir, 'secrets'), { recursive: true });
    for (const [role, token] of Object.entries(farmTokens))
      await writeFile(path.join(dir, 'secrets', `${role}.token`), `${token}\n`);
    const o = this.options;
    const lines = [
      '[coordinator]',
      `listen = "127.0.0.1:${listenPort}"`,
      ...(o.publicUrl ? [`public_url = ${JSON.stringify(o.publicUrl)}`] : []),
      ...(o.leaseSeconds ? [`lease_seconds = ${o.leaseSeconds}`] : []),
      ...(o.reconcileIntervalSeconds ? [`reconcile_interval_seconds = ${o.reconcileIntervalSeconds}`] : []),
      `archs = ${tomlList(o.archs)}`,
      `noarch_arch = "${o.noarchArch ?? o.archs[0]}"`,
      `max_bundle_mib = ${o.maxBundleMib ?? 1}`,
      `storage_dir = ${JSON.stringify(this.storageDir)}`,
      `stalled_interval_seconds = ${o.stalledIntervalSeconds ?? 1}`,
      ...(o.maxStalledCount ? [`max_stalled_count = ${o.maxStalledCount}`] : []),
      ...(o.networkBuilds ? [`network_builds = "${o.networkBuilds}"`] : []),
      '[redis]',
      this.cluster ? `cluster = ${tomlList(this.cluster.urls)}` : `url = "${this.redis.url}"`,
      ...(o.redisPrefix ? [`prefix = ${JSON.stringify(o.redisPrefix)}`] : []),
      ...(worker
        ? [
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
          ]
        : []),
      ...Object.keys(farmTokens).flatMap((role) => [
        '[[tokens]]',
        `name = "${role}-user"`,
        `role = "${role}"`,
        `file = "secrets/${role}.token"`,
      ]),
      o.extraToml ?? '',
    ];
    const sourceLists = o.sourceLists ?? { stable: 'deb http://127.0.0.1:9/debian bookworm main' };
    return writeTestConfig({
      dir,
      workDir: worker?.workDir ?? path.join(this.root, 'work', name),
      arch: o.archs[0] ?? 'amd64',
      sourceLists,
      sourceAllow: o.sourceAllow,
      extraToml: lines.join('\n'),
    });
  }

  private spawn(name: string, main: string, args: string[], nodeArgs: string[] = []): FarmProcess {
    const child = execa(process.execPath, [...nodeArgs, '--import', import.meta.resolve('tsx'), main, ...args], {
      cwd: repoRoot,
      reject: false,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      all: true,
      env: { AOINB_LOG_LEVEL: this.options.logLevel ?? 'warn' },
    }) as Child;
    let text = '';
    child.all?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.length > 200_000) text = text.slice(-100_000);
    });
    const proc = { name, child, output: () => text };
    this.processes.set(name, proc);
    return proc;
  }

  /** Starts a coordinator; a second one (another `name` and `port`) shares the Redis and the storage folder. */
  async startCoordinator(name = 'coordinator', port = this.port): Promise<FarmProcess> {
    const dir = await this.configDir(name, undefined, port);
    const proc = this.spawn(name, coordinatorMain, ['-c', dir], this.options.coordinatorNodeArgs);
    await this.waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`${name} exited: ${proc.output()}`);
        const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        return res?.ok ?? false;
      },
      90_000,
      `${name} to answer /healthz`,
    );
    return proc;
  }

  /** Starts a worker agent (fake executor unless told otherwise) and waits for its first heartbeat. */
  async startWorker(worker: WorkerOptions): Promise<FarmProcess> {
    const dir = await this.configDir(worker.id, worker);
    const fake = (worker.executor ?? 'fake') === 'fake';
    const args = [
      '-c',
      dir,
      ...(fake && worker.fakeDurationMs !== undefined ? ['--fake-duration-ms', String(worker.fakeDurationMs)] : []),
    ];
    const proc = this.spawn(worker.id, fake ? fakeWorkerMain : workerMain, args);
    await this.waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`worker ${worker.id} exited: ${proc.output()}`);
        const res = await this.api('GET', '/builder/status');
        const builders = (res.body as { builders?: Array<{ id: string; state: string }> }).builders ?? [];
        return builders.some((b) => b.id === worker.id && b.state !== 'offline');
      },
      90_000,
      `worker ${worker.id} to heartbeat`,
    );
    return proc;
  }

  /** Sends a signal and waits for the process to exit. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<void> {
    const proc = this.processes.get(name);
    if (!proc) return;
    this.processes.delete(name);
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
    proc.child.kill(signal);
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
    await proc.child;
    clearTimeout(timer);
  }

  async api(
    method: string,
    route: string,
    body?: unknown,
    options: { token?: string | null; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: unknown; text: string }> {
    const token = options.token === undefined ? farmTokens.admin : options.token;
    const headers: Record<string, string> = {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...options.headers,
    };
    let payload: string | Uint8Array | undefined;
    if (body instanceof Uint8Array) {
      payload = body;
      headers['content-type'] ??= 'application/octet-stream';
    } else if (typeof body === 'string') {
      payload = body;
      headers['content-type'] ??= 'text/plain';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${this.coordinatorUrl}${route}`, { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Plain text (logs, repository files).
    }
    return { status: res.status, body: parsed, text };
  }

  /** POST /task, PUT bundle, PUT branch, PUT build; returns the task id. */
  async submit(
    archive: Uint8Array,
    options: { branch?: string; build?: Record<string, unknown> } = {},
  ): Promise<string> {
    const created = await this.api('POST', '/task', undefined, { token: farmTokens.maintainer });
    const id = (created.body as { id: string }).id;
    const steps = [
      await this.api('PUT', `/task/${id}/build_bundle`, archive, { token: farmTokens.maintainer }),
      await this.api('PUT', `/task/${id}/branch`, options.branch ?? 'stable', { token: farmTokens.maintainer }),
      await this.api('PUT', `/task/${id}/build`, options.build ?? {}, { token: farmTokens.maintainer }),
    ];
    const bad = steps.find((s) => s.status >= 300);
    if (bad) throw new Error(`submit failed: ${bad.status} ${bad.text}`);
    return id;
  }

  async status(taskId: string): Promise<TaskStatus> {
    return (await this.api('GET', `/task/${taskId}/status`)).body as TaskStatus;
  }

  async waitForState(taskId: string, states: string[], timeoutMs = 30_000): Promise<TaskStatus> {
    let last: TaskStatus | undefined;
    await this.waitFor(
      async () => {
        last = await this.status(taskId);
        return states.includes(last.state);
      },
      timeoutMs,
      `task ${taskId} to be ${states.join('|')}`,
      () => JSON.stringify(last),
    );
    return last!;
  }

  /** Runs `use` on the BullMQ queue of `arch` (a connection of its own, closed after). */
  async withQueue<T>(arch: string, use: (queue: Queue) => Promise<T>): Promise<T> {
    const queue = new Queue(buildQueueName(arch), {
      connection: queueConnection({
        host: '127.0.0.1',
        port: this.redis.port,
        cluster: this.clusterNodes(),
      }) as ConnectionOptions,
      prefix: this.options.redisPrefix ?? defaultFarmPrefix,
    });
    try {
      return await use(queue);
    } finally {
      await queue.close();
      await closeQueueConnection(queue.opts.connection);
    }
  }

  /** The cluster's nodes as ioredis seeds (undefined on one redis-server). */
  clusterNodes(): Array<{ host: string; port: number }> | undefined {
    return this.cluster?.ports.map((port) => ({ host: '127.0.0.1', port }));
  }

  /** The BullMQ state of a build job ('completed' and 'failed' are final; a retry is 'waiting' or 'delayed'). */
  buildJobState(arch: string, jobId: string): Promise<string> {
    return this.withQueue(arch, (queue) => queue.getJobState(jobId));
  }

  async waitFor(
    check: () => Promise<boolean>,
    timeoutMs: number,
    what: string,
    detail?: () => string,
    intervalMs = 50,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    const logs = [...this.processes.values()].map((p) => `--- ${p.name}\n${p.output().slice(-4000)}`).join('\n');
    throw new Error(`timed out waiting for ${what}${detail ? `: ${detail()}` : ''}\n${logs}`);
  }

  /** Kills every process, stops Redis and removes the folder. */
  async stop(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((name) => this.kill(name, 'SIGKILL', 5000)));
    await this.redis.stop();
    await rm(this.root, { recursive: true, force: true });
  }
}

// What the tests read of `GET /task/:id/status`: the contract's types.
export type { JobView as JobStatus, TaskStatus } from '@aoinb/farm-contract';
