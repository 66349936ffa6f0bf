import { readdir, readFile } from 'node:fs/promises';
import type { Meter } from './meter.ts';

const ticksPerSecond = 100; // USER_HZ on every Linux port we build on
const pageSize = 4096;

interface ProcStat {
  pid: number;
  ppid: number;
  cpuTicks: number;
  rssBytes: number;
}

async function readProcStat(pid: string): Promise<ProcStat | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; fields resume after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const num = (i: number) => Number(fields[i - 3] ?? 0);
    return {
      pid: Number(pid),
      ppid: num(4),
      cpuTicks: num(14) + num(15) + num(16) + num(17),
      rssBytes: num(24) * pageSize,
    };
  } catch {
    return undefined;
  }
}

/**
 * Fallback when no cgroup can be made: walks the process tree under the
 * container's first process. Children that exit are counted through their
 * parent's cutime/cstime once reaped, so CPU time never goes backwards by much.
 */
export function createProcfsMeter(): Meter {
  let rootPid = 0;
  let peak = 0;
  let cpuMax = 0;
  return {
    method: 'procfs',
    enterFiles: [],
    setRootPid(pid) {
      rootPid = pid;
    },
    async read() {
      if (!rootPid) return { cpuSeconds: 0, memoryBytes: 0, peakMemoryBytes: 0 };
      const entries = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
      const stats = (await Promise.all(entries.map(readProcStat))).filter((s): s is ProcStat => s !== undefined);
      const children = new Map<number, ProcStat[]>();
      for (const stat of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat]);
      let cpuTicks = 0;
      let memoryBytes = 0;
      const queue = stats.filter((s) => s.pid === rootPid);
      while (queue.length > 0) {
        const stat = queue.pop()!;
        cpuTicks += stat.cpuTicks;
        memoryBytes += stat.rssBytes;
        queue.push(...(children.get(stat.pid) ?? []));
      }
      cpuMax = Math.max(cpuMax, cpuTicks / ticksPerSecond);
      peak = Math.max(peak, memoryBytes);
      return { cpuSeconds: cpuMax, memoryBytes, peakMemoryBytes: peak };
    },
    async dispose() {},
  };
}
