import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import { AoinbError } from '@aoinb/errors';
import type { SourcePolicy } from '../sources/destination-policy.ts';
import { startCheckedProxy } from '../sources/git-proxy.ts';

/**
 * The network a build gets when it is explicitly allowed one (`aoinb build
 * --network`): still no interface but loopback, in a network namespace of its
 * own; on that loopback a relay to the host's checked proxy (the same
 * destination policy as source downloads: no loopback, link-local, private or
 * LAN address unless allowlisted, checked after DNS and on every connection).
 * The build reaches the internet through `http_proxy`/`https_proxy` only; the
 * host, the farm's control plane and the LAN stay out of reach, and nothing
 * but proxy-aware HTTP(S) leaves (no raw sockets, no DNS of its own).
 */
export interface BuildNetwork {
  /** `--network-namespace-path=` for nspawn. */
  namespacePath: string;
  /** http_proxy and friends for the container. */
  env: Record<string, string>;
  /** Why the proxy refused connections, for the build log. */
  refusals(): string[];
  close(): Promise<void>;
}

/** Where the proxies' socket files live (host only; short, for the 108-byte socket path limit). */
export const buildNetworkRunDir = '/run/aoinb';

/** Port of the relay on the build's own loopback. */
export const buildProxyPort = 3128;

// The relay: plain node, run inside the namespace by `ip netns exec`. It only copies bytes
// between the namespace's loopback and the proxy's socket file, which it reaches through the
// host's filesystem (socket files are not bound to a network namespace).
const relaySource = `
const net = require('node:net');
const [port, socketPath] = process.argv.slice(1);
net.createServer((inside) => {
  const proxy = net.connect(socketPath);
  const end = () => { inside.destroy(); proxy.destroy(); };
  for (const s of [inside, proxy]) { s.on('error', end); s.on('close', end); }
  inside.pipe(proxy); proxy.pipe(inside);
}).listen(Number(port), '127.0.0.1', () => console.log('ready'));
`;

async function ip(args: string[]): Promise<void> {
  const result = await execa('ip', args, { reject: false });
  if (result.exitCode !== 0)
    throw new AoinbError('CONTAINER_FAILED', `ip ${args.join(' ')} failed: ${String(result.stderr).trim()}`);
}

/** `aoinb-net-<buildId>`: the namespace's name; stale ones are found by the prefix. */
export function namespaceName(buildId: string): string {
  return `aoinb-net-${buildId}`;
}

export async function openBuildNetwork(options: {
  buildId: string;
  /** Holds the proxy's socket file (the build's run folder on the host). */
  runDir: string;
  policy: SourcePolicy;
}): Promise<BuildNetwork> {
  const name = namespaceName(options.buildId);
  const socketPath = path.join(options.runDir, `net-${options.buildId}.sock`);
  await mkdir(options.runDir, { recursive: true });
  await rm(socketPath, { force: true });
  let relay: ResultPromise | undefined;
  const proxy = await startCheckedProxy(options.policy, { socketPath, use: 'build-network' });
  try {
    await ip(['netns', 'add', name]);
    await ip(['-n', name, 'link', 'set', 'lo', 'up']);
    // With a parent-death signal, so a SIGKILLed worker leaves no relay behind (stale-state.ts removes the rest).
    const relayArgs = ['netns', 'exec', name, process.execPath, '-e', relaySource, String(buildProxyPort), socketPath];
    relay = execa('setpriv', ['--pdeathsig', 'KILL', '--', 'ip', ...relayArgs], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      extendEnv: false,
      stdin: 'ignore',
      buffer: false,
      reject: false,
    });
    await relayReady(relay);
  } catch (error) {
    relay?.kill('SIGKILL');
    await proxy.close();
    await removeNamespace(name);
    throw error;
  }
  const url = `http://${proxy.credentials}@127.0.0.1:${buildProxyPort}`;
  return {
    namespacePath: `/run/netns/${name}`,
    env: { http_proxy: url, https_proxy: url, HTTP_PROXY: url, HTTPS_PROXY: url },
    // Policy decisions only: a peer resetting a tunnel is not a refusal worth a log line.
    refusals: () =>
      proxy
        .refusals()
        .filter((e) => e.code !== 'SOURCE_FETCH_FAILED')
        .map((e) => e.message),
    close: async () => {
      relay?.kill('SIGKILL');
      await relay?.catch(() => undefined);
      await proxy.close();
      await removeNamespace(name);
      await rm(socketPath, { force: true });
    },
  };
}

async function relayReady(relay: ResultPromise): Promise<void> {
  const lines = createInterface({ input: relay.stdout! });
  const exited = relay.then((r) => {
    throw new AoinbError('CONTAINER_FAILED', `the build network's relay exited: ${String(r.stderr ?? '').trim()}`);
  });
  const ready = new Promise<void>((resolve) => lines.on('line', (l) => l === 'ready' && resolve()));
  await Promise.race([ready, exited]);
}

/** What a build that died without closing its network leaves: its namespace and socket file. */
export async function removeDeadBuildNetwork(buildId: string): Promise<void> {
  await removeNamespace(namespaceName(buildId));
  await rm(path.join(buildNetworkRunDir, `net-${buildId}.sock`), { force: true });
}

/** Removes a build's namespace; one that is already gone is fine. */
export async function removeNamespace(name: string): Promise<void> {
  await execa('ip', ['netns', 'delete', name], { reject: false });
}

/** Namespaces of builds that died without closing their network (for cleanup). */
export async function staleNamespaces(): Promise<string[]> {
  const listed = await execa('ip', ['netns', 'list'], { reject: false });
  return String(listed.stdout)
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith('aoinb-net-'));
}
