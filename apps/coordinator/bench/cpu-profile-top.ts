/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`, e.g. scale.ts --cpu-prof-dir): the functions
 * with the most self time, and self time summed by package or source folder, as shares of the
 * sampled time (idle excluded).
 *
 *   node --import tsx apps/coordinator/bench/cpu-profile-top.ts FILE.cpuprofile [top=25] [FUNCTION]
 *
 * With FUNCTION (e.g. `spawn`), its self time is attributed to the nearest callers in apps/ or libs/:
 * who in our code pays for it.
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg, who] = process.argv.slice(2);
if (!file) throw new Error('usage: cpu-profile-top.ts FILE.cpuprofile [top]');
const top = Number(topArg ?? 25);
const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

/** Where a frame's code lives: a package under node_modules, a repo folder, or node's own. */
function area(url: string): string {
  if (!url) return '(native/V8)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url;
  const repo = /\/(apps|libs)\/([^/]+)\/src\/(?:([^/]+)\/)?/.exec(url);
  return repo ? `${repo[1]}/${repo[2]}/${repo[3] ?? ''}` : url;
}

const fns = new Map<string, number>();
const areas = new Map<string, number>();
let total = 0;
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  if (functionName === '(idle)' || functionName === '(program)') continue;
  total += us;
  const where = url.replace(/^.*\/(node_modules|apps|libs)\//, '$1/');
  const name = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  fns.set(name, (fns.get(name) ?? 0) + us);
  areas.set(area(url), (areas.get(area(url)) ?? 0) + us);
}
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
/** The first two frames of our own code above a node, innermost first. */
function ourCallers(id: number): string {
  const frames: string[] = [];
  for (let at = parent.get(id); at !== undefined && frames.length < 2; at = parent.get(at)) {
    const { functionName, url, lineNumber } = byId.get(at)!.callFrame;
    const own = /\/(apps|libs)\/.*$/.exec(url);
    if (own && !url.includes('node_modules'))
      frames.push(`${functionName || '(anonymous)'} ${own[0].slice(1)}:${lineNumber + 1}`);
  }
  return frames.join(' <- ') || '(no caller in apps/ or libs/)';
}
const callers = new Map<string, number>();
if (who)
  for (const [id, us] of selfUs)
    if (byId.get(id)!.callFrame.functionName.includes(who))
      callers.set(ourCallers(id), (callers.get(ourCallers(id)) ?? 0) + us);

const wall = profile.timeDeltas.reduce((a, b) => a + b, 0);
const idle = [...selfUs]
  .filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)')
  .reduce((a, [, us]) => a + us, 0);
const show = (m: Map<string, number>, n: number): void => {
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n))
    process.stdout.write(
      `${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1e6).toFixed(2).padStart(7)} s  ${k}\n`,
    );
};
process.stdout.write(
  `${file}: ${(wall / 1e6).toFixed(1)} s profiled, ${(total / 1e6).toFixed(1)} s on the CPU (JS + GC + ` +
    `native), ${(idle / 1e6).toFixed(1)} s idle\n`,
);
process.stdout.write('by area (self time):\n');
show(areas, 20);
process.stdout.write('by function (self time):\n');
show(fns, top);
if (who) {
  process.stdout.write(`self time of functions named *${who}*, by our callers:\n`);
  show(callers, top);
}
