import { statfs } from 'node:fs/promises';
import os from 'node:os';
import { Gauge, type Registry } from 'prom-client';
import { sharedRefresh, type CollectGuard } from '@aoinb/metrics';
import { availableMemory } from '../host-facts.ts';

interface HostSnapshot {
  workDirFree: number;
  workDirSize: number;
  memoryAvailable: number;
}

/**
 * The build host as the worker sees it, read at scrape time: space on the
 * file system of `work_dir` (layers, workspaces, source cache), load and
 * memory. `free` is what an unprivileged writer may use (statfs bavail).
 */
export function registerHostMetrics(registry: Registry, workDir: string, guard: CollectGuard): void {
  const snapshot = sharedRefresh(async (): Promise<HostSnapshot | undefined> => {
    let result: HostSnapshot | undefined;
    await guard.run('host', async () => {
      const [fs, memoryAvailable] = await Promise.all([statfs(workDir), availableMemory()]);
      result = { workDirFree: fs.bavail * fs.bsize, workDirSize: fs.blocks * fs.bsize, memoryAvailable };
    });
    return result;
  });
  const gauge = (name: string, help: string, read: (s: HostSnapshot) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const s = await snapshot();
        if (s) this.set(read(s));
      },
    });
  };
  gauge(
    'aoinb_worker_workdir_free_bytes',
    'Free space on the file system holding work_dir (statfs f_bavail)',
    (s) => s.workDirFree,
  );
  gauge('aoinb_worker_workdir_size_bytes', 'Size of the file system holding work_dir', (s) => s.workDirSize);
  gauge('aoinb_worker_memory_available_bytes', 'MemAvailable of the host (/proc/meminfo)', (s) => s.memoryAvailable);
  const plain = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  plain('aoinb_worker_memory_total_bytes', 'Memory of the host', () => os.totalmem());
  plain('aoinb_worker_cpu_cores', 'CPUs available to the worker process', () => os.availableParallelism());
  plain('aoinb_worker_load1', '1-minute load average of the host', () => os.loadavg()[0] ?? 0);
  plain('aoinb_worker_load5', '5-minute load average of the host', () => os.loadavg()[1] ?? 0);
  plain('aoinb_worker_load15', '15-minute load average of the host', () => os.loadavg()[2] ?? 0);
}
