import { createHash } from 'node:crypto';
import { access, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { silentLogger } from '@aoinb/logging';
import { attemptKeyHeader, type BuildJobResult } from '@aoinb/farm-protocol';
import { freePort } from '@aoinb/testkit';
import { CoordinatorClient } from './coordinator-client.ts';
import { startStandinCoordinator, type StandinCoordinator } from '../test-support/standin-coordinator.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const result: BuildJobResult = {
  status: 'succeeded',
  builder: 'w',
  run: 1,
  attempt: 3,
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:01:00.000Z',
  artifacts: [],
  phases: {},
};

/** The worker's HTTP client against a real HTTP server standing in for the coordinator. */
describe('CoordinatorClient against a stand-in coordinator', () => {
  let coordinator: StandinCoordinator;
  const tmp = useTempDir('aoinb-client-');
  // A retry window far beyond a loaded machine's stalls: the tests that give up do so on a 4xx or a count.
  const client = (retryForMs = 300_000) =>
    new CoordinatorClient({ baseUrl: coordinator.url, token: 'tok', logger: silentLogger(), retryForMs });

  beforeAll(async () => {
    coordinator = await startStandinCoordinator();
  });
  afterEach(() => {
    coordinator.requests.length = 0;
    coordinator.answer = undefined;
    coordinator.bundles.clear();
  });
  afterAll(async () => {
    await coordinator?.close();
  });

  it('downloads a bundle with its token and checks its sha256', async () => {
    const bytes = Buffer.from('bundle bytes');
    coordinator.bundles.set('7', bytes);
    const dest = path.join(tmp.dir, 'ok.tar');
    await client().downloadBundle('7', dest, sha256(bytes));
    expect(await readFile(dest)).toEqual(bytes);
    expect(coordinator.requests.map((r) => [r.method, r.url, r.headers.authorization])).toEqual([
      ['GET', '/task/7/build_bundle', 'Bearer tok'],
    ]);
  });

  it('refuses a bundle whose bytes do not match and removes it, after three tries (not its whole window)', async () => {
    coordinator.bundles.set('8', Buffer.from('tampered'));
    const dest = path.join(tmp.dir, 'bad.tar');
    await expect(client(60_000).downloadBundle('8', dest, '1'.repeat(64))).rejects.toMatchObject({
      code: 'CHECKSUM_MISMATCH',
      message: expect.stringContaining(`sha256 ${sha256(Buffer.from('tampered'))} does not match`),
    });
    await expect(access(dest)).rejects.toThrow();
    expect(coordinator.requests.filter((r) => r.url === '/task/8/build_bundle')).toHaveLength(3);
  });

  it("treats a 4xx as final: one request, the coordinator's code and message", async () => {
    await expect(client().downloadBundle('9', path.join(tmp.dir, 'none.tar'), '0'.repeat(64))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'downloading the bundle of task 9: task 9 has no bundle',
    });
    expect(coordinator.requests).toHaveLength(1);
  });

  it('retries a 5xx with backoff until the coordinator answers', async () => {
    let refusals = 2;
    coordinator.answer = (r) =>
      r.url.includes('/result/') && refusals-- > 0
        ? { status: 503, body: { error: { code: 'UNAVAILABLE', message: 'restarting' } } }
        : undefined;
    expect(await client().reportResult('5', 'amd64', 'key-5', result)).toBe(true);
    const reports = coordinator.seen('PUT', /^\/task\/5\/result\/amd64$/);
    expect(reports).toHaveLength(3);
    expect(JSON.parse(reports[2]!.body.toString())).toEqual(result);
    expect(reports[2]!.headers[attemptKeyHeader]).toBe('key-5');
  });

  it('answers false for a result refused with 409, and throws any other 4xx', async () => {
    coordinator.answer = (r) =>
      r.url.startsWith('/task/6/')
        ? { status: 409, body: { error: { code: 'CONFLICT', message: 'attempt 4 owns the build' } } }
        : { status: 403, body: { error: { code: 'FORBIDDEN', message: 'not the attempt key' } } };
    expect(await client().reportResult('6', 'amd64', 'k', result)).toBe(false);
    await expect(client().reportResult('60', 'amd64', 'k', result)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('not the attempt key'),
    });
    expect(coordinator.requests).toHaveLength(2);
  });

  it('uploads an artifact as its bytes, with sha256, attempt and attempt key, the name encoded', async () => {
    const file = path.join(tmp.dir, 'a+b_1.0~rc1-0_amd64.deb');
    const bytes = Buffer.from('deb bytes');
    await writeFile(file, bytes);
    await client().uploadArtifact(
      '11',
      'amd64',
      { run: 1, attempt: 2 },
      'key-11',
      file,
      path.basename(file),
      sha256(bytes),
    );
    const [upload] = coordinator.requests;
    expect(upload).toMatchObject({
      method: 'PUT',
      url: `/task/11/artifact/amd64/${encodeURIComponent(path.basename(file))}?run=1&attempt=2`,
      body: bytes,
    });
    expect(upload!.headers['x-checksum-sha256']).toBe(sha256(bytes));
    expect(upload!.headers[attemptKeyHeader]).toBe('key-11');
    expect(upload!.headers['content-type']).toBe('application/octet-stream');
  });

  it('gives up on an unreachable coordinator once its retry window has passed, and at once when aborted', async () => {
    const gone = new CoordinatorClient({
      baseUrl: `http://127.0.0.1:${await freePort()}`,
      token: 'tok',
      logger: silentLogger(),
      retryForMs: 500,
    });
    await expect(gone.reportResult('1', 'amd64', 'k', result)).rejects.toThrow(/fetch failed/);
    const forever = new CoordinatorClient({
      baseUrl: `http://127.0.0.1:${await freePort()}`,
      token: 'tok',
      logger: silentLogger(),
    });
    const abort = new AbortController();
    const download = forever.downloadBundle('1', path.join(tmp.dir, 'never.tar'), '0'.repeat(64), abort.signal);
    abort.abort();
    await expect(download).rejects.toThrow();
  });
});
