import { h, svg } from './dom.ts';
import { bytes } from './format.ts';
import type { ResourceSample } from './views.ts';

/** What the chart draws of each resource sample. */
export type Sample = Pick<ResourceSample, 'at_ms' | 'cpu_cores' | 'memory_bytes'>;

function line(points: Array<[number, number]>, cls: string): SVGElement {
  return svg('polyline', {
    class: cls,
    points: points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' '),
    fill: 'none',
  });
}

/**
 * CPU (cores) and memory over the build, two lines in one small SVG with their
 * peaks written beside it; a table of the same numbers for screen readers.
 */
export function resourceChart(samples: Sample[]): HTMLElement {
  if (samples.length < 2) return h('p', { class: 'muted' }, 'Not enough samples for a chart.');
  const width = 320;
  const height = 80;
  const t0 = samples[0]!.at_ms;
  const span = Math.max(1, samples[samples.length - 1]!.at_ms - t0);
  const maxCpu = Math.max(0.1, ...samples.map((s) => s.cpu_cores));
  const maxMem = Math.max(1, ...samples.map((s) => s.memory_bytes));
  const x = (s: Sample): number => ((s.at_ms - t0) / span) * width;
  const cpu = samples.map((s): [number, number] => [x(s), height - (s.cpu_cores / maxCpu) * (height - 4) - 2]);
  const mem = samples.map((s): [number, number] => [x(s), height - (s.memory_bytes / maxMem) * (height - 4) - 2]);
  const label =
    `CPU up to ${maxCpu.toFixed(2)} cores and memory up to ${bytes(maxMem)} ` + `over ${(span / 1000).toFixed(1)} s`;
  return h(
    'figure',
    { class: 'chart' },
    svg(
      'svg',
      { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label, preserveAspectRatio: 'none' },
      svg('line', { class: 'axis', x1: 0, y1: height - 1, x2: width, y2: height - 1 }),
      line(cpu, 'series-cpu'),
      line(mem, 'series-mem'),
    ),
    h(
      'figcaption',
      null,
      h('span', { class: 'key key-cpu' }, '— CPU'),
      ` peak ${maxCpu.toFixed(2)} cores · `,
      h('span', { class: 'key key-mem' }, '- - memory'),
      ` peak ${bytes(maxMem)} · ${samples.length} samples`,
    ),
  );
}
