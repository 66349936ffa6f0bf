import type { BuildResult } from '@aoinb/buildroot';

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The one-line summary printed at the end of a build. */
export function buildSummary(result: BuildResult): string {
  const elapsed = Date.parse(result.finishedAt) - Date.parse(result.startedAt);
  const r = result.resources;
  const usage =
    `cpu ${r.cpuSeconds.toFixed(1)} s, peak memory ${formatBytes(r.peakMemoryBytes)}, ` +
    `disk ${formatBytes(r.peakDiskBytes)}`;
  const debs = result.artifacts.map((a) => a.name).join(', ');
  const what = result.status === 'succeeded' ? debs : (result.reason ?? result.status);
  return (
    `${result.status}: ${result.package.name} ${result.package.version} (${result.package.arch}) ` +
    `in ${formatSeconds(elapsed)}: ${what} [${usage}]`
  );
}
