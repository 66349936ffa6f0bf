import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { report, reportFixtures, sha, type ClaimedBuild, type Digest } from '../../test-support/report-fixtures.ts';
import { useServiceRig } from '../../test-support/service-rig.ts';
import { acceptResult } from './result-service.ts';

/**
 * Artifacts in process over a real redis-server: an upload is stored only with the sha256 sent with it,
 * a repeat is a no-op and other bytes replace it; a reported success stands only if every artifact it names
 * arrived with that name, size and sha256, else it is an infrastructure failure naming the first that did not.
 */
describe('artifact uploads and their verification', () => {
  const rig = useServiceRig({ archs: ['amd64'] });
  const fx = reportFixtures(rig);

  it('fails a success whose artifacts did not all arrive as reported, naming the first that did not', async () => {
    const cases: Array<[string, (c: ClaimedBuild) => Promise<[Digest[], string]>]> = [
      ['none', async () => [[], 'the build produced no .deb']],
      [
        'bad-name',
        async ({ digest }) => [[{ ...digest, name: '../up.deb' }], 'artifact name "../up.deb" is not a .deb file name'],
      ],
      [
        'never-sent',
        async ({ digest }) => [
          [digest],
          `artifact ${digest.name} was not received intact (sha256 missing, reported ${digest.sha256})`,
        ],
      ],
      [
        'other-sha',
        async ({ id, claim, deb, digest }) => {
          await fx.upload(id, 1, claim.hash, deb.name, deb.bytes);
          const claimedSha = sha('what the worker claims');
          const why = `artifact ${deb.name} was not received intact (sha256 ${deb.sha256}, reported ${claimedSha})`;
          return [[{ ...digest, sha256: claimedSha }], why];
        },
      ],
      [
        'other-size',
        async ({ id, claim, deb, digest }) => {
          await fx.upload(id, 1, claim.hash, deb.name, deb.bytes);
          const why = `artifact ${deb.name} arrived with ${digest.size} bytes, the worker reported ${digest.size + 1}`;
          return [[{ ...digest, size: digest.size + 1 }], why];
        },
      ],
      [
        'file-lost',
        async ({ id, claim, deb, digest }) => {
          await fx.upload(id, 1, claim.hash, deb.name, deb.bytes);
          await rm(path.join(rig.ctx.layout.artifactDir(id, 'amd64', 1, 1), deb.name));
          return [[digest], `artifact ${deb.name} arrived with no bytes, the worker reported ${digest.size}`];
        },
      ],
      [
        'second-missing',
        async ({ id, claim, deb, digest }) => {
          await fx.upload(id, 1, claim.hash, deb.name, deb.bytes);
          const other = { name: 'second-missing-doc_1.0-0_amd64.deb', size: 1, sha256: sha('x') };
          const why = `artifact ${other.name} was not received intact (sha256 missing, reported ${other.sha256})`;
          return [[digest, other], why];
        },
      ],
    ];
    for (const [name, prepare] of cases) {
      const c = await fx.claimed(name);
      const [artifacts, why] = await prepare(c);
      const state = await acceptResult(rig.ctx, c.id, 'amd64', report({ artifacts }), c.claim.hash);
      expect([name, state]).toEqual([name, 'failed']);
      const build = await rig.ctx.store.getBuild(c.id, 'amd64');
      expect(build, name).toMatchObject({
        state: 'failed',
        reason: why,
        failureClass: 'infrastructure',
        artifacts: [],
      });
      expect(await fx.lastLogEntry(c.id), name).toMatchObject({ eof: { state: 'failed', reason: why } });
    }
    expect(await fx.packages()).not.toMatch(/other-sha|other-size|file-lost|second-missing/);
  });

  it('refuses an upload whose bytes are not the sha256 sent with it, keeping nothing', async () => {
    const { id, claim, deb } = await fx.claimed('torn');
    const torn = await fx.upload(id, 1, claim.hash, deb.name, deb.bytes, sha('other bytes')).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(torn?.message).toMatch(new RegExp(`artifact ${deb.name}.*sha256`));
    expect(await readdir(rig.ctx.layout.artifactsRoot(id, 'amd64')).catch(() => [])).toEqual([]);
    expect(await readdir(rig.ctx.layout.tmpDir)).toEqual([]);
  });

  it('replaces an upload that arrives again with other bytes, and keeps its sha256 beside it', async () => {
    const { id, claim, deb } = await fx.claimed('reupload');
    // Larger than 8 KiB: the upload limit is 8 GiB, not a product of its factors that reads smaller.
    const other = Buffer.concat([deb.bytes, Buffer.alloc(16 * 1024, 'tail')]);
    expect(await fx.upload(id, 1, claim.hash, deb.name, other)).toEqual({ created: true, size: other.length });
    expect(await fx.upload(id, 1, claim.hash, deb.name, deb.bytes)).toEqual({ created: true, size: deb.bytes.length });
    const dir = rig.ctx.layout.artifactDir(id, 'amd64', 1, 1);
    expect(await readFile(path.join(dir, deb.name))).toEqual(deb.bytes);
    expect(await readFile(path.join(dir, `${deb.name}.sha256`), 'utf8')).toBe(`${deb.sha256}\n`);
    expect((await readdir(dir)).sort()).toEqual([deb.name, `${deb.name}.sha256`]);
    // The same bytes again: nothing stored anew, and nothing left in the upload folder.
    expect(await fx.upload(id, 1, claim.hash, deb.name, deb.bytes)).toEqual({ created: false, size: deb.bytes.length });
    expect(await readdir(rig.ctx.layout.tmpDir)).toEqual([]);
  });
});
