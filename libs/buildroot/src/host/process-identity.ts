import { readFile, readdir, readlink } from 'node:fs/promises';

/** A process, told apart from a later one that reuses its pid by its start time. */
export interface ProcessIdentity {
  pid: number;
  startTime: string;
}

async function startTimeOf(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export async function currentProcess(): Promise<ProcessIdentity> {
  return { pid: process.pid, startTime: (await startTimeOf(process.pid)) ?? '' };
}

export async function isAlive(identity: ProcessIdentity): Promise<boolean> {
  return (await startTimeOf(identity.pid)) === identity.startTime;
}

/** Processes whose root folder is at or below `dir`: what a dead build's container left running. */
export async function processesRootedUnder(dir: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const found: number[] = [];
  for (const pid of pids) {
    const root = await readlink(`/proc/${pid}/root`).catch(() => '');
    if (root === dir || root.startsWith(`${dir}/`)) found.push(Number(pid));
  }
  return found;
}

export async function killAll(pids: number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  // Wait (up to ~1 s) until they are gone, so their mounts can be released.
  for (let i = 0; i < 50; i += 1) {
    const alive = await Promise.all(pids.map(startTimeOf));
    if (alive.every((t) => t === undefined)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
