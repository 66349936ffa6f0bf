import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';
import { freePort } from './free-port.ts';

export interface PrometheusHandle {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** An instant query through the HTTP API (`/api/v1/query`); throws unless the status is `success`. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** Every metric name Prometheus has series for (`/api/v1/label/__name__/values`). */
  metricNames(): Promise<string[]>;
  /** Polls `query(expr)` until `accept` says yes, or throws after `timeoutMs`. */
  waitFor(
    expr: string,
    accept: (result: Awaited<ReturnType<PrometheusHandle['query']>>) => boolean,
    timeoutMs?: number,
  ): Promise<Awaited<ReturnType<PrometheusHandle['query']>>>;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its folder; safe to call twice. */
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  /** prometheus.yml text; `rule_files` and `credentials_file` paths should be absolute. */
  config: string;
  /** Parent of the server's private folder; default: the system temp folder. */
  dir?: string;
  timeoutMs?: number;
}

type QueryResult = Awaited<ReturnType<PrometheusHandle['query']>>;

function spawnPrometheus(dir: string, configFile: string, port: number) {
  return execa(
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    {
      reject: false,
      all: true,
      stdin: 'ignore',
      cwd: dir,
    },
  );
}

/** The parts of the HTTP API the tests use. */
function apiClient(url: string): Pick<PrometheusHandle, 'query' | 'metricNames' | 'waitFor'> {
  const api = async <T>(route: string): Promise<T> => {
    const body = (await (await fetch(`${url}${route}`)).json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${route}: ${body.error ?? body.status}`);
    return body.data;
  };
  const query = async (expr: string): Promise<QueryResult> =>
    (await api<{ result: QueryResult }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result;
  return {
    query,
    metricNames: () => api<string[]>('/api/v1/label/__name__/values'),
    async waitFor(expr, accept, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const result = await query(expr);
        if (accept(result)) return result;
        if (Date.now() > until)
          throw new Error(`prometheus: ${expr} never gave the expected answer; last: ${JSON.stringify(result)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}

/**
 * Starts a real Prometheus server (Debian's `prometheus` package) on a free
 * loopback port with its storage in a fresh folder, and waits for `/-/ready`.
 * The server is killed if the test process exits without stopping it.
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<PrometheusHandle> {
  const dir = await mkdtemp(path.join(options.dir ?? tmpdir(), 'aoinb-prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  await writeFile(configFile, options.config);
  const url = `http://127.0.0.1:${await freePort()}`;
  const child = spawnPrometheus(dir, configFile, Number(new URL(url).port));
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await child;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    })());
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (
    !(await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      const output = String((await child).all ?? '').slice(-2000);
      throw new AoinbError(
        'UNAVAILABLE',
        `prometheus did not become ready on ${url} (is the prometheus package installed?): ${output}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, ...apiClient(url), stop };
}

/** Runs `promtool` with the arguments (and stdin); resolves with its exit code and output. */
export async function promtool(args: string[], input?: string): Promise<{ exitCode: number; output: string }> {
  const result = await execa('promtool', args, {
    reject: false,
    all: true,
    ...(input !== undefined ? { input } : { stdin: 'ignore' as const }),
  });
  return { exitCode: result.exitCode ?? 1, output: String(result.all ?? '') };
}
