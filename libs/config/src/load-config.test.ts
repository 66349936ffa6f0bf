import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultMaintainer } from './config-schema.ts';
import { loadConfig } from './load-config.ts';
import { sourceListFor } from './source-lists.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aoinb-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(text: string): Promise<void> {
  await writeFile(path.join(dir, 'config.toml'), text);
}

describe('loadConfig', () => {
  it('reads the seed example with defaults for everything else', async () => {
    await writeConfig('work_dir = "/var/cache/aoinb/work"\narch = "amd64"\n');
    const config = await loadConfig(dir);
    expect(config.workDir).toBe('/var/cache/aoinb/work');
    expect(config.arch).toBe('amd64');
    expect(config.build.instanceRefreshMinutes).toBe(0);
    expect(config.build.sampleIntervalSeconds).toBe(3);
    expect(config.baseos.url).toBe(
      'https://repo.aosc.io/aosc-os/os-amd64/buildkit/aosc-os_buildkit_latest_amd64.tar.xz',
    );
    expect(config.baseos.sourcesList).toBe(path.join(dir, 'source_lists/baseos.list'));
    expect(config.farm.coordinator.listen).toEqual({ host: '127.0.0.1', port: 8460 });
    expect(config.build.maintainer).toBe(defaultMaintainer);
    expect(config.build.keepDbg).toBe(true);
  });

  it('reads [build] maintainer and keep_dbg', async () => {
    await writeConfig('arch = "amd64"\n[build]\nmaintainer = "Jane Q. Packager <jane@aosc.io>"\nkeep_dbg = false\n');
    const config = await loadConfig(dir);
    expect(config.build.maintainer).toBe('Jane Q. Packager <jane@aosc.io>');
    expect(config.build.keepDbg).toBe(false);
  });

  // The value goes between double quotes into a bash file in the build container.
  it.each([
    ['jane@aosc.io'],
    ['Jane <jane>'],
    ['<jane@aosc.io>'],
    ['Jane "J" Doe <jane@aosc.io>'],
    ['Jane $(id) <jane@aosc.io>'],
    ['Jane `id` <jane@aosc.io>'],
    ['Jane \\ <jane@aosc.io>'],
    ['Jane\n<jane@aosc.io>'],
    ['Jane <jane@aosc.io> x'],
  ])('refuses [build] maintainer = %j naming the key', async (value) => {
    await writeConfig(`arch = "amd64"\n[build]\nmaintainer = ${JSON.stringify(value)}\n`);
    const error = await loadConfig(dir).catch((e: Error) => e);
    expect((error as Error).message).toContain('build.maintainer: ');
    expect((error as Error).message).toContain('want "Name <email>"');
  });

  it('reads [build] apt_cache_mib and dep_layers_mib, naming the key of a bad value', async () => {
    await writeConfig('arch = "amd64"\n');
    expect((await loadConfig(dir)).build).toMatchObject({ aptCacheMib: 4096, depLayersMib: 16384 });
    await writeConfig('arch = "amd64"\n[build]\napt_cache_mib = 0\ndep_layers_mib = 512\n');
    expect((await loadConfig(dir)).build).toMatchObject({ aptCacheMib: 0, depLayersMib: 512 });
    await writeConfig('arch = "amd64"\n[build]\napt_cache_mib = -1\ndep_layers_mib = "big"\n');
    const message = ((await loadConfig(dir).catch((e: Error) => e)) as Error).message;
    expect(message).toContain('build.apt_cache_mib: must be at least 0, got -1');
    expect(message).toContain('build.dep_layers_mib: must be an integer');
  });

  it('reports every problem with its key path at once', async () => {
    await writeConfig(
      [
        'work_dir = "relative/path"',
        'arch = "AMD 64"',
        'typo_key = 1',
        '[build]',
        'instance_refresh_minutes = -5',
        'sample_interval_seconds = "fast"',
        '[coordinator]',
        'listen = "nowhere"',
        'group_default_build_seconds = 0',
        '[[tokens]]',
        'name = "alice"',
        'role = "boss"',
        'token = "s3cret"',
      ].join('\n'),
    );
    const error = await loadConfig(dir).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    const message = (error as Error).message;
    expect(message).toContain(path.join(dir, 'config.toml'));
    for (const expected of [
      'work_dir: must be an absolute path',
      'arch: "AMD 64" is not valid',
      'typo_key: is not a known key',
      'build.instance_refresh_minutes: must be at least 0, got -5',
      'build.sample_interval_seconds: must be a number, got string "fast"',
      'coordinator.listen: "nowhere" is not valid',
      'coordinator.group_default_build_seconds: must be at least 1, got 0',
      'tokens[0].role: must be one of "maintainer", "worker", "admin"',
      'tokens[0].token: is not a known key',
      'tokens[0].file: is required (or env): tokens are never written in config.toml',
    ]) {
      expect(message).toContain(expected);
    }
  });

  it('names file, line and column of a TOML syntax error', async () => {
    await writeConfig('arch = "amd64"\nwork_dir = /no/quotes\n');
    await expect(loadConfig(dir)).rejects.toThrow(/config\.toml:2:\d+: /);
  });

  it('says which folder is missing', async () => {
    await expect(loadConfig(path.join(dir, 'nope'))).rejects.toMatchObject({
      code: 'CONFIG_NOT_FOUND',
      message: expect.stringContaining('nope'),
    });
    await expect(loadConfig(dir)).rejects.toMatchObject({
      code: 'CONFIG_NOT_FOUND',
      message: expect.stringContaining('config.toml does not exist'),
    });
  });

  it('reads tokens from files relative to the config folder and reports unreadable ones', async () => {
    await mkdir(path.join(dir, 'secrets'));
    await writeFile(path.join(dir, 'secrets/alice.token'), 'tok-alice\n');
    const alice = '[[tokens]]\nname = "alice"\nrole = "maintainer"\nfile = "secrets/alice.token"\n';
    const missing = '[[tokens]]\nname = "w"\nrole = "worker"\nfile = "secrets/missing.token"\n';
    await writeConfig(`arch = "amd64"\n${alice}${missing}`);
    await expect(loadConfig(dir)).rejects.toThrow(/tokens\[1\]\.file: cannot read .*missing\.token/);
    await writeConfig(`arch = "amd64"\n${alice}`);
    const config = await loadConfig(dir);
    expect(config.farm.tokens).toEqual([{ name: 'alice', role: 'maintainer', token: 'tok-alice' }]);
  });

  it('reads the repository signing key file (relative to the config folder) and the retention rule', async () => {
    await writeConfig('arch = "amd64"\n');
    expect((await loadConfig(dir)).farm.coordinator).toMatchObject({ signingKeyFile: undefined, repoKeepVersions: 0 });
    await writeConfig('arch = "amd64"\n[coordinator]\nsigning_key_file = "secrets/repo.asc"\nrepo_keep_versions = 3\n');
    expect((await loadConfig(dir)).farm.coordinator).toMatchObject({
      signingKeyFile: path.join(dir, 'secrets/repo.asc'),
      repoKeepVersions: 3,
    });
    await writeConfig('arch = "amd64"\n[coordinator]\nrepo_keep_versions = -1\n');
    await expect(loadConfig(dir)).rejects.toThrow(/coordinator\.repo_keep_versions/);
  });
});

describe('sourceListFor', () => {
  it('names the missing source list file', async () => {
    await writeConfig('arch = "amd64"\n');
    const config = await loadConfig(dir);
    await expect(sourceListFor(config, 'stable')).rejects.toMatchObject({
      code: 'SOURCE_LIST_MISSING',
      message: `branch stable has no source list: ${path.join(dir, 'source_lists/stable.list')} does not exist`,
    });
    await mkdir(path.join(dir, 'source_lists'));
    await writeFile(path.join(dir, 'source_lists/stable.list'), 'deb http://example.invalid/ stable main\n');
    await expect(sourceListFor(config, 'stable')).resolves.toBe(path.join(dir, 'source_lists/stable.list'));
  });

  it('rejects branch names that could escape the folder', async () => {
    await writeConfig('arch = "amd64"\n');
    const config = await loadConfig(dir);
    await expect(sourceListFor(config, '../etc')).rejects.toMatchObject({ code: 'USAGE' });
  });
});
