import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@aoinb/config';
import { controlPlaneOf, destinationPolicyOf } from './control-plane.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function configFrom(toml: string) {
  dir = await mkdtemp(path.join(tmpdir(), 'aoinb-control-plane-'));
  await writeFile(path.join(dir, 'config.toml'), `arch = "amd64"\n${toml}`);
  return loadConfig(dir);
}

describe("the farm's control plane as a host's config names it", () => {
  it('lists the coordinator (public URL, worker URL, listen address), Redis and worker metrics once each', async () => {
    const config = await configFrom(
      [
        '[coordinator]\nlisten = "0.0.0.0:8460"\npublic_url = "https://farm.example.org"',
        '[worker]\ncoordinator_url = "http://10.0.0.2:8460"\nmetrics_listen = "127.0.0.1:9464"',
        '[redis]\nurl = "redis://[fd00::5]:6380/2"',
      ].join('\n'),
    );
    expect(controlPlaneOf(config)).toEqual([
      { name: 'the coordinator', host: 'farm.example.org', port: 443 },
      { name: 'the coordinator', host: '10.0.0.2', port: 8460 },
      { name: 'the coordinator', host: '0.0.0.0', port: 8460 },
      { name: 'Redis', host: 'fd00::5', port: 6380 },
      { name: "the worker's metrics", host: '127.0.0.1', port: 9464 },
    ]);
    expect(destinationPolicyOf(config)).toMatchObject({ allow: [], controlPlane: controlPlaneOf(config) });
  });

  it('lists every seed node of a Redis Cluster', async () => {
    const config = await configFrom('[redis]\ncluster = ["redis://10.0.0.7:7000", "redis://10.0.0.8:7001"]');
    expect(controlPlaneOf(config).filter((e) => e.name === 'Redis')).toEqual([
      { name: 'Redis', host: '127.0.0.1', port: 6379 },
      { name: 'Redis', host: '10.0.0.7', port: 7000 },
      { name: 'Redis', host: '10.0.0.8', port: 7001 },
    ]);
  });

  it('defaults to the local coordinator and Redis when nothing is configured', async () => {
    const config = await configFrom('');
    expect(controlPlaneOf(config)).toEqual([
      { name: 'the coordinator', host: '127.0.0.1', port: 8460 },
      { name: 'Redis', host: '127.0.0.1', port: 6379 },
    ]);
  });
});
