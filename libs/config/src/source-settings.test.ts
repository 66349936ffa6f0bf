import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.ts';
import { parseAllowedDestination } from './source-settings.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'aoinb-config-src-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('[build] source_* settings', () => {
  it('defaults to no allowlist and generous limits', async () => {
    await writeFile(path.join(dir, 'config.toml'), 'arch = "amd64"\n');
    expect((await loadConfig(dir)).build.sources).toEqual({
      allow: [],
      maxBytes: 8192 * 1048576,
      timeoutMs: 3_600_000,
      stallMs: 120_000,
    });
  });

  it('reads allowlist entries and limits', async () => {
    await writeFile(
      path.join(dir, 'config.toml'),
      [
        'arch = "amd64"',
        '[build]',
        'source_allow = ["127.0.0.1:8469", "Mirror.LAN", "[::1]:80", "fd00::5"]',
        'source_max_mib = 10',
        'source_timeout_minutes = 2',
        'source_stall_seconds = 5',
        '',
      ].join('\n'),
    );
    expect((await loadConfig(dir)).build.sources).toEqual({
      allow: [
        { host: '127.0.0.1', port: 8469 },
        { host: 'mirror.lan' },
        { host: '::1', port: 80 },
        { host: 'fd00::5' },
      ],
      maxBytes: 10 * 1048576,
      timeoutMs: 120_000,
      stallMs: 5000,
    });
  });

  it('names every bad entry by its key path', async () => {
    await writeFile(
      path.join(dir, 'config.toml'),
      'arch = "amd64"\n[build]\nsource_allow = ["ok.lan", "http://x/", "host:99999", 3]\nsource_max_mib = 0\n',
    );
    const message = ((await loadConfig(dir).catch((e: Error) => e)) as Error).message;
    expect(message).toContain('build.source_allow[1]: "http://x/" is not a host, host:port, IP or [IPv6]:port');
    expect(message).toContain('build.source_allow[2]: "host:99999" is not a host');
    expect(message).toContain('build.source_allow[3]: must be a string');
    expect(message).toContain('build.source_max_mib: must be at least 1, got 0');
  });

  it('parses the entry forms', () => {
    expect(parseAllowedDestination('a.b:1')).toEqual({ host: 'a.b', port: 1 });
    expect(parseAllowedDestination('::1')).toEqual({ host: '::1' });
    expect(parseAllowedDestination('[fe80::1]')).toEqual({ host: 'fe80::1' });
    for (const bad of ['', 'a b', '[nothost]:1', 'a:', 'a:0', '-a.lan'])
      expect(parseAllowedDestination(bad), bad).toBeUndefined();
  });
});
