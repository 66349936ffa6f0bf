import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock } from './file-lock.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aoinb-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Whether another process could take the lock right now. */
async function freeFor(file: string, mode: 'shared' | 'exclusive'): Promise<boolean> {
  const result = await execa('flock', ['--nonblock', mode === 'shared' ? '--shared' : '--exclusive', file, 'true'], {
    reject: false,
  });
  return result.exitCode === 0;
}

describe('acquireLock', () => {
  it('shares shared holds and excludes writers until released', async () => {
    const file = path.join(dir, 'a.lock');
    const reader = await acquireLock(file, 'shared');
    expect(await freeFor(file, 'shared')).toBe(true);
    expect(await freeFor(file, 'exclusive')).toBe(false);
    await reader.release();
    expect(await freeFor(file, 'exclusive')).toBe(true);
  });

  it('waits for an exclusive holder', async () => {
    const file = path.join(dir, 'b.lock');
    const writer = await acquireLock(file, 'exclusive');
    let got = false;
    const waiting = acquireLock(file, 'shared').then((lock) => {
      got = true;
      return lock;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(got).toBe(false);
    await writer.release();
    await (await waiting).release();
    expect(got).toBe(true);
  });

  it('is dropped by the kernel when the holding process is SIGKILLed', async () => {
    const file = path.join(dir, 'c.lock');
    const script = `import { acquireLock } from ${JSON.stringify(path.resolve('libs/buildroot/src/host/file-lock.ts'))};
      await acquireLock(${JSON.stringify(file)}, 'exclusive'); console.log('held'); setInterval(() => {}, 1000);`;
    const scriptFile = path.join(dir, 'holder.mts');
    await writeFile(scriptFile, script);
    // node itself (not a wrapper) must be the process we kill.
    const holder = execa(process.execPath, ['--import', 'tsx', scriptFile], { reject: false, buffer: false });
    await new Promise<void>((resolve) =>
      holder.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve()),
    );
    expect(await freeFor(file, 'exclusive')).toBe(false);
    holder.kill('SIGKILL');
    await holder;
    // The flock child notices its stdin closed and exits; give it a moment.
    for (let i = 0; i < 50 && !(await freeFor(file, 'exclusive')); i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(await freeFor(file, 'exclusive')).toBe(true);
  });

  it('gives up when aborted while waiting', async () => {
    const file = path.join(dir, 'd.lock');
    const writer = await acquireLock(file, 'exclusive');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(acquireLock(file, 'exclusive', controller.signal)).rejects.toThrow(/could not lock/);
    await writer.release();
  });
});
