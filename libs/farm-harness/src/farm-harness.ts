import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, type ConnectionOptions } from 'bullmq';
import { execa, type ResultPromise } from 'execa';
import { buildQueueName, closeQueueConnection, defaultFarmPrefix, queueConnection } from '@aoinb/farm-protocol';
import { ensureAppsBuilt, FarmLogs, freePort, type RedisClusterHandle, type RedisHandle } from '@aoinb/testkit';
import type { TaskStatus } from '@aoinb/farm-contract';
import { callApi, type ApiAnswer, type ApiCallOptions } from './farm-api.ts';
import { farmDeadlineMs, farmStartDeadlineMs } from './deadlines.ts';
import { writeFarmConfig } from './farm-config.ts';
import { farmTokens, type FarmOptions, type WorkerOptions } from './farm-options.ts';
import { startFarmRedis } from './farm-redis.ts';
import { killStrayProcesses } from './stray-processes.ts';

/**
 * A whole farm for tests and benchmarks: a real redis-server, the coordinator
 * and worker agents as separate processes (`node --enable-source-maps <built entry point>`, as systemd runs
 * them; @aoinb/testkit's app-builds.ts keeps the builds fresh), each with its own config folder, the workers
 * on the fake executor. The apps are started through their packages' entry points, never imported.
 */
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const entryPoint = (specifier: string): string => fileURLToPath(import.meta.resolve(specifier));
const coordinatorMain = entryPoint('@aoinb/coordinator/dist/main');
const workerMain = entryPoint('@aoinb/worker/dist/main');
/** The test-only worker entry point: the production one has no fake executor. */
const fakeWorkerMain = entryPoint('@aoinb/worker/dist/fake-main');

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
  /** Everything the process wrote (stdout and stderr; its log in `FarmHarness.logs`), tokens blanked. */
  output(): string;
}

export class FarmHarness {
  readonly processes = new Map<string, FarmProcess>();
  coordinatorUrl = '';
  private port = 0;

  /**
   * `redis`: the redis-server (with `redisCluster`, the cluster's first node: stop() stops them all); `cluster`:
   * the cluster, when the farm runs on one. `logs`: every process's output, kept past stop() for a failed
   * test's report (libs/testkit/src/failed-test-logs.ts); a process a test starts itself can join (`follow`).
   */
  private constructor(
    readonly root: string,
    readonly redis: RedisHandle,
    readonly options: FarmOptions,
    readonly logs: FarmLogs,
    readonly cluster?: RedisClusterHandle,
  ) {}

  static async create(options: FarmOptions): Promise<FarmHarness> {
    await ensureAppsBuilt();
    const root = await mkdtemp(path.join(tmpdir(), 'aoinb-farm-'));
    const logs = new FarmLogs({ secrets: Object.values(farmTokens) });
    const { redis, cluster } = await startFarmRedis(root, options.redisCluster ?? false, logs);
    const farm = new FarmHarness(root, redis, options, logs, cluster);
    // A test or benchmark that crashes must not leave agents running: kill them as the process exits.
    process.once('exit', () => {
      for (const p of farm.processes.values()) p.child.kill('SIGKILL');
    });
    farm.port = await freePort();
    farm.coordinatorUrl = `http://127.0.0.1:${farm.port}`;
    return farm;
  }

  /** The port the farm's (first) coordinator listens on. */
  get apiPort(): number {
    return this.port;
  }

  get storageDir(): string {
    return path.join(this.root, 'storage');
  }

  /** A config folder (one per process): shared [coordinator], [redis], [[tokens]]; its own [worker]. */
  configDir(name: string, worker?: WorkerOptions, listenPort = this.port): Promise<string> {
    return writeFarmConfig(this.options, {
      dir: path.join(this.root, 'conf', name),
      workDir: worker?.workDir ?? path.join(this.root, 'work', name),
      listenPort,
      storageDir: this.storageDir,
      redis: this.cluster ? { cluster: this.cluster.urls } : { url: this.redis.url },
      worker,
    });
  }

  private spawn(name: string, main: string, args: string[], nodeArgs: string[] = []): FarmProcess {
    const child = execa(process.execPath, ['--enable-source-maps', ...nodeArgs, main, ...args], {
      cwd: repoRoot,
      reject: false,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      all: true,
      env: { AOINB_LOG_LEVEL: this.options.logLevel ?? 'warn' },
    }) as Child;
    const log = this.logs.follow(name, child.all);
    const proc = { name, child, output: () => log.content() };
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
        return this.answersAsThisFarm(port);
      },
      farmStartDeadlineMs,
      `${name} to answer /healthz`,
    );
    return proc;
  }

  /**
   * `/healthz` on `port` is 200 and names this farm: the identity the coordinator wrote next to its
   * storage (docs/operations.md). A port just freed can be taken by another test's coordinator,
   * whose answer must not pass for this one's.
   */
  private async answersAsThisFarm(port: number): Promise<boolean> {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
    if (!res?.ok) return false;
    const { farm_id: answered } = (await res.json()) as { farm_id?: string };
    const own = await readFile(path.join(this.storageDir, 'farm-identity.json'), 'utf8').catch(() => undefined);
    return own !== undefined && (JSON.parse(own) as { id?: string }).id === answered;
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
      farmStartDeadlineMs,
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

  /** One call of the coordinator's API, with the admin token unless `options.token` says otherwise (null: none). */
  api(method: string, route: string, body?: unknown, options: ApiCallOptions = {}): Promise<ApiAnswer> {
    return callApi(this.coordinatorUrl, method, route, body, {
      ...options,
      token: options.token === undefined ? farmTokens.admin : options.token,
    });
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

  async waitForState(taskId: string, states: string[], timeoutMs = farmDeadlineMs): Promise<TaskStatus> {
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

  /** Kills every process, stops Redis and removes the folder; `logs` stay readable. */
  async stop(): Promise<void> {
    this.logs.close();
    await Promise.all([...this.processes.keys()].map((name) => this.kill(name, 'SIGKILL', 5000)));
    // A SIGKILLed coordinator never stops the gpg-agent its signer started (gpg signing mode): stop it here.
    await execa('gpgconf', ['--homedir', path.join(this.storageDir, 'signing'), '--kill', 'gpg-agent'], {
      reject: false,
      stdin: 'ignore',
    });
    await this.redis.stop();
    await killStrayProcesses(this.root);
    await rm(this.root, { recursive: true, force: true });
  }
}

// What the tests read of `GET /task/:id/status`: the contract's types.
export type { JobView as JobStatus, TaskStatus } from '@aoinb/farm-contract';
