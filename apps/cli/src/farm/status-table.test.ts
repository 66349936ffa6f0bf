import { describe, expect, it } from 'vitest';
import type { JobView, TaskStatus } from '@aoinb/farm-contract';
import { statusRows } from './status-table.ts';

const at = '2026-01-01T00:00:00.000Z';
const job = (over: Partial<JobView>): JobView => ({
  arch: 'amd64',
  run: 1,
  job_id: '7-amd64-1',
  state: 'failed',
  builder: 'b1',
  attempt: 1,
  cancel_requested: false,
  queued_at: at,
  started_at: null,
  finished_at: null,
  reason: null,
  failure_class: null,
  log_url: 'http://farm/task/7/log?arch=amd64',
  artifacts: [],
  phases_ms: {},
  resources: null,
  needs: null,
  learned: null,
  startup_ms: null,
  ...over,
});

describe('aoinb status rows', () => {
  it('puts the failure class before the reason, so whose problem it is shows first', () => {
    const artifact = { name: 'h.deb', size: 1, sha256: '0'.repeat(64), url: '', repo_url: null };
    const task: TaskStatus = {
      id: '7',
      state: 'failed',
      branch: 'stable',
      package: { name: 'hello', version: '1.0', noarch: false },
      archs: ['amd64', 'arm64', 'riscv64'],
      created_by: 'maintainer',
      network: false,
      created_at: at,
      updated_at: at,
      finished_at: null,
      group_id: null,
      bundle: null,
      timeout_seconds: null,
      reason: null,
      log_url: 'http://farm/task/7/log',
      repo_url: null,
      jobs: [
        job({ reason: 'writing the bundle: ENOSPC: no space left on device', failure_class: 'disk-full' }),
        job({ arch: 'arm64', reason: 'build.sh exited with status 1' }),
        job({ arch: 'riscv64', state: 'succeeded', artifacts: [artifact] }),
      ],
    };
    const rows = statusRows([task]);
    expect(rows[1]?.at(-1)).toBe('[disk-full] writing the bundle: ENOSPC: no space left on device');
    expect(rows[2]?.at(-1)).toBe('build.sh exited with status 1');
    expect(rows[3]?.at(-1)).toBe('h.deb');
  });
});
