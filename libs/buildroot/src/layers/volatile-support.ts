import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { release } from 'node:os';
import path from 'node:path';
import { mountOverlay, unmountAllUnder } from '../host/mount-table.ts';
import type { WorkLayout } from '../work-layout.ts';

interface ProbeRecord {
  kernel: string;
  volatile: boolean;
  reason?: string;
}

/**
 * Whether this host's kernel mounts OverlayFS with `volatile` (Linux 5.10+): no
 * syncs of the upper layer, so a throw-away workspace unmounts without writing
 * back what the build wrote, and dpkg's fsyncs inside it cost nothing. Found out
 * once per host and kernel by mounting a tiny overlay in the work dir (same
 * filesystem as the workspaces), and remembered in `host-facts/`.
 */
export async function overlayVolatileSupport(layout: WorkLayout): Promise<{ volatile: boolean; reason?: string }> {
  const factFile = path.join(layout.hostFactsDir, 'overlay-volatile.json');
  const kernel = release();
  const known = await readFile(factFile, 'utf8')
    .then((text) => JSON.parse(text) as ProbeRecord)
    .catch(() => undefined);
  if (known?.kernel === kernel) return known;
  const record = await probe(layout, kernel);
  await mkdir(layout.hostFactsDir, { recursive: true });
  const tmp = `${factFile}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, JSON.stringify(record));
  await rename(tmp, factFile);
  return record;
}

async function probe(layout: WorkLayout, kernel: string): Promise<ProbeRecord> {
  const dir = path.join(layout.hostFactsDir, `volatile-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  const dirs = ['lower', 'upper', 'work', 'merged'].map((name) => path.join(dir, name));
  try {
    await Promise.all(dirs.map((d) => mkdir(d, { recursive: true })));
    await mountOverlay({ lowers: [dirs[0]!], upper: dirs[1]!, work: dirs[2]!, target: dirs[3]!, volatile: true });
    return { kernel, volatile: true };
  } catch (error) {
    return { kernel, volatile: false, reason: (error as Error).message };
  } finally {
    await unmountAllUnder(dir);
    await rm(dir, { recursive: true, force: true });
  }
}
