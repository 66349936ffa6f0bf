import { access, constants, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployDir, inCheckout, installRoot, parseUnit, repoRoot, type UnitFile } from './deploy-paths.ts';

/** The directives these units may use, per section (a typo is an error here, not a silently ignored line). */
const known: Record<string, string[]> = {
  Unit: ['Description', 'Documentation', 'Wants', 'Requires', 'After', 'Before'],
  Service: [
    'Type',
    'User',
    'Group',
    'WorkingDirectory',
    'Environment',
    'ExecStart',
    'Restart',
    'RestartSec',
    'KillMode',
    'KillSignal',
    'TimeoutStopSec',
    'LimitNOFILE',
    'TasksMax',
    'StateDirectory',
    'StateDirectoryMode',
    'ReadWritePaths',
    'NoNewPrivileges',
    'PrivateTmp',
    'PrivateDevices',
    'ProtectSystem',
    'ProtectHome',
    'ProtectKernelTunables',
    'ProtectKernelModules',
    'ProtectControlGroups',
    'RestrictSUIDSGID',
    'LockPersonality',
  ],
  Install: ['WantedBy'],
};

/** systemd time spans: `120s`, `6h15min`, `30s`. */
function seconds(span: string): number {
  let total = 0;
  for (const [, n, unit] of span.matchAll(/(\d+)\s*(h|min|s|ms)?/g))
    total += Number(n) * ({ h: 3600, min: 60, s: 1, ms: 0.001 }[unit ?? 's'] ?? 1);
  return total;
}

const one = (unit: UnitFile, section: string, key: string): string | undefined => unit.get(section)?.get(key)?.at(-1);

async function loadUnit(name: string): Promise<UnitFile> {
  return parseUnit(await readFile(path.join(deployDir, 'systemd', name), 'utf8'));
}

describe('deploy/systemd units', () => {
  it.each([
    ['aoinb-coordinator.service', 'apps/coordinator'],
    ['aoinb-worker.service', 'apps/worker'],
  ])('%s parses, uses known directives and starts the build of %s from the installed tree', async (name, app) => {
    const unit = await loadUnit(name);
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install']);
    for (const [section, keys] of unit)
      for (const key of keys.keys()) expect(known[section], `[${section}] ${key}`).toContain(key);
    const exec = one(unit, 'Service', 'ExecStart')!.split(/\s+/);
    // The binary is absolute and exists here (Debian's and NodeSource's node are /usr/bin/node).
    expect(exec[0]).toBe('/usr/bin/node');
    await access(exec[0]!, constants.X_OK);
    // Plain node runs what `npm run build` (scripts/build-apps.ts) makes of the app's src/main.ts.
    expect(exec[1]).toBe('--enable-source-maps');
    expect(exec[2]).toBe(`${installRoot}/${app}/dist/main.js`);
    await access(path.join(inCheckout(`${installRoot}/${app}`)!, 'src/main.ts'));
    expect(await readFile(path.join(repoRoot, 'scripts/build-apps.ts'), 'utf8')).toContain(
      `'${app.slice('apps/'.length)}'`,
    );
    expect(exec.slice(3)).toEqual(['-c', '/etc/aoinb']);
    // Its third-party packages load from the installed tree's node_modules.
    expect(one(unit, 'Service', 'WorkingDirectory')).toBe(installRoot);
    expect(one(unit, 'Service', 'Restart')).toBe('always');
    expect(one(unit, 'Service', 'KillMode')).toBe('mixed');
    expect(one(unit, 'Service', 'KillSignal')).toBe('SIGTERM');
    expect(one(unit, 'Install', 'WantedBy')).toBe('multi-user.target');
    const doc = one(unit, 'Unit', 'Documentation')!;
    await access(inCheckout(doc.replace(/^file:\/\//, ''))!);
  });

  it('runs the worker as root with time to hand builds back; the finish drop-in outlasts the job timeout', async () => {
    const worker = await loadUnit('aoinb-worker.service');
    expect(one(worker, 'Service', 'User')).toBe('root');
    // on_shutdown = "requeue": the agent aborts builds and hands them back within seconds.
    expect(seconds(one(worker, 'Service', 'TimeoutStopSec')!)).toBeGreaterThanOrEqual(60);
    const dropIn = parseUnit(
      await readFile(path.join(deployDir, 'systemd/aoinb-worker.service.d/on-shutdown-finish.conf'), 'utf8'),
    );
    expect([...dropIn.keys()]).toEqual(['Service']);
    // coordinator.job_timeout_minutes defaults to 360: a finishing build may run that long.
    expect(seconds(one(dropIn, 'Service', 'TimeoutStopSec')!)).toBeGreaterThan(360 * 60);
  });

  it('runs the coordinator unprivileged with its state under /var/lib/aoinb, as the example config says', async () => {
    const coordinator = await loadUnit('aoinb-coordinator.service');
    expect(one(coordinator, 'Service', 'User')).toBe('aoinb');
    expect(one(coordinator, 'Service', 'StateDirectory')).toBe('aoinb');
    expect(one(coordinator, 'Service', 'ProtectSystem')).toBe('strict');
    const config = await readFile(path.join(deployDir, 'config/coordinator.toml'), 'utf8');
    expect(config).toContain('storage_dir = "/var/lib/aoinb/farm"');
    expect(config).toContain('work_dir = "/var/lib/aoinb/work"');
    expect(one(coordinator, 'Service', 'ReadWritePaths')).toBe('/var/lib/aoinb');
  });
});
