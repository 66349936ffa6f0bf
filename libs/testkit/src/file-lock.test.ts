import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { useTempDir } from './temp-dir.ts';
import { withFileLock } from './file-lock.ts';

const work = useTempDir('aoinb-testkit-lock-');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('withFileLock', () => {
  it('serialises callers in one process', async () => {
    const lock = path.join(work.dir, 'a.lock');
    const events: string[] = [];
    const job = (name: string) =>
      withFileLock(lock, async () => {
        events.push(`${name}+`);
        await sleep(150);
        events.push(`${name}-`);
      });
    await Promise.all([job('a'), job('b')]);
    expect([events.join(' ')]).toEqual([expect.stringMatching(/^(a\+ a- b\+ b-|b\+ b- a\+ a-)$/)]);
  });

  it('excludes other processes while held and releases afterwards, even on error', async () => {
    const lock = path.join(work.dir, 'b.lock');
    await withFileLock(lock, async () => {
      const other = await execa('flock', ['--nonblock', lock, 'true'], { reject: false });
      expect(other.exitCode).toBe(1);
    });
    await expect(withFileLock(lock, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect((await execa('flock', ['--nonblock', lock, 'true'], { reject: false })).exitCode).toBe(0);
  });

  it('gives up after the timeout', async () => {
    const lock = path.join(work.dir, 'c.lock');
    await withFileLock(lock, async () => {
      await expect(withFileLock(lock, async () => 'never', { timeoutSeconds: 1 })).rejects.toThrow(/could not lock/);
    });
  });
});
