import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FarmHarness, farmTokens } from '../index.ts';

/**
 * Tests that fail on purpose with a test farm running, for ../failed-test-logs.test.ts (not in the suite's
 * include: run through ./vitest.config.ts): the farm's logs of each failed test must be reported, none of
 * the passing one's.
 */
describe('a farm for the file', () => {
  let farm: FarmHarness;
  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64'], logLevel: 'info' });
    await farm.startCoordinator();
    await farm.startWorker({ id: 'w1', archs: ['amd64'] });
    // A secret in a log, as a process that logged one would leave it: the report must blank it.
    farm.logs.add('probe').append(`admin token ${farmTokens.admin}; header Authorization: Bearer s3cr3t-bearer\n`);
  });
  afterAll(() => farm?.stop());

  it('passes', async () => {
    expect((await farm.api('GET', '/healthz')).status).toBe(200);
  });

  it('fails on purpose', async () => {
    expect((await farm.api('GET', '/healthz')).status).toBe(500);
  });
});

describe('a farm for each test, stopped by its afterEach', () => {
  let farm: FarmHarness | undefined;
  afterEach(async () => {
    await farm?.stop();
  });

  it('fails on purpose after its farm is stopped', async () => {
    farm = await FarmHarness.create({ archs: ['amd64'] });
    farm.logs.add('marker').append('the per-test farm ran\n');
    expect(farm.logs.logs.map((log) => log.name)).toEqual([]);
  });
});

describe('a farm whose beforeAll fails', () => {
  let farm: FarmHarness | undefined;
  beforeAll(async () => {
    farm = await FarmHarness.create({ archs: ['amd64'] });
    farm.logs.add('marker').append('the beforeAll farm ran\n');
    throw new Error('beforeAll fails on purpose');
  });
  afterAll(() => farm?.stop());

  it('never runs', () => undefined);
});
