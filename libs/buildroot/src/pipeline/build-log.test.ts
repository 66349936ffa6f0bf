import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountSmallDisk, type SmallDisk } from '@aoinb/testkit';
import { openBuildLog } from './build-log.ts';

describe('the build log on a full disk', () => {
  let disk: SmallDisk;
  beforeAll(async () => {
    disk = await mountSmallDisk(1);
  });
  afterAll(async () => {
    await disk?.unmount();
  });

  it('records ENOSPC instead of crashing, keeps feeding the live listener, and closes', async () => {
    const live: string[] = [];
    const log = await openBuildLog(path.join(disk.dir, 'logs/full.log'), (line) => live.push(line));
    log.line('first line');
    await disk.fill();
    // Far more than the file system holds: every write past the first error is dropped, not thrown.
    const line = 'x'.repeat(4096);
    for (let i = 0; i < 600; i++) log.line(line);
    await log.close();
    expect(log.error).toBeDefined();
    expect((log.error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(live).toHaveLength(601);
    await disk.free();
  });

  it('records ENOSPC when the disk was full before the file opened, its lines still waiting at close', async () => {
    await disk.fill();
    const log = await openBuildLog(path.join(disk.dir, 'logs/late.log'));
    log.line('x'.repeat(8192));
    await log.close();
    expect(log.error).toMatchObject({ code: 'ENOSPC' });
    await disk.free();
  });

  it('has no error on a disk with room', async () => {
    const file = path.join(disk.dir, 'logs/ok.log');
    const log = await openBuildLog(file);
    log.line('one');
    log.line('two');
    await log.close();
    expect(log.error).toBeUndefined();
    expect(await readFile(file, 'utf8')).toBe('one\ntwo\n');
  });
});
