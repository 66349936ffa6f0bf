import { execa } from 'execa';
import type { ResourceSample, ResourceSummary } from '../build-types.ts';
import { describeBytes, type BuildLimits } from './build-limits.ts';
import { createCgroupMeter } from './cgroup-meter.ts';
import { createProcfsMeter } from './procfs-meter.ts';
import type { Meter } from './meter.ts';

const maxSeriesPoints = 120;
/**
 * A cgroup's working set has no kernel peak (the kernel's peaks count page cache), so between the
 * series' samples (seconds apart, each with a `du`) memory alone is polled this often: two small
 * cgroup files, so a short spike of a linker is seen too.
 */
export const memoryPollMs = 250;

/** Bytes used by a folder (the workspace's upper layer: what the build wrote). */
export async function diskUsage(dir: string): Promise<number> {
  const result = await execa('du', ['-sb', '--one-file-system', dir], { reject: false });
  return Number(result.stdout.split('\t')[0]) || 0;
}

/** Keeps every n-th point so a long build's series stays small, always keeping the last. */
export function downsample(samples: ResourceSample[], max = maxSeriesPoints): ResourceSample[] {
  if (samples.length <= max) return samples;
  const step = Math.ceil(samples.length / max);
  const kept = samples.filter((_, i) => i % step === 0);
  const last = samples[samples.length - 1]!;
  if (kept[kept.length - 1] !== last) kept.push(last);
  return kept;
}

export interface ResourceSampler {
  meter: Meter;
  /** The first limit the build ran into (`process limit of 256`), once one has. */
  readonly limitHit: string | undefined;
  start(intervalMs: number): void;
  /** Takes a last sample, stops, and summarises. */
  stop(): Promise<ResourceSummary>;
}

export interface LimitWatch {
  limits: BuildLimits;
  /** Called once, at the first sample that finds a limit hit: the caller kills the build. */
  onLimit: (limit: string) => void;
}

/** Runs `task` every `ms`, never overlapping: a slow run delays the next one instead of piling up. */
function everySerially(task: () => Promise<void>, ms: number): () => Promise<void> {
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = inFlight.then(task);
  }, ms);
  return async () => {
    clearInterval(timer);
    await inFlight;
  };
}

/** The first limit a build at `disk` bytes has hit, if any. */
async function findLimitHit(meter: Meter, limits: BuildLimits, disk: number): Promise<string | undefined> {
  // The kernel enforces memory and processes (we only name them); disk is enforced here.
  return limits.diskBytes > 0 && disk > limits.diskBytes
    ? `disk limit of ${describeBytes(limits.diskBytes)}`
    : await meter.limitHit?.();
}

/** One build's series of samples, its peaks and the first limit it hit. */
interface SampleSeries {
  readonly limitHit: string | undefined;
  /** The build starts now: the points' times count from here. */
  restart(): void;
  /** A full sample: a point of the series, then the limit check. */
  sample(): Promise<void>;
  /** Memory alone, between samples. */
  pollMemory(): Promise<void>;
  summary(): ResourceSummary;
}

function createSampleSeries(
  meter: Meter,
  diskDir: string,
  limits: BuildLimits,
  onSample?: (sample: ResourceSample) => void,
  watch?: LimitWatch,
): SampleSeries {
  const samples: ResourceSample[] = [];
  let startedAt = Date.now();
  let peakDisk = 0;
  let peakMemory = 0;
  let limitHit: string | undefined;
  return {
    get limitHit() {
      return limitHit;
    },
    restart() {
      startedAt = Date.now();
    },
    async pollMemory() {
      const usage = await meter.read().catch(() => undefined);
      if (usage) peakMemory = Math.max(peakMemory, usage.peakMemoryBytes, usage.memoryBytes);
    },
    async sample() {
      const [usage, disk] = await Promise.all([meter.read().catch(() => undefined), diskUsage(diskDir)]);
      if (!usage) return;
      peakDisk = Math.max(peakDisk, disk);
      peakMemory = Math.max(peakMemory, usage.peakMemoryBytes, usage.memoryBytes);
      const { cpuSeconds, memoryBytes } = usage;
      const point = { atMs: Date.now() - startedAt, cpuSeconds, memoryBytes, diskBytes: disk };
      samples.push(point);
      onSample?.(point);
      if (limitHit) return;
      limitHit = await findLimitHit(meter, limits, disk);
      if (limitHit) watch?.onLimit(limitHit);
    },
    summary() {
      return {
        cpuSeconds: samples[samples.length - 1]?.cpuSeconds ?? 0,
        peakMemoryBytes: peakMemory,
        peakDiskBytes: peakDisk,
        method: meter.method,
        samples: downsample(samples),
      };
    },
  };
}

export async function createResourceSampler(
  name: string,
  diskDir: string,
  onSample?: (sample: ResourceSample) => void,
  watch?: LimitWatch,
): Promise<ResourceSampler> {
  const limits = watch?.limits ?? { memoryBytes: 0, pids: 0, diskBytes: 0 };
  const meter = (await createCgroupMeter(name, limits)) ?? createProcfsMeter();
  const series = createSampleSeries(meter, diskDir, limits, onSample, watch);
  let stopTimers = async (): Promise<void> => {};
  return {
    meter,
    get limitHit() {
      return series.limitHit;
    },
    start(intervalMs) {
      series.restart();
      const stopSeries = everySerially(series.sample, intervalMs);
      // procfs walks every process: it keeps to the series' pace.
      const stopMemory =
        meter.method !== 'procfs' && intervalMs > memoryPollMs
          ? everySerially(series.pollMemory, memoryPollMs)
          : undefined;
      stopTimers = async () => {
        await Promise.all([stopSeries(), stopMemory?.()]);
      };
    },
    async stop() {
      await stopTimers();
      await series.sample();
      await meter.dispose();
      return series.summary();
    },
  };
}
