import { readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import type { BuilderFacts } from '@aoinb/farm-protocol';

/** MemAvailable from /proc/meminfo (what a build can really use); os.freemem() elsewhere. */
export async function availableMemory(): Promise<number> {
  try {
    const text = await readFile('/proc/meminfo', 'utf8');
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(text);
    if (match) return Number(match[1]) * 1024;
  } catch {
    // Not Linux: fall through.
  }
  return os.freemem();
}

/** Free bytes for unprivileged writes in `dir`; 0 when it cannot be read. */
export async function diskFree(dir: string): Promise<number> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return 0;
  }
}

export interface HostFactsInput {
  id: string;
  archs: string[];
  slots: number;
  workDir: string;
  startedAt: string;
  version: string;
  mode: BuilderFacts['mode'];
  currentTasks: BuilderFacts['currentTasks'];
}

/** What a heartbeat says about this host right now. */
export async function collectHostFacts(input: HostFactsInput): Promise<BuilderFacts> {
  const [memoryFreeBytes, diskFreeBytes] = await Promise.all([availableMemory(), diskFree(input.workDir)]);
  const [l1, l5, l15] = os.loadavg();
  return {
    id: input.id,
    hostname: os.hostname(),
    archs: input.archs,
    slots: input.slots,
    cores: os.availableParallelism(),
    memoryTotalBytes: os.totalmem(),
    memoryFreeBytes,
    diskFreeBytes,
    load: [l1 ?? 0, l5 ?? 0, l15 ?? 0],
    currentTasks: input.currentTasks,
    mode: input.mode,
    startedAt: input.startedAt,
    lastHeartbeat: new Date().toISOString(),
    version: input.version,
  };
}
