import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmHarness, farmTokens, packTestBundle } from '@aoinb/farm-harness';
import { maxTimeoutSeconds, PROTOCOL_VERSION, protocolHeader } from '@aoinb/farm-contract';

/**
 * A stolen worker token against the real coordinator, Redis and a worker agent
 * (fake executor): while a build runs, the thief knows the task, arch and
 * attempt, but not that attempt's key, so it can neither upload nor report.
 */
describe('per-attempt credentials on uploads and results', () => {
  let farm: FarmHarness;
  // The thief runs a worker of the right version: only the attempt key stops it.
  const worker = { token: farmTokens.worker };
  const protocol = { [protocolHeader]: String(PROTOCOL_VERSION) };

  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64'] });
    await farm.startCoordinator();
    await farm.startWorker({ id: 'worker-a', archs: ['amd64'] });
  });
  afterAll(async () => {
    await farm?.stop();
  });

  it('refuses a forged upload and result made with the worker token alone; the real attempt still succeeds', async () => {
    const archive = await packTestBundle(path.join(farm.root, 'bundles'), {
      name: 'victim',
      fake: { durationMs: 4000 },
    });
    const id = await farm.submit(archive);
    const running = await farm.waitForState(id, ['running']);
    const attempt = running.jobs[0]!.attempt;
    expect(attempt).toBeGreaterThan(0);

    const forgedUpload = (headers: Record<string, string>) =>
      farm.api(
        'PUT',
        `/task/${id}/artifact/amd64/victim_1.0-0_amd64.deb?run=1&attempt=${attempt}`,
        new Uint8Array([1, 2, 3]),
        {
          ...worker,
          headers: { 'x-checksum-sha256': '0'.repeat(64), ...protocol, ...headers },
        },
      );
    const attempts: Array<Record<string, string>> = [
      {},
      { 'x-aoinb-attempt-key': 'guessed' },
      { 'x-aoinb-attempt-key': '' },
    ];
    for (const headers of attempts) {
      const refused = await forgedUpload(headers);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({
        error: { code: 'FORBIDDEN', message: expect.stringContaining('x-aoinb-attempt-key') },
      });
    }
    const forgedResult = await farm.api(
      'PUT',
      `/task/${id}/result/amd64`,
      {
        status: 'succeeded',
        builder: 'worker-a',
        run: 1,
        attempt,
        startedAt: new Date().toISOString(),
        finishedAt: new Date().toISOString(),
        artifacts: [],
        phases: {},
      },
      { ...worker, headers: { 'x-aoinb-attempt-key': 'guessed', ...protocol } },
    );
    expect(forgedResult.status).toBe(403);

    const done = await farm.waitForState(id, ['succeeded', 'failed']);
    expect(done.state).toBe('succeeded');
    expect(done.jobs[0]!.artifacts.map((a) => a.name)).toEqual(['victim_1.0-0_amd64.deb']);
  });

  it('answers a malformed PUT /task/:id/build with a 400 naming the field, and bounds timeout_seconds', async () => {
    const maintainer = { token: farmTokens.maintainer };
    const id = ((await farm.api('POST', '/task', undefined, maintainer)).body as { id: string }).id;
    const cases: Array<[unknown, RegExp]> = [
      [{ archs: 'amd64' }, /body\/archs must be array/],
      [{ archs: [] }, /body\/archs must NOT have fewer than 1 items/],
      [{ archs: ['../x'] }, /body\/archs\/0 must match pattern/],
      [{ timeout_seconds: 'soon' }, /body\/timeout_seconds must be integer/],
      [{ timeout_seconds: -5 }, /body\/timeout_seconds must be >= 1/],
      [{ timeout_seconds: 0 }, /body\/timeout_seconds must be >= 1/],
      [{ timeout_seconds: 1.5 }, /body\/timeout_seconds must be integer/],
      [{ timeout_seconds: maxTimeoutSeconds + 1 }, /body\/timeout_seconds must be <= 604800/],
      [{ arch: ['amd64'] }, /body must NOT have additional properties/],
    ];
    for (const [body, message] of cases) {
      const res = await farm.api('PUT', `/task/${id}/build`, body, maintainer);
      expect({ body, status: res.status, code: (res.body as { error: { code: string } }).error.code }).toEqual({
        body,
        status: 400,
        code: 'USAGE',
      });
      expect((res.body as { error: { message: string } }).error.message).toMatch(message);
    }
  });

  it('takes one bundle upload per task at a time: a second one while the first streams is a 409, without host paths', async () => {
    const maintainer = { authorization: `Bearer ${farmTokens.maintainer}` };
    const id = ((await farm.api('POST', '/task', undefined, { token: farmTokens.maintainer })).body as { id: string })
      .id;
    const archive = await packTestBundle(path.join(farm.root, 'bundles'), { name: 'upload-once' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(archive.subarray(0, 10));
        await gate;
        controller.enqueue(archive.subarray(10));
        controller.close();
      },
    });
    const url = `${farm.coordinatorUrl}/task/${id}/build_bundle`;
    const first = fetch(url, {
      method: 'PUT',
      headers: { ...maintainer, 'content-type': 'application/octet-stream' },
      body: slow,
      duplex: 'half',
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const second = await farm.api('PUT', `/task/${id}/build_bundle`, archive, { token: farmTokens.maintainer });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({
      error: { code: 'CONFLICT', message: expect.stringContaining('another bundle upload is in progress') },
    });
    expect(second.text).not.toContain(farm.root);
    release();
    expect((await first).status).toBe(201);
    // The lock is released: the same bytes again are accepted (unchanged).
    expect((await farm.api('PUT', `/task/${id}/build_bundle`, archive, { token: farmTokens.maintainer })).status).toBe(
      200,
    );
  });
});
