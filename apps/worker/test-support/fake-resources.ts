import type { BuildRequest, ResourceSample, ResourceSummary } from '@aoinb/buildroot';

const maxPoints = 120;

export interface FakeSampler {
  /** Takes a last sample and summarises, like the real pipeline's sampler. */
  stop(): ResourceSummary;
}

/**
 * Resource samples for the fake executor: the agent process's own CPU time
 * since the build began and its resident memory (there is no container to
 * measure), delivered to `onSample` like the real pipeline's, so metrics and
 * the task status see the same shape.
 */
export function startFakeSampler(onSample: BuildRequest['onSample'], intervalMs: number): FakeSampler {
  const startedAt = Date.now();
  const cpuStart = process.cpuUsage();
  const samples: ResourceSample[] = [];
  let peakMemory = 0;
  const sample = (): ResourceSample => {
    const cpu = process.cpuUsage(cpuStart);
    const point = {
      atMs: Date.now() - startedAt,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      memoryBytes: process.memoryUsage.rss(),
      diskBytes: 0,
    };
    peakMemory = Math.max(peakMemory, point.memoryBytes);
    if (samples.length < maxPoints) samples.push(point);
    onSample?.(point);
    return point;
  };
  const timer = intervalMs > 0 ? setInterval(sample, intervalMs) : undefined;
  return {
    stop() {
      clearInterval(timer);
      const last = sample();
      return { cpuSeconds: last.cpuSeconds, peakMemoryBytes: peakMemory, peakDiskBytes: 0, method: 'procfs', samples };
    },
  };
}
