import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import {
  ensureAppsBuilt,
  FarmLogs,
  freePort,
  startRedis,
  writeFakeBundle,
  writeTestConfig,
  type RedisHandle,
} from '@aoinb/testkit';

/** The built `aoinb`, as installed (the tests keep the builds fresh: @aoinb/testkit's app-builds.ts). */
export const aoinbBin = fileURLToPath(new URL('../bin/aoinb.js', import.meta.url));
// The production `aoinb worker` has no fake executor: the test-only entry point, by the worker's package export.
const fakeWorkerMain = fileURLToPath(import.meta.resolve('@aoinb/worker/dist/fake-main'));

export const cliFarmTokens = {
  maintainer: 'cli-maintainer-token-0123456789',
  worker: 'cli-worker-token-0123456789',
  admin: 'cli-admin-token-0123456789',
} as const;

export interface CliRun {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/**
 * A farm for the CLI's own tests: a real redis-server, and the coordinator and a
 * worker on the fake executor started through `aoinb coordinator` / `aoinb worker`,
 * all with one config folder (as `farm up` has), so the farm commands find the
 * coordinator and their maintainer token in it. Their output is kept in `logs`, for a
 * failed test's report (libs/testkit/src/failed-test-logs.ts).
 */
export class CliFarm {
  private readonly children: ResultPromise[] = [];

  private constructor(
    readonly root: string,
    readonly configDir: string,
    readonly url: string,
    private readonly redis: RedisHandle,
    readonly logs: FarmLogs,
  ) {}

  static async start(): Promise<CliFarm> {
    await ensureAppsBuilt();
    const root = await mkdtemp(path.join(tmpdir(), 'aoinb-cli-farm-'));
    const logs = new FarmLogs({ secrets: Object.values(cliFarmTokens) });
    const redisLog = logs.add('redis-server');
    const redis = await startRedis({ dir: root, onOutput: (text) => redisLog.append(text) });
    const port = await freePort();
    const configDir = path.join(root, 'conf');
    await mkdir(path.join(configDir, 'secrets'), { recursive: true });
    for (const [role, token] of Object.entries(cliFarmTokens))
      await writeFile(path.join(configDir, 'secrets', `${role}.token`), `${token}\n`);
    await writeTestConfig({
      dir: configDir,
      workDir: path.join(root, 'work'),
      arch: 'amd64',
      sourceLists: { stable: 'deb http://127.0.0.1:9/debian bookworm main' },
      extraToml: [
        `[coordinator]\nlisten = "127.0.0.1:${port}"\narchs = ["amd64"]\n` +
          `storage_dir = ${JSON.stringify(path.join(root, 'storage'))}`,
        `[redis]\nurl = "${redis.url}"`,
        '[worker]\nid = "cli-worker"\narchs = ["amd64"]\ntoken_file = "secrets/worker.token"\nheartbeat_seconds = 1',
        ...Object.keys(cliFarmTokens).map(
          (role) => `[[tokens]]\nname = "${role}-user"\nrole = "${role}"\nfile = "secrets/${role}.token"`,
        ),
      ].join('\n\n'),
    });
    const farm = new CliFarm(root, configDir, `http://127.0.0.1:${port}`, redis, logs);
    process.once('exit', () => farm.children.forEach((c) => c.kill('SIGKILL')));
    try {
      farm.spawn('coordinator', ['coordinator']);
      await farm.waitFor(() => farm.answersAsThisFarm(), 'the coordinator', 300_000);
      farm.spawn('cli-worker', ['--enable-source-maps', fakeWorkerMain, '-c', configDir], false);
      await farm.waitFor(
        async () => JSON.stringify((await farm.api('GET', '/builder/status')).body).includes('"cli-worker"'),
        'the worker',
        300_000,
      );
    } catch (error) {
      // A farm that did not come up leaves no process, server or folder behind.
      await farm.stop();
      throw error;
    }
    return farm;
  }

  /** `/healthz` is 200 and names this farm (its identity beside its storage), not another test file's on the port. */
  private async answersAsThisFarm(): Promise<boolean> {
    const res = await fetch(`${this.url}/healthz`).catch(() => undefined);
    if (!res?.ok) return false;
    const { farm_id: answered } = (await res.json()) as { farm_id?: string };
    const own = await readFile(path.join(this.root, 'storage', 'farm-identity.json'), 'utf8').catch(() => undefined);
    return own !== undefined && (JSON.parse(own) as { id?: string }).id === answered;
  }

  private spawn(name: string, args: string[], viaCli = true): void {
    const argv = viaCli ? [aoinbBin, '-c', this.configDir, ...args] : args;
    const child = execa(process.execPath, argv, {
      reject: false,
      buffer: false,
      all: true,
      env: { AOINB_LOG_LEVEL: 'warn' },
    });
    this.logs.follow(name, child.all);
    this.children.push(child);
  }

  /** Runs `aoinb -c CONFIG_DIR ...args` to its end. */
  async run(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
    const r = await execa(process.execPath, [aoinbBin, '-c', this.configDir, ...args], { reject: false, env });
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  }

  /** A call to the API with a role's token. */
  async api(
    method: string,
    route: string,
    role: keyof typeof cliFarmTokens = 'maintainer',
  ): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${this.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${cliFarmTokens[role]}` },
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** A bundle folder for the fake executor (`fake-build.json` says what the build does). */
  bundle(name: string, fake: Record<string, unknown> = {}): Promise<string> {
    return writeFakeBundle(this.root, { name, fake });
  }

  async waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const logs = this.logs.logs.map((log) => `--- ${log.name}\n${log.content().slice(-10_000)}`);
    throw new Error(`timed out waiting for ${what}\n${logs.join('\n')}`);
  }

  async stop(): Promise<void> {
    this.logs.close();
    for (const child of this.children.reverse()) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await child;
      clearTimeout(timer);
    }
    await this.redis.stop();
    await rm(this.root, { recursive: true, force: true });
  }
}
