import { describe, expect, it } from 'vitest';
import type { TaskStatus } from './farm-env.ts';
import { statusRows } from './status-table.ts';

const job = (over: Partial<TaskStatus['jobs'][number]>): TaskStatus['jobs'][number] => ({
  arch: 'amd64',
  run: 1,
  state: 'failed',
  builder: 'b1',
  attempt: 1,
  started_at: null,
  finished_at: null,
  reason: null,
  artifacts: [],
  ...over,
});

describe('aoinb status rows', () => {
  it('puts the failure class before the reason, so whose problem it is shows first', () => {
    const task: TaskStatus = {
      id: '7',
      state: 'failed',
      branch: 'stable',
      package: { name: 'hello', version: '1.0' },
      reason: null,
      jobs: [
        job({ reason: 'writing the bundle: ENOSPC: no space left on device', failure_class: 'disk-full' }),
        job({ arch: 'arm64', reason: 'build.sh exited with status 1' }),
        job({ arch: 'riscv64', state: 'succeeded', artifacts: [{ name: 'h.deb', size: 1, sha256: '', url: '' }] }),
      ],
    };
    const rows = statusRows([task]);
    expect(rows[1]?.at(-1)).toBe('[disk-full] writing the bundle: ENOSPC: no space left on device');
    expect(rows[2]?.at(-1)).toBe('build.sh exited with status 1');
    expect(rows[3]?.at(-1)).toBe('h.deb');
  });
});
