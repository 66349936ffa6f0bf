import type { ResourceSample, ResourceSummary, ResourceView } from '@aoinb/farm-contract';

function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** CPU cores used between two samples (the first against the build's start). */
function coresBetween(previous: ResourceSample | undefined, sample: ResourceSample): number {
  const dt = (sample.atMs - (previous?.atMs ?? 0)) / 1000;
  return dt > 0 ? Math.max(0, (sample.cpuSeconds - (previous?.cpuSeconds ?? 0)) / dt) : 0;
}

/**
 * A build's resource use as the API shows it (snake_case): totals and peaks,
 * CPU as cores (average over the build, and the busiest sample interval), and
 * the downsampled series (at most ~120 points) with cores per point, ready to
 * chart. Samples cover the container phase (`build`).
 */
export function resourceView(r: ResourceSummary | undefined): ResourceView | null {
  if (!r) return null;
  const samples = r.samples.map((s, i) => ({
    at_ms: s.atMs,
    cpu_seconds: round(s.cpuSeconds),
    cpu_cores: round(coresBetween(r.samples[i - 1], s)),
    memory_bytes: s.memoryBytes,
    disk_bytes: s.diskBytes,
  }));
  const last = r.samples[r.samples.length - 1];
  return {
    cpu_seconds: round(r.cpuSeconds),
    avg_cpu_cores: last && last.atMs > 0 ? round(r.cpuSeconds / (last.atMs / 1000)) : null,
    peak_cpu_cores: samples.length > 0 ? Math.max(...samples.map((s) => s.cpu_cores)) : null,
    peak_memory_bytes: r.peakMemoryBytes,
    peak_disk_bytes: r.peakDiskBytes,
    method: r.method,
    samples,
  };
}
