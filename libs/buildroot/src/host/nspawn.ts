import { createInterface } from 'node:readline';
import { execa } from 'execa';

export interface ContainerRun {
  /** Root folder of the container (a mounted overlay). */
  root: string;
  /** Unique machine name; nspawn keys its runtime state on it. */
  machine: string;
  command: string[];
  chdir?: string;
  env?: Record<string, string>;
  extraArgs?: string[];
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

export function nspawnArgs(run: ContainerRun): string[] {
  const env = Object.entries(run.env ?? {}).map(([key, value]) => `--setenv=${key}=${value}`);
  return [
    '--quiet',
    ...hostNspawnArgs(),
    '--as-pid2',
    '--console=pipe',
    `--machine=${run.machine}`,
    `--directory=${run.root}`,
    ...(run.chdir ? [`--chdir=${run.chdir}`] : []),
    ...env,
    ...(run.extraArgs ?? []),
    '--',
    ...run.command,
  ];
}

// Joins the given cgroups, then becomes nspawn with a parent-death signal, so the
// container dies with us even if we are SIGKILLed.
const enterScript = 'for f in $AOINB_CGROUPS; do echo $$ > "$f" || exit 125; done; exec setpriv --pdeathsig TERM -- "$@"';

/**
 * Runs a command in a container and streams its output line by line (stdout and
 * stderr interleaved as written). Cancel and timeout send SIGTERM to nspawn, which
 * kills everything in the container at once; SIGKILL follows if it lingers.
 */
export async function runContainer(run: ContainerRun): Promise<ContainerExit> {
  const timeout = new AbortController();
  const timer = run.timeoutMs ? setTimeout(() => timeout.abort(), run.timeoutMs) : undefined;
  const stop = AbortSignal.any([timeout.signal, ...(run.signal ? [run.signal] : [])]);
  const child = execa('sh', ['-c', enterScript, 'aoinb-enter', 'systemd-nspawn', ...nspawnArgs(run)], {
    env: { AOINB_CGROUPS: (run.enterCgroups ?? []).join(' ') },
    extendEnv: true,
    stdin: 'ignore',
    all: true,
    buffer: false,
    reject: false,
    cancelSignal: stop,
    killSignal: 'SIGTERM',
    forceKillAfterDelay: 5000,
  });
  if (child.pid) run.onSpawn?.(child.pid);
  const lines = createInterface({ input: child.all! });
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
