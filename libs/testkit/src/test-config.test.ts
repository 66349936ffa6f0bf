import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from './temp-dir.ts';
import { loadConfig, sourceListFor } from '@aoinb/config';
import { writeTestConfig } from './test-config.ts';

const tmp = useTempDir('aoinb-testconfig-');

describe('writeTestConfig', () => {
  it('writes a config folder that @aoinb/config loads', async () => {
    const dir = await writeTestConfig({
      dir: path.join(tmp.dir, 'conf'),
      workDir: path.join(tmp.dir, 'work'),
      arch: 'amd64',
      sourceLists: { stable: 'deb http://deb.debian.org/debian bookworm main' },
      extraToml: '[build]\ntimeout_minutes = 5',
    });
    const config = await loadConfig(dir);
    expect(config).toMatchObject({ workDir: path.join(tmp.dir, 'work'), arch: 'amd64', build: { timeoutMinutes: 5 } });
    const list = await sourceListFor(config, 'stable');
    expect(await readFile(list, 'utf8')).toBe('deb http://deb.debian.org/debian bookworm main\n');
  });

  it('adds loopback source servers to [build] source_allow, with or without a [build] table', async () => {
    const withTable = await writeTestConfig({
      dir: path.join(tmp.dir, 'allow1'),
      workDir: '/w',
      arch: 'amd64',
      sourceLists: {},
      extraToml: '[build]\ntimeout_minutes = 5\nsource_allow = ["mirror.lan"]',
      sourceAllow: ['127.0.0.1:8469'],
    });
    expect((await loadConfig(withTable)).build).toMatchObject({
      timeoutMinutes: 5,
      sources: { allow: [{ host: 'mirror.lan' }, { host: '127.0.0.1', port: 8469 }] },
    });
    const without = await writeTestConfig({
      dir: path.join(tmp.dir, 'allow2'),
      workDir: '/w',
      arch: 'amd64',
      sourceLists: {},
      sourceAllow: ['127.0.0.1:1'],
    });
    expect((await loadConfig(without)).build.sources.allow).toEqual([{ host: '127.0.0.1', port: 1 }]);
  });

  it('rejects a branch name that is not a file name', async () => {
    await expect(
      writeTestConfig({
        dir: path.join(tmp.dir, 'bad'),
        workDir: '/w',
        arch: 'amd64',
        sourceLists: { '../x': 'deb x y main' },
      }),
    ).rejects.toThrow(/not a valid branch name/);
  });
});
