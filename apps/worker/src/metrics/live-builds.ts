import type { BuildResult, ResourceSample } from '@aoinb/buildroot';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { durationBuckets } from '@aoinb/metrics';
import type { BuildObserver } from './build-observer.ts';

interface LiveBuild {
  arch: string;
  /** Lowest free slot index when it started: the `slot` label, so no job id is ever a label. */
  slot: string;
  startedAt: number;
  last?: ResourceSample;
}

/** A gauge per slot and arch, removed when the slot's build leaves; `collect` fills it at scrape time. */
function slotGauge(registry: Registry, name: string, help: string, collect?: (g: Gauge) => void): Gauge {
  return new Gauge({
    name,
    help,
    labelNames: ['slot', 'arch'],
    registers: [registry],
    ...(collect
      ? {
          collect() {
            collect(this);
          },
        }
      : {}),
  });
}

/** The running builds' resource use, one series per slot. */
function slotSeries(registry: Registry, live: Map<string, LiveBuild>) {
  const gauge = (name: string, help: string, collect?: (g: Gauge) => void) => slotGauge(registry, name, help, collect);
  return {
    cpu: gauge(
      'aoinb_worker_build_cpu_seconds',
      'CPU time used so far by the build running in this slot (container process tree)',
    ),
    cores: gauge('aoinb_worker_build_cpu_cores', 'CPU cores the build in this slot used between its last two samples'),
    memory: gauge(
      'aoinb_worker_build_memory_bytes',
      'Memory of the build in this slot at its last sample (cgroup v1: includes page cache)',
    ),
    disk: gauge(
      'aoinb_worker_build_disk_bytes',
      "Disk written by the build in this slot (its workspace's upper layer) at its last sample",
    ),
    elapsed: gauge(
      'aoinb_worker_build_elapsed_seconds',
      'Seconds since the build in this slot started on this host',
      (g) => {
        for (const b of live.values()) g.set({ slot: b.slot, arch: b.arch }, (Date.now() - b.startedAt) / 1000);
      },
    ),
  };
}

/** Builds running and finished on this host, and the CPU they used, per arch. */
function hostSeries(registry: Registry, archs: string[], live: Map<string, LiveBuild>) {
  return {
    running: new Gauge({
      name: 'aoinb_worker_builds_running',
      help: 'Builds running on this host, per arch',
      labelNames: ['arch'],
      registers: [registry],
      collect() {
        this.reset();
        for (const arch of archs) this.set({ arch }, 0);
        for (const b of live.values()) this.inc({ arch: b.arch });
      },
    }),
    cpuTotal: new Counter({
      name: 'aoinb_worker_build_cpu_seconds_total',
      help: 'CPU time used by builds on this host, per arch (rate() = cores busy with builds)',
      labelNames: ['arch'],
      registers: [registry],
    }),
    builds: new Counter({
      name: 'aoinb_worker_builds_total',
      help: 'Builds the executor finished on this host, per arch and result',
      labelNames: ['arch', 'result'],
      registers: [registry],
    }),
  };
}

/** Where the finished builds' time went, and the source cache's hits and misses. */
function phaseSeries(registry: Registry) {
  return {
    phases: new Histogram({
      name: 'aoinb_worker_phase_duration_seconds',
      help:
        'Time spent in each pipeline phase (instance_refresh, mount, prepare, source_fetch, build, collect, ' +
        'discard, upload), per arch',
      labelNames: ['arch', 'phase'],
      buckets: [...durationBuckets],
      registers: [registry],
    }),
    startup: new Histogram({
      name: 'aoinb_worker_build_startup_seconds',
      help:
        "Time from a build's claim to the first line of the package's own build step (bundle, instance, " +
        'dependencies, sources), per arch',
      labelNames: ['arch'],
      buckets: [...durationBuckets],
      registers: [registry],
    }),
    hits: new Counter({
      name: 'aoinb_worker_source_cache_hits_total',
      help: 'Sources served from the host source cache without a download',
      registers: [registry],
    }),
    misses: new Counter({
      name: 'aoinb_worker_source_cache_misses_total',
      help: 'Sources downloaded (or cloned) because the host cache did not have them',
      registers: [registry],
    }),
  };
}

/** The worker's build series; the per-slot gauges are removed when their build leaves. */
function buildSeries(registry: Registry, archs: string[], live: Map<string, LiveBuild>) {
  const series = { ...slotSeries(registry, live), ...hostSeries(registry, archs, live), ...phaseSeries(registry) };
  for (const arch of archs) {
    series.cpuTotal.inc({ arch }, 0);
    for (const result of ['succeeded', 'failed', 'cancelled']) series.builds.inc({ arch, result }, 0);
  }
  return series;
}

type Series = ReturnType<typeof buildSeries>;

/** CPU time since the build's last sample goes into the per-arch counter. */
function addCpu(s: Series, b: LiveBuild, cpuSeconds: number): void {
  const delta = cpuSeconds - (b.last?.cpuSeconds ?? 0);
  if (delta > 0) s.cpuTotal.inc({ arch: b.arch }, delta);
}

/** A running build's sample: its slot's gauges, and the cores it used since the last one. */
function recordSample(s: Series, b: LiveBuild, sample: ResourceSample): void {
  const labels = { slot: b.slot, arch: b.arch };
  addCpu(s, b, sample.cpuSeconds);
  if (b.last && sample.atMs > b.last.atMs)
    s.cores.set(labels, Math.max(0, (sample.cpuSeconds - b.last.cpuSeconds) / ((sample.atMs - b.last.atMs) / 1000)));
  s.cpu.set(labels, sample.cpuSeconds);
  s.memory.set(labels, sample.memoryBytes);
  s.disk.set(labels, sample.diskBytes);
  b.last = sample;
}

/** A finished build (`b` while it is still live): its CPU, result, phases and sources. */
function recordResult(s: Series, b: LiveBuild | undefined, result: BuildResult): void {
  const arch = b?.arch ?? result.package.arch;
  if (b) {
    addCpu(s, b, result.resources.cpuSeconds);
    b.last = {
      atMs: b.last?.atMs ?? 0,
      cpuSeconds: Math.max(result.resources.cpuSeconds, b.last?.cpuSeconds ?? 0),
      memoryBytes: 0,
      diskBytes: 0,
    };
  }
  s.builds.inc({ arch, result: result.status });
  for (const [phase, ms] of Object.entries(result.phases))
    if (typeof ms === 'number') s.phases.observe({ arch, phase }, ms / 1000);
  for (const source of result.sources ?? []) (source.cached ? s.hits : s.misses).inc();
}

/**
 * Per-build series of the builds running now, labelled by slot and arch, and
 * per-phase histograms and source cache counters of finished ones.
 */
export function createBuildMetrics(registry: Registry, archs: string[]): BuildObserver {
  const live = new Map<string, LiveBuild>();
  const s = buildSeries(registry, archs, live);
  const freeSlot = (): string => {
    const used = new Set([...live.values()].map((b) => b.slot));
    let i = 0;
    while (used.has(String(i))) i += 1;
    return String(i);
  };
  return {
    started(jobId, arch) {
      live.set(jobId, { arch, slot: freeSlot(), startedAt: Date.now() });
    },
    buildStepStarted(_jobId, arch, ms) {
      s.startup.observe({ arch }, ms / 1000);
    },
    sample(jobId, sample) {
      const b = live.get(jobId);
      if (b) recordSample(s, b, sample);
    },
    executed(jobId, result: BuildResult) {
      recordResult(s, live.get(jobId), result);
    },
    uploaded(jobId, ms) {
      const b = live.get(jobId);
      if (b) s.phases.observe({ arch: b.arch, phase: 'upload' }, ms / 1000);
    },
    finished(jobId) {
      const b = live.get(jobId);
      if (!b) return;
      live.delete(jobId);
      for (const g of [s.cpu, s.cores, s.memory, s.disk, s.elapsed]) g.remove({ slot: b.slot, arch: b.arch });
    },
  };
}
