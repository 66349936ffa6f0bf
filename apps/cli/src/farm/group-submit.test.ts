import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { readGroupMembers } from './group-submit.ts';
import type { GroupMember, GroupStatus, MemberState } from '@aoinb/farm-contract';
import { groupHeadline, groupRows } from './group-table.ts';

describe('aoinb group: reading the group file', () => {
  const tree = useTempDir('aoinb-group-cli-');
  beforeAll(async () => {
    await mkdir(path.join(tree.dir, 'groups'));
    await writeFile(
      path.join(tree.dir, 'groups/rebuild'),
      '# rebuilds\ncore-libs/icu\napp-utils/tool:+stage2\ngroups/extra\n',
    );
    await writeFile(path.join(tree.dir, 'groups/rebuild.arm64'), 'core-libs/icu\napp-utils/arm-only\n');
    await writeFile(path.join(tree.dir, 'groups/extra'), 'core-libs/icu\ndesktop/gui\n');
  });

  it('expands nested groups and drops modifiers and duplicates', async () => {
    expect(await readGroupMembers(tree.dir, 'groups/rebuild', [])).toEqual([
      { path: 'core-libs/icu' },
      { path: 'app-utils/tool' },
      { path: 'desktop/gui' },
    ]);
  });

  it('reads per-arch variants and limits members listed for some archs to those', async () => {
    expect(await readGroupMembers(tree.dir, 'groups/rebuild', ['amd64', 'arm64'])).toEqual([
      { path: 'core-libs/icu' },
      { path: 'app-utils/tool', archs: ['amd64'] },
      { path: 'desktop/gui', archs: ['amd64'] },
      { path: 'app-utils/arm-only', archs: ['arm64'] },
    ]);
  });
});

describe('aoinb group: the member table', () => {
  const ref = (pkg: string, state: string) => ({ task_id: '1', package: pkg, arch: 'amd64', state });
  const m = (pkg: string, state: MemberState, extra: Partial<GroupMember> = {}): GroupMember => ({
    task_id: '2',
    package: pkg,
    arch: 'amd64',
    state,
    depends_on: [],
    waiting_for: [],
    skipped_because: null,
    round: 1,
    run: 1,
    job_id: null,
    builder: null,
    attempt: 0,
    queued_at: null,
    started_at: null,
    finished_at: null,
    reason: null,
    priority: 1,
    estimate_seconds: 60,
    estimate_known: false,
    estimate_source: 'default',
    critical_path_seconds: 60,
    log_url: null,
    artifacts: [],
    network: false,
    ...extra,
  });
  const status: GroupStatus = {
    id: '7',
    state: 'running',
    branch: 'stable',
    mode: 'dag',
    publish: 'atomic',
    round: 1,
    tasks: ['2', '3'],
    archs: ['amd64'],
    cancel_requested: false,
    reason: null,
    created_by: 'maintainer',
    created_at: '2030-01-01T00:00:00Z',
    updated_at: '2030-01-01T00:00:00Z',
    finished_at: null,
    counts: { running: 1, waiting: 1, skipped: 1, failed: 1 },
    critical_path_seconds: 120,
    apt_source: '',
    apt_key_url: '',
    published_at: null,
    repo_url: '',
    members: [
      m('liba', 'failed', {
        reason: 'build.sh exited with status 1',
        builder: 'h1',
        started_at: '2030-01-01T00:00:00Z',
        finished_at: '2030-01-01T00:01:05Z',
      }),
      m('libb', 'skipped', { skipped_because: { ...ref('liba', 'failed'), root: ref('liba', 'failed') } }),
      m('app', 'skipped', {
        skipped_because: { ...ref('libb', 'skipped'), task_id: '3', root: ref('liba', 'failed') },
      }),
      m('tool', 'waiting', { waiting_for: [ref('liba', 'running'), ref('libc', 'queued')] }),
    ],
  };

  it('says what each member waits for or why it was skipped', () => {
    const rows = groupRows(status);
    expect(rows[0]).toEqual(['TASK', 'PACKAGE', 'ARCH', 'STATE', 'BUILDER', 'TIME', 'DETAIL']);
    expect(rows[1]).toEqual(['2', 'liba', 'amd64', 'failed', 'h1', '1m05s', 'build.sh exited with status 1']);
    expect(rows[2]![6]).toBe('skipped: liba failed');
    expect(rows[3]![6]).toBe('skipped: libb skipped (liba failed)');
    expect(rows[4]![6]).toBe('waiting for liba, libc');
    expect(groupHeadline(status)).toBe(
      'group 7 (dag, publish atomic, branch stable): running - 1 running, 1 waiting, 1 skipped, 1 failed',
    );
  });
});
