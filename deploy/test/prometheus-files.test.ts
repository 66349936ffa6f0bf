import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { promtool } from '@aoinb/testkit';
import { deployDir } from './deploy-paths.ts';

/** deploy/prometheus as installed: a copy with a dummy reader token (promtool checks that the file exists). */
async function installedPrometheus(targets: 'multi-host' | 'compose'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'aoinb-prom-conf-'));
  await cp(path.join(deployDir, 'prometheus'), dir, { recursive: true });
  if (targets === 'compose')
    await cp(path.join(deployDir, 'compose/targets'), path.join(dir, 'targets'), { recursive: true });
  await writeFile(path.join(dir, 'secrets/aoinb-reader.token'), 'dummy\n');
  return dir;
}

describe('deploy/prometheus', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it.each(['multi-host', 'compose'] as const)('passes promtool check config with the %s targets', async (targets) => {
    const dir = await installedPrometheus(targets);
    dirs.push(dir);
    const check = await promtool(['check', 'config', path.join(dir, 'prometheus.yml')]);
    expect(check.output).toContain('SUCCESS');
    expect(check.exitCode, check.output).toBe(0);
    const config = parse(await readFile(path.join(dir, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{ job_name: string; file_sd_configs?: Array<{ files: string[] }> }>;
    };
    expect(config.scrape_configs.map((s) => s.job_name)).toEqual(
      expect.arrayContaining(['aoinb-coordinator', 'aoinb-worker']),
    );
    // Every file_sd file exists and is a list of target groups with host:port targets.
    for (const job of config.scrape_configs) {
      for (const file of (job.file_sd_configs ?? []).flatMap((f) => f.files)) {
        const groups = parse(await readFile(path.join(dir, file), 'utf8')) as Array<{ targets: string[] }>;
        expect(groups.length, file).toBeGreaterThan(0);
        for (const g of groups) for (const t of g.targets) expect(t, file).toMatch(/^[A-Za-z0-9.-]+:\d+$/);
      }
    }
  });

  it('has alert rules that pass promtool check rules and their own unit tests', async () => {
    const rules = path.join(deployDir, 'prometheus/rules/aoinb.rules.yml');
    const check = await promtool(['check', 'rules', rules]);
    expect(check.exitCode, check.output).toBe(0);
    const tested = await promtool(['test', 'rules', path.join(deployDir, 'prometheus/rules/aoinb.rules.test.yml')]);
    expect(tested.exitCode, tested.output).toBe(0);
    const doc = parse(await readFile(rules, 'utf8')) as {
      groups: Array<{ rules: Array<{ alert: string; labels: { severity: string } }> }>;
    };
    const alerts = doc.groups.flatMap((g) => g.rules);
    // The alerts the operations guide documents, each with a severity.
    expect(alerts.map((a) => a.alert)).toEqual(
      expect.arrayContaining([
        'AoinbBacklogGrowingNoBusyBuilder',
        'AoinbNoBuilderForArch',
        'AoinbBuilderOffline',
        'AoinbBuildFailureRatioHigh',
        'AoinbWorkDirDiskLow',
        'AoinbRedisDown',
        'AoinbCoordinatorDown',
      ]),
    );
    for (const a of alerts) expect(['warning', 'critical'], a.alert).toContain(a.labels.severity);
    const guide = await readFile(path.join(deployDir, '../docs/operations.md'), 'utf8');
    for (const a of alerts) expect(guide, `docs/operations.md explains ${a.alert}`).toContain(a.alert);
  });
});
