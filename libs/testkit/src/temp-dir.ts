import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/** A folder of a test file's own, there from its beforeAll on. */
export interface TempDir {
  readonly dir: string;
}

/**
 * Registers the hooks of a new folder `<prefix>XXXXXX` under the system's tmpdir for the describe block (or the
 * file, at its top level) it is called in: made in beforeAll, removed with all it holds in afterAll.
 *
 *   const tmp = useTempDir('aoinb-example-');
 *   it('...', async () => { await writeFile(path.join(tmp.dir, 'x'), '') });
 */
export function useTempDir(prefix: string): TempDir {
  const fixture = { dir: '' };
  beforeAll(async () => {
    fixture.dir = await mkdtemp(path.join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (fixture.dir) await rm(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}
