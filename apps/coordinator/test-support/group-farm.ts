import path from 'node:path';
import {
  FarmHarness,
  member,
  ms,
  packTestBundle,
  postGroup,
  uploadTasks,
  type GroupStatus,
  type TestBundle,
} from '@aoinb/farm-harness';

/**
 * Group builds on the farm as it runs: a real redis-server, the coordinator
 * and four worker agents as processes on the fake executor (two amd64 hosts,
 * one arm64, one riscv64). Bundles name their in-group dependencies in
 * BUILDDEP/PKGDEP; `fake-build.json` sets each build's duration and failure.
 * The caller stops it.
 */
export async function startGroupFarm(): Promise<FarmHarness> {
  const farm = await FarmHarness.create({ archs: ['amd64', 'arm64', 'riscv64'], noarchArch: 'amd64' });
  try {
    await farm.startCoordinator();
    // One at a time: four agents starting at once on a loaded 2-core host can miss the heartbeat deadline.
    for (const [id, arch] of [
      ['wa1', 'amd64'],
      ['wa2', 'amd64'],
      ['wb', 'arm64'],
      ['wr', 'riscv64'],
    ] as const)
      await farm.startWorker({ id, archs: [arch] });
  } catch (error) {
    await farm.stop();
    throw error;
  }
  return farm;
}

export interface GroupKit {
  pack(b: TestBundle): Promise<Buffer>;
  /** An amd64-only bundle whose fake build takes 400 ms unless `fake` says otherwise. */
  amd64(name: string, defines?: string[], fake?: Record<string, unknown>): Promise<Buffer>;
  /** Uploads the bundles as tasks and posts them as a group on the branch `stable`. */
  group(bundles: Array<Promise<Buffer>>, options?: Record<string, unknown>): Promise<{ id: string; tasks: string[] }>;
  /** The branch `stable`'s Packages index as it is served now. */
  branchPackages(): Promise<string>;
}

/** Bundles and groups on the farm `farm()` returns (read at each call: it starts in beforeAll). */
export function groupKit(farm: () => FarmHarness): GroupKit {
  const pack = (b: TestBundle): Promise<Buffer> => packTestBundle(path.join(farm().root, 'bundles'), b);
  return {
    pack,
    amd64: (name, defines = [], fake = {}) =>
      pack({ name, defines: ['ALLOW_ARCH="amd64"', ...defines], fake: { durationMs: 400, ...fake } }),
    group: async (bundles, options = {}) => {
      const tasks = await uploadTasks(farm(), await Promise.all(bundles));
      const created = await postGroup(farm(), { branch: 'stable', tasks, ...options });
      if (created.status !== 201) throw new Error(`POST /group: ${created.status} ${created.text}`);
      return { id: (created.body as { id: string }).id, tasks };
    },
    branchPackages: async () => (await farm().api('GET', '/repo/stable/Packages', undefined, { token: null })).text,
  };
}

/** The member `later` started no sooner than `earlier` finished. */
export function startsAfterEnd(s: GroupStatus, later: string, earlier: string): boolean {
  return ms(member(s, later).started_at) >= ms(member(s, earlier).finished_at);
}
