import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aoinb-config-retention-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const head = 'work_dir = "/w"\narch = "amd64"\n';

describe('[retention]', () => {
  it('has defaults that keep three months, and reads every rule', async () => {
    await writeFile(path.join(dir, 'config.toml'), head);
    expect((await loadConfig(dir)).retention).toEqual({
      intervalMinutes: 10,
      taskDays: 90,
      maxFinishedTasks: 200_000,
      createdTaskDays: 7,
      groupDays: 90,
      maxFinishedGroups: 10_000,
      bundleDays: 30,
      artifactDays: 14,
      logDays: 90,
      builderDays: 7,
      batch: 500,
    });
    await writeFile(
      path.join(dir, 'config.toml'),
      `${head}[retention]\ninterval_minutes = 0\ntask_days = 0\nmax_finished_tasks = 0\nlog_days = 365\nbatch = 50\n`,
    );
    expect((await loadConfig(dir)).retention).toMatchObject({
      intervalMinutes: 0,
      taskDays: 0,
      maxFinishedTasks: 0,
      logDays: 365,
      batch: 50,
    });
  });

  it('reports every bad key by its path', async () => {
    await writeFile(
      path.join(dir, 'config.toml'),
      `${head}[retention]\ntask_days = -1\nlog_days = "soon"\nbundle_days = 40\ntask_day = 3\nbatch = 0\n` +
        'interval_minutes = 1.5\n',
    );
    const message = await loadConfig(dir).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(message).toMatch(/retention\.task_days: must be at least 0, got -1/);
    expect(message).toMatch(/retention\.log_days: must be an integer, got string "soon"/);
    expect(message).toMatch(/retention\.task_day: is not a known key/);
    expect(message).toMatch(/retention\.batch: must be at least 1, got 0/);
    expect(message).toMatch(/retention\.interval_minutes: must be an integer/);
    await writeFile(path.join(dir, 'config.toml'), `${head}[retention]\ntask_days = 30\nbundle_days = 40\n`);
    await expect(loadConfig(dir)).rejects.toThrow(/retention\.bundle_days: must be at most task_days \(30\)/);
  });
});
