import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';
import { freePort } from './free-port.ts';
import { spawnRedis, stopProcess, waitForPing, type RedisProcess } from './redis-server.ts';

export interface RedisClusterHandle {
  /** `redis://127.0.0.1:<port>` of every master: the seed nodes a client starts from. */
  urls: string[];
  ports: number[];
  /** The cluster's private folder (one sub-folder per node; removed by stop()). */
  dir: string;
  /** Shuts every node down and removes the folder; safe to call twice. */
  stop(): Promise<void>;
}

interface ClusterNodeProcess {
  port: number;
  child: RedisProcess;
}

/** Starts one cluster-mode node on free ports (client and cluster bus), retrying when a port was taken meanwhile. */
async function startNode(
  dir: string,
  timeoutMs: number,
  onOutput?: (text: string) => void,
): Promise<ClusterNodeProcess> {
  await mkdir(dir, { recursive: true });
  let lastOutput = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const [port, busPort] = [await freePort(), await freePort()];
    const child = spawnRedis(port, dir, [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      path.join(dir, 'nodes.conf'),
      // The default bus port is port + 10000, which may be taken or beyond 65535.
      '--cluster-port',
      String(busPort),
      '--cluster-node-timeout',
      '5000',
    ]);
    if (onOutput) child.all.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
    if (await waitForPing(child, port, timeoutMs)) return { port, child };
    await stopProcess(child);
    const result = await child;
    lastOutput = String(result.all ?? '').trim() || (result.shortMessage ?? 'no output');
    if (!/Address already in use/i.test(lastOutput)) break;
    await rm(path.join(dir, 'nodes.conf'), { force: true });
  }
  throw new AoinbError('UNAVAILABLE', `a cluster-mode redis-server did not answer PING: ${lastOutput}`);
}

async function clusterInfo(port: number): Promise<string> {
  const result = await execa('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'cluster', 'info'], {
    reject: false,
    timeout: 5000,
  });
  return result.stdout;
}

/** Waits until every node says the cluster is whole: state ok, every slot served, every node known. */
async function waitForClusterOk(ports: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const infos = await Promise.all(ports.map(clusterInfo));
    const whole = (info: string) =>
      /cluster_state:ok/.test(info) &&
      /cluster_slots_ok:16384/.test(info) &&
      new RegExp(`cluster_known_nodes:${ports.length}\\b`).test(info);
    if (infos.every(whole)) return;
    last = infos.find((info) => !whole(info)) ?? '';
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new AoinbError('UNAVAILABLE', `the Redis Cluster did not reach cluster_state:ok: ${last.trim()}`);
}

/**
 * Starts a real Redis Cluster of `masters` (default 3) `redis-server`
 * processes in cluster mode on free loopback ports, no replicas and no
 * persistence, joins them with `redis-cli --cluster create` (the slots spread
 * over the masters) and waits until every node reports `cluster_state:ok`. `onOutput`: what each node
 * prints, by its index (a test farm's logs).
 */
export async function startRedisCluster(
  options: { dir?: string; masters?: number; timeoutMs?: number; onOutput?: (node: number, text: string) => void } = {},
): Promise<RedisClusterHandle> {
  const dir = await mkdtemp(path.join(options.dir ?? tmpdir(), 'aoinb-redis-cluster-'));
  const timeoutMs = options.timeoutMs ?? 30_000;
  const nodes: ClusterNodeProcess[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => stopProcess(n.child)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < (options.masters ?? 3); i++)
      nodes.push(await startNode(path.join(dir, `node-${i}`), timeoutMs, (text) => options.onOutput?.(i, text)));
    const ports = nodes.map((n) => n.port);
    const create = await execa(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      { reject: false, all: true, timeout: timeoutMs, stdin: 'ignore' },
    );
    if (create.exitCode !== 0)
      throw new AoinbError('UNAVAILABLE', `redis-cli --cluster create failed: ${String(create.all ?? '').trim()}`);
    await waitForClusterOk(ports, timeoutMs);
    let stopped: Promise<void> | undefined;
    return {
      urls: ports.map((p) => `redis://127.0.0.1:${p}`),
      ports,
      dir,
      stop: () => (stopped ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
