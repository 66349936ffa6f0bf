import { describe, expect, it } from 'vitest';
import { useConfigFile } from '../test-support/config-file.ts';

const config = useConfigFile('aoinb-config-settle-');
const { write, problems } = config;

/** `[coordinator] settle_seconds` and `[worker] settle_put_off_seconds`: the settle mark and the worker's wait. */
describe('the settle mark settings', () => {
  it('default to a 300 s mark and a 2 s put-off, and read what is set', async () => {
    await write('');
    const defaults = (await config.load()).farm;
    expect([defaults.coordinator.settleSeconds, defaults.worker.settlePutOffSeconds]).toEqual([300, 2]);
    await write('[coordinator]\nsettle_seconds = 1800\n[worker]\nsettle_put_off_seconds = 0.5\n');
    const set = (await config.load()).farm;
    expect([set.coordinator.settleSeconds, set.worker.settlePutOffSeconds]).toEqual([1800, 0.5]);
    await write('[coordinator]\nsettle_seconds = 10\n[worker]\nsettle_put_off_seconds = 9.5\n');
    expect((await config.load()).farm.coordinator.settleSeconds).toBe(10);
  });

  it('names the key of a value of the wrong type', async () => {
    expect(await problems('[coordinator]\nsettle_seconds = "5m"\n')).toMatch(
      /^ {2}coordinator\.settle_seconds: must be an integer, got string "5m"$/m,
    );
    expect(await problems('[coordinator]\nsettle_seconds = 300.5\n')).toMatch(
      /^ {2}coordinator\.settle_seconds: must be an integer, got number 300\.5$/m,
    );
    expect(await problems('[worker]\nsettle_put_off_seconds = "2"\n')).toMatch(
      /^ {2}worker\.settle_put_off_seconds: must be a number, got string "2"$/m,
    );
  });

  it('names the key of a value out of range', async () => {
    expect(await problems('[coordinator]\nsettle_seconds = 9\n')).toMatch(
      /^ {2}coordinator\.settle_seconds: must be at least 10, got 9$/m,
    );
    expect(await problems('[coordinator]\nsettle_seconds = 86401\n')).toMatch(
      /^ {2}coordinator\.settle_seconds: must be at most 86400, got 86401$/m,
    );
    for (const bad of ['0', '-1', '0.05'])
      expect(await problems(`[worker]\nsettle_put_off_seconds = ${bad}\n`)).toMatch(
        new RegExp(`^ {2}worker\\.settle_put_off_seconds: must be at least 0\\.1, got ${bad}$`, 'm'),
      );
  });

  it('refuses a put-off as long as the mark it waits out, naming both keys', async () => {
    const message = await problems('[coordinator]\nsettle_seconds = 30\n[worker]\nsettle_put_off_seconds = 30\n');
    expect(message).toMatch(
      /^ {2}worker\.settle_put_off_seconds: must be shorter than coordinator\.settle_seconds \(30\), got 30$/m,
    );
    expect(message).toMatch(/has 1 problem:/);
    // Against the default mark when the file sets none.
    expect(await problems('[worker]\nsettle_put_off_seconds = 301\n')).toMatch(
      /worker\.settle_put_off_seconds: must be shorter than coordinator\.settle_seconds \(300\), got 301/,
    );
    expect(await problems('[coordinator]\nsettle_seconds = 30\n[worker]\nsettle_put_off_seconds = 29.9\n')).toBe('');
  });
});
