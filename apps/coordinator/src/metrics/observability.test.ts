import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import {
  freePort,
  grafanaQueryMetricNames,
  parsePromText,
  promqlMetricNames,
  promtool,
  startPrometheus,
  type PrometheusHandle,
  type PromText,
} from '@aoinb/testkit';
import {
  FarmHarness,
  farmDeadlineMs,
  type TaskStatus,
  alertRuleQueries,
  alertRulesFile,
  asGrafanaSends,
  dashboardQueries,
  packTestBundle,
} from '@aoinb/farm-harness';

/**
 * The farm's metrics as Prometheus sees them: a real redis-server, the
 * coordinator and a worker agent (fake executor, [worker] metrics_listen) as
 * processes, and a real Prometheus server scraping both every second with the
 * deploy/ alert rules loaded. arm64 has a queue and no worker, so its backlog
 * stays at one job.
 */
describe('metrics of a live farm', () => {
  const readerToken = 'reader-token-0123456789abcdef';
  const secrets = useTempDir('aoinb-metrics-secrets-');
  let farm: FarmHarness;
  let prometheus: PrometheusHandle;
  let workerMetricsUrl: string;
  const statuses: Record<string, TaskStatus> = {};
  const scrapeCoordinator = async (): Promise<PromText> => {
    const res = await fetch(`${farm.coordinatorUrl}/metrics`, { headers: { authorization: `Bearer ${readerToken}` } });
    expect(res.status).toBe(200);
    return parsePromText(await res.text());
  };
  const scrapeWorker = async (): Promise<PromText> => parsePromText(await (await fetch(workerMetricsUrl)).text());

  beforeAll(async () => {
    const tokenFile = path.join(secrets.dir, 'reader.token');
    await writeFile(tokenFile, `${readerToken}\n`);
    farm = await FarmHarness.create({
      archs: ['amd64', 'arm64'],
      noarchArch: 'amd64',
      extraToml: `[[tokens]]\nname = "prometheus"\nrole = "reader"\nfile = ${JSON.stringify(tokenFile)}\n`,
    });
    const metricsPort = await freePort();
    workerMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    await farm.startCoordinator();
    await farm.startWorker({ id: 'worker-a', archs: ['amd64'], slots: 2, metricsListen: `127.0.0.1:${metricsPort}` });
    const bundles = path.join(farm.root, 'bundles');
    const [ok, bad, stuck] = await Promise.all([
      farm.submit(await packTestBundle(bundles, { name: 'metrics-ok', defines: ['ALLOW_ARCH="amd64"'] })),
      farm.submit(
        await packTestBundle(bundles, {
          name: 'metrics-bad',
          defines: ['ALLOW_ARCH="amd64"'],
          fake: { fail: 'deliberate failure' },
        }),
      ),
      farm.submit(await packTestBundle(bundles, { name: 'metrics-stuck', defines: ['ALLOW_ARCH="arm64"'] })),
    ]);
    statuses.ok = await farm.waitForState(ok, ['succeeded', 'failed']);
    statuses.bad = await farm.waitForState(bad, ['succeeded', 'failed']);
    statuses.stuck = await farm.status(stuck);
    const coordinatorTarget = new URL(farm.coordinatorUrl).host;
    prometheus = await startPrometheus({
      dir: farm.root,
      config: [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: [${JSON.stringify(alertRulesFile)}]`,
        'scrape_configs:',
        '  - job_name: aoinb-coordinator',
        `    authorization: { type: Bearer, credentials_file: ${JSON.stringify(tokenFile)} }`,
        `    static_configs: [{ targets: ["${coordinatorTarget}"] }]`,
        '  - job_name: aoinb-worker',
        `    static_configs: [{ targets: ["127.0.0.1:${metricsPort}"] }]`,
        '',
      ].join('\n'),
    });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await farm?.stop();
  });

  it('serves the coordinator metrics to a token only, in a format promtool accepts, no task or job ids', async () => {
    expect((await fetch(`${farm.coordinatorUrl}/metrics`)).status).toBe(401);
    const res = await fetch(`${farm.coordinatorUrl}/metrics`, { headers: { authorization: `Bearer ${readerToken}` } });
    const text = await res.text();
    expect(res.headers.get('content-type')).toContain('text/plain');
    const check = await promtool(['check', 'metrics'], text);
    expect(check.exitCode, check.output).toBe(0);
    const m = parsePromText(text);
    expect(statuses.ok?.state).toBe('succeeded');
    expect(statuses.bad?.state).toBe('failed');
    expect(m.value('aoinb_queue_jobs', { arch: 'arm64', state: 'waiting' })).toBe(1);
    expect(m.value('aoinb_active_builds', { arch: 'arm64', state: 'queued' })).toBe(1);
    expect(m.value('aoinb_builds_finished_total', { arch: 'amd64', result: 'succeeded' })).toBe(1);
    expect(m.value('aoinb_builds_finished_total', { arch: 'amd64', result: 'failed' })).toBe(1);
    expect(m.value('aoinb_builds_started_total', { arch: 'amd64' })).toBe(2);
    expect(m.value('aoinb_build_duration_seconds_count', { arch: 'amd64', result: 'succeeded' })).toBe(1);
    expect(m.value('aoinb_build_duration_seconds_sum', { arch: 'amd64', result: 'succeeded' })).toBeGreaterThan(0.2);
    expect(m.value('aoinb_build_queue_wait_seconds_count', { arch: 'amd64' })).toBe(2);
    expect(m.value('aoinb_builders', { arch: 'amd64', state: 'idle' })).toBe(1);
    expect(m.value('aoinb_builders', { arch: 'arm64', state: 'idle' })).toBe(0);
    expect(m.value('aoinb_arch_slots', { arch: 'amd64' })).toBe(2);
    expect(m.value('aoinb_builder_up', { builder: 'worker-a' })).toBe(1);
    expect(m.value('aoinb_groups', { state: 'running' })).toBe(0);
    expect(m.value('aoinb_redis_up')).toBe(1);
    expect(
      m.value('aoinb_http_requests_total', { method: 'PUT', route: '/task/:id/result/:arch', status: '200' }),
    ).toBe(2);
    expect(m.find('aoinb_http_requests_total', { status: '401' }).length).toBeGreaterThan(0);
    // Labels name archs, states, failure classes, builders, route patterns and placement reasons:
    // never a task or a job.
    const jobIds = new Set(Object.values(statuses).flatMap((s) => s.jobs.map((j) => j.job_id)));
    for (const s of m.samples.filter((x) => x.name.startsWith('aoinb_'))) {
      for (const [label, v] of Object.entries(s.labels)) {
        expect(
          [
            'arch',
            'state',
            'result',
            'class',
            'builder',
            'method',
            'route',
            'status',
            'version',
            'collector',
            'le',
            'reason',
          ],
          `${s.name} label ${label}`,
        ).toContain(label);
        expect(jobIds.has(v) || /\/\d/.test(v), `${s.name} ${label}=${v}`).toBe(false);
      }
    }
  });

  it('serves the worker metrics on metrics_listen: phases, results, host and source cache', async () => {
    const text = await (await fetch(workerMetricsUrl)).text();
    const check = await promtool(['check', 'metrics'], text);
    expect(check.exitCode, check.output).toBe(0);
    const m = parsePromText(text);
    expect(m.value('aoinb_worker_builds_total', { arch: 'amd64', result: 'succeeded' })).toBe(1);
    expect(m.value('aoinb_worker_builds_total', { arch: 'amd64', result: 'failed' })).toBe(1);
    expect(m.value('aoinb_worker_phase_duration_seconds_count', { arch: 'amd64', phase: 'build' })).toBe(2);
    expect(m.value('aoinb_worker_phase_duration_seconds_count', { arch: 'amd64', phase: 'upload' })).toBe(1);
    expect(m.value('aoinb_worker_workdir_free_bytes')).toBeGreaterThan(0);
    expect(m.value('aoinb_worker_workdir_size_bytes')).toBeGreaterThanOrEqual(
      m.value('aoinb_worker_workdir_free_bytes')!,
    );
    expect(m.value('aoinb_worker_memory_available_bytes')).toBeGreaterThan(0);
    expect(m.value('aoinb_worker_slots')).toBe(2);
    expect(m.value('aoinb_worker_builds_running', { arch: 'amd64' })).toBe(0);
    expect(m.value('aoinb_worker_source_cache_hits_total')).toBe(0);
    expect(m.find('aoinb_worker_info', { builder: 'worker-a', executor: 'fake' })).toHaveLength(1);
    expect((await fetch(workerMetricsUrl.replace('/metrics', '/other'))).status).toBe(404);
  });

  it('puts peaks and a downsampled series of each build into its task status', () => {
    const resources =
      statuses.ok?.jobs[0] &&
      (
        statuses.ok.jobs[0] as unknown as {
          resources: Record<string, unknown> & { samples: Array<Record<string, number>> };
        }
      ).resources;
    expect(resources).toMatchObject({ method: 'procfs', peak_disk_bytes: 0 });
    expect(resources!.peak_memory_bytes).toBeGreaterThan(0);
    expect(resources!.samples.length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(resources!.samples[0]!).sort()).toEqual([
      'at_ms',
      'cpu_cores',
      'cpu_seconds',
      'disk_bytes',
      'memory_bytes',
    ]);
    expect(typeof resources!.peak_cpu_cores).toBe('number');
  });

  it('shows a running build live on the worker and the coordinator, and forgets it when done', async () => {
    const id = await farm.submit(
      await packTestBundle(path.join(farm.root, 'bundles'), {
        name: 'metrics-live',
        defines: ['ALLOW_ARCH="amd64"'],
        fake: { durationMs: 2500, sampleIntervalMs: 100 },
      }),
    );
    await farm.waitFor(
      async () =>
        ((await scrapeWorker()).value('aoinb_worker_build_memory_bytes', { slot: '0', arch: 'amd64' }) ?? 0) > 0,
      10_000,
      'live build memory on the worker',
    );
    const text = await (await fetch(workerMetricsUrl)).text();
    const check = await promtool(['check', 'metrics'], text);
    expect(check.exitCode, check.output).toBe(0);
    const worker = parsePromText(text);
    expect(worker.value('aoinb_worker_builds_running', { arch: 'amd64' })).toBe(1);
    expect(worker.value('aoinb_worker_build_elapsed_seconds', { slot: '0', arch: 'amd64' })).toBeGreaterThan(0);
    await farm.waitFor(
      async () => (await scrapeCoordinator()).value('aoinb_builders', { arch: 'amd64', state: 'building' }) === 1,
      5000,
      'the builder building',
    );
    expect((await scrapeCoordinator()).value('aoinb_active_builds', { arch: 'amd64', state: 'running' })).toBe(1);
    await farm.waitForState(id, ['succeeded', 'failed']);
    // The build is final once its report lands; the slot is freed after that (the job completes, the
    // workspace goes), so its series go a moment later: wait for that, never read it at the state change.
    await farm.waitFor(
      async () => (await scrapeWorker()).find('aoinb_worker_build_memory_bytes').length === 0,
      farmDeadlineMs,
      'the worker to drop the finished build from its per-slot series',
    );
    expect((await scrapeWorker()).value('aoinb_worker_builds_running', { arch: 'amd64' })).toBe(0);
  });

  it('lets a real Prometheus server scrape both and answer queue-depth and builder queries', async () => {
    await prometheus.waitFor('up', (r) => r.length === 2 && r.every((s) => s.value[1] === '1'), farmDeadlineMs);
    const backlog = await prometheus.waitFor(
      'aoinb_queue_jobs{arch="arm64",state="waiting"}',
      (r) => r.length === 1,
      farmDeadlineMs,
    );
    expect(backlog[0]!.value[1]).toBe('1');
    expect(backlog[0]!.metric.job).toBe('aoinb-coordinator');
    const builders = await prometheus.waitFor(
      'sum by (arch) (aoinb_builders{state=~"idle|building"})',
      (r) => r.length === 2,
      farmDeadlineMs,
    );
    expect(Object.fromEntries(builders.map((s) => [s.metric.arch, s.value[1]]))).toEqual({ amd64: '1', arm64: '0' });
    const up = await prometheus.query('aoinb_builder_up{builder="worker-a"}');
    expect(up.map((s) => s.value[1])).toEqual(['1']);
    const disk = await prometheus.waitFor('aoinb_worker_workdir_free_bytes', (r) => r.length === 1, farmDeadlineMs);
    expect(disk[0]!.metric.job).toBe('aoinb-worker');
  });

  it('uses only metrics that exist, in alert rules and dashboard queries Prometheus accepts', async () => {
    const live = new Set([
      ...(await scrapeCoordinator()).names,
      ...(await scrapeWorker()).names,
      ...(await prometheus.metricNames()),
    ]);
    const rules = await alertRuleQueries();
    const { panels, variables } = await dashboardQueries();
    expect(rules.length).toBeGreaterThan(5);
    expect(panels.length).toBeGreaterThan(20);
    for (const q of [...rules, ...panels]) {
      for (const name of promqlMetricNames(q.expr))
        expect(live.has(name), `${q.where} uses ${name}, which no live scrape has`).toBe(true);
      // Valid PromQL over live series: Prometheus evaluates it without an error.
      await expect(prometheus.query(asGrafanaSends(q.expr)), q.where).resolves.toBeDefined();
    }
    for (const v of variables)
      for (const name of grafanaQueryMetricNames(v.expr)) expect(live.has(name), `${v.where} uses ${name}`).toBe(true);
  });
});
