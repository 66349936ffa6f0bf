import { createHash } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { readLogEntries, type BuildJobResult, type LogEntry } from '@aoinb/farm-protocol';
import { makeTestDeb } from '@aoinb/testkit';
import { acceptResult, receiveArtifact } from '../src/services/result-service.ts';
import { inject } from './inject-fixture.ts';
import type { ServiceRig } from './service-rig.ts';

/** What a worker reports of one artifact. */
export type Digest = BuildJobResult['artifacts'][number];

export const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** A worker's report of run 1 (a success with no artifacts unless `over` says otherwise). */
export const report = (over: Partial<BuildJobResult> = {}): BuildJobResult => ({
  status: 'succeeded',
  builder: 'worker-b',
  run: 1,
  attempt: 1,
  startedAt: '2026-12-01T10:00:00.000Z',
  finishedAt: '2026-12-01T10:05:00.000Z',
  artifacts: [],
  phases: { build: 1234 },
  ...over,
});

/** A build of amd64 claimed by `worker-a` (attempt 1) and a real .deb of it, not uploaded yet. */
export interface ClaimedBuild {
  id: string;
  claim: { attempt: number; hash: string };
  deb: { name: string; bytes: Buffer; sha256: string };
  digest: Digest;
}

/** The result service's calls as a worker of amd64 makes them, and what a test reads back. */
export function reportFixtures(rig: ServiceRig) {
  return {
    async claimed(name: string): Promise<ClaimedBuild> {
      const id = await rig.queued({ name }, ['amd64']);
      const claim = await rig.claim(id, 'amd64', 'worker-a');
      const deb = await makeTestDeb({ dir: path.join(rig.farm.root, 'debs', name), name, arch: 'amd64' });
      return { id, claim, deb, digest: { name: deb.name, size: deb.bytes.length, sha256: deb.sha256 } };
    },
    /** PUT of one artifact of run 1 at `attempt` (sha256 of the bytes unless given). */
    upload(id: string, attempt: number, hash: string, name: string, bytes: Buffer, sha256 = sha(bytes)) {
      const call = { run: 1, attempt, attemptKeyHash: hash };
      return receiveArtifact(rig.ctx, id, 'amd64', name, call, sha256, Readable.from([bytes]));
    },
    /** The report of a claimed build, under its claim's key. */
    accept(build: ClaimedBuild, over: Partial<BuildJobResult> = {}) {
      return acceptResult(rig.ctx, build.id, 'amd64', report(over), build.claim.hash);
    },
    async lastLogEntry(id: string): Promise<LogEntry | undefined> {
      return (await readLogEntries(rig.ctx.redis, rig.ctx.keys.log(id, 'amd64', 1), '0', 1000)).at(-1);
    },
    /** The branch repository's index, as apt reads it. */
    async packages(): Promise<string> {
      return (await inject(rig.app, 'GET', '/repo/stable/Packages')).body;
    },
  };
}
