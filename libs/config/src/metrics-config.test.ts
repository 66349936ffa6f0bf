import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aoinb-config-metrics-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('metrics settings', () => {
  it('default to /metrics behind a token and no worker endpoint; accept a reader token', async () => {
    await writeFile(path.join(dir, 'reader.token'), 'r3ader\n');
    await writeFile(
      path.join(dir, 'config.toml'),
      'work_dir = "/w"\narch = "amd64"\n[[tokens]]\nname = "prometheus"\nrole = "reader"\nfile = "reader.token"\n',
    );
    const config = await loadConfig(dir);
    expect(config.farm.coordinator.metrics).toBe('token');
    expect(config.farm.worker.metricsListen).toBeUndefined();
    expect(config.farm.tokens).toEqual([{ name: 'prometheus', role: 'reader', token: 'r3ader' }]);
  });

  it('report bad values by key path', async () => {
    await writeFile(
      path.join(dir, 'config.toml'),
      'work_dir = "/w"\narch = "amd64"\n[coordinator]\nmetrics = "open"\n[worker]\nmetrics_listen = "9464"\n',
    );
    const error = await loadConfig(dir).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/coordinator\.metrics: .*token.*public.*off/);
    expect(error?.message).toMatch(/worker\.metrics_listen: "9464" is not valid: use "address:port"/);
  });
});
