import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.ts';

/** Who may ask for a build network (coordinator, tokens) and which hosts run such builds (worker). */
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aoinb-config-net-'));
  await mkdir(path.join(dir, 'secrets'));
  for (const name of ['alice', 'w']) await writeFile(path.join(dir, `secrets/${name}.token`), `tok-${name}\n`);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const token = (name: string, role: string, extra = '') =>
  `[[tokens]]\nname = "${name}"\nrole = "${role}"\nfile = "secrets/${name}.token"\n${extra}`;

async function load(text: string) {
  await writeFile(path.join(dir, 'config.toml'), `arch = "amd64"\n${text}`);
  return loadConfig(dir);
}

describe('network builds in config.toml', () => {
  it('are off by default: nobody may ask, no worker runs them', async () => {
    const config = await load(token('alice', 'maintainer'));
    expect(config.farm.coordinator.networkBuilds).toBe('never');
    expect(config.farm.worker.allowNetworkBuilds).toBe(false);
    expect(config.farm.tokens[0]).not.toHaveProperty('networkBuilds');
  });

  it('reads the coordinator policy, a marked maintainer token and the worker switch', async () => {
    const config = await load(
      [
        '[coordinator]\nnetwork_builds = "admin"',
        '[worker]\nallow_network_builds = true',
        token('alice', 'maintainer', 'network_builds = true'),
      ].join('\n'),
    );
    expect(config.farm.coordinator.networkBuilds).toBe('admin');
    expect(config.farm.worker.allowNetworkBuilds).toBe(true);
    expect(config.farm.tokens[0]).toMatchObject({ name: 'alice', networkBuilds: true });
    expect((await load('[coordinator]\nnetwork_builds = "any-submitter"')).farm.coordinator.networkBuilds).toBe(
      'any-submitter',
    );
  });

  it('reports every wrong value at its key path', async () => {
    const error = await load(
      [
        '[coordinator]\nnetwork_builds = "always"',
        '[worker]\nallow_network_builds = "yes"',
        token('alice', 'maintainer', 'network_builds = 1'),
      ].join('\n'),
    ).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    const message = (error as Error).message;
    expect(message).toContain('coordinator.network_builds: must be one of "never", "admin", "any-submitter"');
    expect(message).toContain('worker.allow_network_builds: must be true or false, got string "yes"');
    expect(message).toContain('tokens[0].network_builds: must be true or false, got number 1');
  });

  it('refuses a token mark that changes nothing: under another policy, or on a token that cannot submit', async () => {
    const never = await load(token('alice', 'maintainer', 'network_builds = true')).catch((e: Error) => e);
    expect((never as Error).message).toContain(
      'tokens[0].network_builds: has no effect unless [coordinator] network_builds = "admin" (it is "never")',
    );
    const worker = await load(
      [
        '[coordinator]\nnetwork_builds = "admin"',
        token('alice', 'maintainer'),
        token('w', 'worker', 'network_builds = true'),
      ].join('\n'),
    ).catch((e: Error) => e);
    expect((worker as Error).message).toContain(
      'tokens[1].network_builds: only a maintainer token can be marked (this one is worker)',
    );
  });
});
