import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkLayout } from '../src/work-layout.ts';
import { createWorkspace } from '../src/layers/workspace.ts';

/** 1 GiB in 16,384 files of 64 KiB, 256 to a folder: a large build tree. */
const files = 16_384;
const folders = 64;
const chunk = randomBytes(64 * 1024);

/**
 * The benches' discard measurement: a workspace over the stable instance and
 * the base OS (mounted volatile or not) filled with 1 GiB in `buildroot/build`,
 * then the time until `discard()` returns. The line it prints names the size,
 * the mount and the target (< 0.1 s).
 */
export async function measureDiscard(
  layout: WorkLayout,
  name: string,
  options: { volatile: boolean },
): Promise<number> {
  const lowers = [layout.instance('stable').upper, layout.baseos];
  const workspace = await createWorkspace(layout, name, lowers, { volatile: options.volatile });
  const target = path.join(workspace.merged, 'buildroot/build');
  for (let d = 0; d < folders; d += 1) {
    const sub = path.join(target, `d${d}`);
    await mkdir(sub, { recursive: true });
    await Promise.all(Array.from({ length: files / folders }, (_, f) => writeFile(path.join(sub, `f${f}`), chunk)));
  }
  const started = performance.now();
  await workspace.discard();
  const elapsed = performance.now() - started;
  const gib = ((files * chunk.length) / 2 ** 30).toFixed(2);
  const mount = options.volatile ? 'volatile' : 'not volatile';
  console.log(
    `discard of a workspace holding ${gib} GiB in ${files} files, ${mount}: ${(elapsed / 1000).toFixed(3)} s ` +
      `(target < 0.100 s)`,
  );
  return elapsed;
}
