import { createHash } from 'node:crypto';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { farmKeys, logMember } from '@aoinb/farm-protocol';
import { farmDeadlineMs, type FarmHarness, type FarmProcess } from '@aoinb/farm-harness';
import type { CrashAt } from './crash-hook.ts';
import { withRedis } from './fault-checks.ts';

/** The node flags that preload crash-hook.ts into a coordinator (after tsx, which it needs to load). */
export function crashHookNodeArgs(): string[] {
  const tsx = import.meta.resolve('tsx');
  return ['--import', tsx, '--import', new URL('./crash-hook.ts', import.meta.url).href];
}

/** Who sends the request the kill cuts: the submitter (the test, which retries it) or the worker (which does). */
export type CrashClient = 'submitter' | 'worker';

/** One place of upload and publish where a coordinator may die, and what the cut leaves behind. */
export interface CrashPoint {
  leaves: string;
  client: CrashClient;
  /** The cut, for the task `id` whose one .deb is `deb` (paths are matched as regular expressions). */
  at(build: { id: string; deb: string }): CrashAt;
}

const esc = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const repo = '/output/stable/';

/**
 * In the order a build goes through them: bundle, artifact, publish (the result), final state and log. With
 * the three tested elsewhere (mid-build in farm.test.ts, after the final state in log-end.test.ts, the lease
 * holder in two-coordinators.test.ts) the twelve of issue 10's probe; cuts that leave the same state as one
 * here (mid-journal, between Release and InRelease) are left out to keep the suite short.
 */
export const crashPoints: CrashPoint[] = [
  {
    leaves: 'the bundle recorded in Redis, its files not yet in place',
    client: 'submitter',
    at: ({ id }) => ({ op: 'rename', when: 'before', target: `/tasks/${id}/bundle$` }),
  },
  {
    leaves: 'the bundle stored, the upload not yet answered',
    client: 'submitter',
    at: ({ id }) => ({ op: 'rename', when: 'after', target: `/tasks/${id}/bundle\\.archive$` }),
  },
  {
    leaves: 'the artifact in place, its sha256 not yet written',
    client: 'worker',
    at: ({ id, deb }) => ({ op: 'rename', when: 'after', target: `/tasks/${id}/artifacts/.*/${esc(deb)}$` }),
  },
  {
    leaves: 'the artifact stored, the upload not yet answered (the result not sent)',
    client: 'worker',
    at: ({ id, deb }) => ({
      op: 'writeFile',
      when: 'after',
      target: `/tasks/${id}/artifacts/.*/${esc(deb)}\\.sha256$`,
    }),
  },
  {
    leaves: 'the result accepted, the .deb linked into the repository but not indexed',
    client: 'worker',
    at: ({ deb }) => ({ op: 'rename', when: 'after', target: `${repo}${esc(deb)}$` }),
  },
  {
    leaves: 'Packages appended (mid-index: the journal and the saved state not yet)',
    client: 'worker',
    at: () => ({ op: 'appendFile', when: 'after', target: `${repo}Packages$` }),
  },
  {
    leaves: 'the index saved, Release not yet signed',
    client: 'worker',
    at: () => ({ op: 'rename', when: 'after', target: `${repo}\\.index-state\\.json$` }),
  },
  {
    leaves: 'published and signed, the final state not yet written',
    client: 'worker',
    at: () => ({ op: 'rename', when: 'after', target: `${repo}InRelease$` }),
  },
  {
    leaves: 'the final state and the log end written, the log not yet archived',
    client: 'worker',
    at: ({ id }) => ({ op: 'rename', when: 'before', target: `/logs/${id}/amd64-r1\\.log$` }),
  },
];

/** Arms the coordinator's hook (written whole, then renamed: the hook never reads half a file). */
export async function armCrash(farm: FarmHarness, at: CrashAt): Promise<void> {
  const file = path.join(farm.root, 'conf', 'coordinator', 'crash-at.json');
  await writeFile(`${file}.tmp`, JSON.stringify(at));
  await rename(`${file}.tmp`, file);
}

/** Waits for the coordinator to die by the hook's SIGKILL, and checks it died at `at`. */
export async function expectCutAt(farm: FarmHarness, coordinator: FarmProcess, at: CrashAt): Promise<void> {
  const gone = (): boolean => coordinator.child.exitCode !== null || coordinator.child.signalCode !== null;
  await farm.waitFor(async () => gone(), farmDeadlineMs, `the coordinator to be cut ${at.when} ${at.op} ${at.target}`);
  expect(coordinator.child.signalCode).toBe('SIGKILL');
  const marker = path.join(farm.root, 'conf', 'coordinator', 'crashed-at.json');
  const cut = JSON.parse(await readFile(marker, 'utf8')) as CrashAt & { path: string };
  expect(cut).toMatchObject(at);
  await writeFile(marker, '{}');
}

/** Lines `Filename: <name>` of an index text, by name. */
function filenames(packages: string): string[] {
  return [...packages.matchAll(/^Filename: (.+)$/gm)].map((m) => m[1]!);
}

/**
 * The repository after recovery: `deb` is there once and listed once in Packages and Packages.gz, no file is
 * listed twice or missing, Release and InRelease name the index files as they are, and no temporary file
 * of the interrupted publish is left.
 */
export async function expectPublishedOnce(farm: FarmHarness, deb: string): Promise<void> {
  const dir = path.join(farm.storageDir, 'output', 'stable');
  const files = await readdir(dir);
  expect(files.filter((f) => f === deb)).toEqual([deb]);
  expect(files.filter((f) => /\.tmp-\d+$/.test(f))).toEqual([]);
  expect(await readdir(path.join(dir, '.tmp')).catch(() => [])).toEqual([]);
  const packages = await readFile(path.join(dir, 'Packages'));
  const listed = filenames(packages.toString());
  expect(listed.filter((f) => f === deb)).toEqual([deb]);
  expect(new Set(listed).size, 'no deb listed twice').toBe(listed.length);
  expect(
    listed.filter((f) => !files.includes(f)),
    'listed debs missing from the folder',
  ).toEqual([]);
  expect(filenames(gunzipSync(await readFile(path.join(dir, 'Packages.gz'))).toString())).toEqual(listed);
  for (const release of ['Release', 'InRelease']) {
    const text = await readFile(path.join(dir, release), 'utf8');
    for (const name of ['Packages', 'Packages.gz']) {
      const bytes = await readFile(path.join(dir, name));
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      expect(text, `${release} names ${name} as it is`).toContain(` ${sha256} ${bytes.length} ${name}\n`);
    }
  }
}

/** The build's log is archived once to storage (no temporary file left) and no longer in the unarchived set. */
export async function expectLogArchived(farm: FarmHarness, id: string): Promise<void> {
  const dir = path.join(farm.storageDir, 'logs', id);
  // Both, in one wait: the archiver renames the file into place first and only then takes the log off the
  // set (build-log.ts), so a check of the set right after the file appeared can come between the two.
  const archived = async (): Promise<boolean> =>
    (await readdir(dir).catch(() => [] as string[])).includes('amd64-r1.log') &&
    (await withRedis(farm.redis.url, (redis) =>
      redis.sismember(farmKeys.unarchivedLogs, logMember(id, 'amd64', 1)),
    )) === 0;
  await farm.waitFor(archived, farmDeadlineMs, `the log of task ${id} to be archived and off the unarchived set`);
  expect(await readdir(dir)).toEqual(['amd64-r1.log']);
}
