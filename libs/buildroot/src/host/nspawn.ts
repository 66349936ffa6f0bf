import { createInterface } from 'node:readline';
import { execa } from 'execa';

export interface ContainerRun {
  /** Root folder of the container (a mounted overlay). */
  root: string;
  /** Unique machine name; nspawn keys its runtime state on it. */
  machine: string;
  command: string[];
  chdir?: string;
  /** The container's whole environment besides what nspawn sets itself (PATH, HOME, container=...). */
  env?: Record<string, string>;
  /**
   * `private` (the default): a network namespace of its own with only a loopback,
   * so nothing on the host, the farm or the LAN is reachable. `host`: the host's
   * network, for steps that run no bundle code (apt downloads, base OS refresh).
   * `{ namespacePath }`: a namespace prepared on the host (build-network.ts: loopback
   * and a relay to the checked proxy, for builds allowed a network).
   */
  network?: 'private' | 'host' | { namespacePath: string };
  /** Capabilities removed from the payload's bounding set (`--drop-capability=`). */
  dropCapabilities?: readonly string[];
  extraArgs?: string[];
  /** Host folders bound into the container (`--bind` / `--bind-ro`); paths checked by the caller. */
  binds?: { host: string; container: string; readOnly?: boolean }[];
  /** `cgroup.procs` files the container joins before nspawn starts (resource accounting). */
  enterCgroups?: string[];
  onLine?: (line: string) => void;
  onSpawn?: (pid: number) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface ContainerExit {
  exitCode: number | undefined;
  cancelled: boolean;
  timedOut: boolean;
}

/**
 * Needed where systemd is not PID 1 (containers, CI VMs), and used everywhere:
 * with them nspawn neither registers with machined nor moves into a scope of
 * its own, so the container stays in the build's cgroup and is metered.
 */
export function hostNspawnArgs(): string[] {
  return ['--register=no', '--keep-unit'];
}

/**
 * What a build never needs: raw and admin networking (sniffing, forging, changing
 * routes), mounting and other CAP_SYS_ADMIN powers, device nodes, rebooting, the
 * audit log, immutable flags and overriding rlimits.
 */
export const buildDropCapabilities = [
  'CAP_NET_RAW',
  'CAP_NET_ADMIN',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_AUDIT_CONTROL',
  'CAP_AUDIT_WRITE',
  'CAP_LINUX_IMMUTABLE',
] as const;

/** The PATH nspawn itself runs with; nothing else from our environment reaches it. */
const hostPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function networkArgs(network: NonNullable<ContainerRun['network']>): string[] {
  if (network === 'private') return ['--private-network'];
  if (network === 'host') return [];
  return [`--network-namespace-path=${network.namespacePath}`];
}

export function nspawnArgs(run: ContainerRun): string[] {
  const env = Object.entries(run.env ?? {}).map(([key, value]) => `--setenv=${key}=${value}`);
  const drop = run.dropCapabilities?.length ? [`--drop-capability=${run.dropCapabilities.join(',')}`] : [];
  return [
    '--quiet',
    ...hostNspawnArgs(),
    '--as-pid2',
    '--console=pipe',
    `--machine=${run.machine}`,
    `--directory=${run.root}`,
    ...(run.chdir ? [`--chdir=${run.chdir}`] : []),
    ...networkArgs(run.network ?? 'private'),
    ...drop,
    ...(run.binds ?? []).map((b) => `--bind${b.readOnly ? '-ro' : ''}=${b.host}:${b.container}`),
    ...env,
    ...(run.extraArgs ?? []),
    '--',
    ...run.command,
  ];
}

// Joins the given cgroups (count, then files), then becomes nspawn with a parent-death
// signal, so the container dies with us even if we are SIGKILLed. Arguments, not
// environment: with --as-pid2 the container's PID 1 keeps nspawn's environment.
const enterScript =
  'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n - 1)); done; ' +
  'exec setpriv --pdeathsig TERM -- "$@"';

/**
 * Runs a command in a container and streams its output line by line (stdout and
 * stderr interleaved as written). Cancel and timeout send SIGTERM to nspawn, which
 * kills everything in the container at once; SIGKILL follows if it lingers.
 */
export async function runContainer(run: ContainerRun): Promise<ContainerExit> {
  const timeout = new AbortController();
  const timer = run.timeoutMs ? setTimeout(() => timeout.abort(), run.timeoutMs) : undefined;
  const stop = AbortSignal.any([timeout.signal, ...(run.signal ? [run.signal] : [])]);
  const cgroups = run.enterCgroups ?? [];
  const child = execa(
    'sh',
    ['-c', enterScript, 'aoinb-enter', String(cgroups.length), ...cgroups, 'systemd-nspawn', ...nspawnArgs(run)],
    {
      // Nothing of the worker's environment (tokens, Redis URL) reaches nspawn or the container.
      env: { PATH: hostPath },
      extendEnv: false,
      cwd: '/',
      stdin: 'ignore',
      all: true,
      buffer: false,
      reject: false,
      cancelSignal: stop,
      killSignal: 'SIGTERM',
      forceKillAfterDelay: 5000,
    },
  );
  if (child.pid) run.onSpawn?.(child.pid);
  const lines = createInterface({ input: child.all });
  lines.on('line', (line) => run.onLine?.(line));
  const done = new Promise<void>((resolve) => lines.once('close', resolve));
  try {
    const result = await child;
    await done;
    return {
      exitCode: result.exitCode,
      cancelled: Boolean(run.signal?.aborted),
      timedOut: timeout.signal.aborted && !run.signal?.aborted,
    };
  } finally {
    clearTimeout(timer);
  }
}
