import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import type { BuildResult } from '@aoinb/buildroot';
import { createLogger } from '@aoinb/logging';
import { parsePromText, promtool } from '@aoinb/testkit';
import { startMetricsServer, type MetricsServer } from './metrics-server.ts';
import { createWorkerMetrics, type WorkerMetrics } from './worker-metrics.ts';

const logger = createLogger({ level: 'silent' });

function result(
  status: BuildResult['status'],
  cpuSeconds: number,
  sources: Array<{ name: string; cached: boolean }>,
): BuildResult {
  return {
    buildId: 'b',
    status,
    package: { name: 'p', version: '1', arch: 'amd64' },
    branch: 'stable',
    artifacts: [],
    logFile: '',
    recordFile: '',
    startedAt: '',
    finishedAt: '',
    phases: { instance_refresh: 2000, mount: 30, source_fetch: 1500, build: 60_000, discard: 10 },
    resources: { cpuSeconds, peakMemoryBytes: 1, peakDiskBytes: 1, method: 'cgroup-v2', samples: [] },
    sources,
  };
}

describe('worker metrics', () => {
  const tmp = useTempDir('aoinb-worker-metrics-');
  let metrics: WorkerMetrics;
  let server: MetricsServer;
  const scrape = async () => parsePromText(await (await fetch(server.url)).text());

  beforeAll(async () => {
    metrics = createWorkerMetrics({
      builderId: 'b1',
      archs: ['amd64', 'arm64'],
      slots: 2,
      workDir: tmp.dir,
      executor: 'nspawn',
      version: '0.1.0',
      logger,
    });
    server = await startMetricsServer(metrics.registry, { host: '127.0.0.1', port: 0 }, logger);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('shows each running build in its own slot, live, and drops its series when it leaves', async () => {
    const o = metrics.observer;
    o.started('job-1', 'amd64');
    o.started('job-2', 'arm64');
    o.sample('job-1', { atMs: 3000, cpuSeconds: 3, memoryBytes: 500, diskBytes: 7000 });
    o.sample('job-1', { atMs: 6000, cpuSeconds: 9, memoryBytes: 800, diskBytes: 9000 });
    o.sample('job-2', { atMs: 3000, cpuSeconds: 1, memoryBytes: 100, diskBytes: 10 });
    let m = await scrape();
    expect(m.value('aoinb_worker_builds_running', { arch: 'amd64' })).toBe(1);
    expect(m.value('aoinb_worker_build_memory_bytes', { slot: '0', arch: 'amd64' })).toBe(800);
    expect(m.value('aoinb_worker_build_disk_bytes', { slot: '0', arch: 'amd64' })).toBe(9000);
    expect(m.value('aoinb_worker_build_cpu_cores', { slot: '0', arch: 'amd64' })).toBe(2);
    expect(m.value('aoinb_worker_build_memory_bytes', { slot: '1', arch: 'arm64' })).toBe(100);
    expect(m.value('aoinb_worker_build_cpu_seconds_total', { arch: 'amd64' })).toBe(9);
    // The executor's final figure adds only what the samples did not see.
    o.executed(
      'job-1',
      result('succeeded', 10, [
        { name: 'a.tar', cached: true },
        { name: 'b.tar', cached: false },
        { name: 'c.git', cached: false },
      ]),
    );
    o.uploaded('job-1', 1200);
    o.finished('job-1');
    m = await scrape();
    expect(m.value('aoinb_worker_build_cpu_seconds_total', { arch: 'amd64' })).toBe(10);
    expect(m.find('aoinb_worker_build_memory_bytes', { arch: 'amd64' })).toEqual([]);
    expect(m.value('aoinb_worker_builds_total', { arch: 'amd64', result: 'succeeded' })).toBe(1);
    expect(m.value('aoinb_worker_builds_total', { arch: 'arm64', result: 'failed' })).toBe(0);
    expect(m.value('aoinb_worker_phase_duration_seconds_sum', { arch: 'amd64', phase: 'build' })).toBe(60);
    expect(m.value('aoinb_worker_phase_duration_seconds_sum', { arch: 'amd64', phase: 'upload' })).toBe(1.2);
    expect(m.value('aoinb_worker_phase_duration_seconds_count', { arch: 'amd64', phase: 'instance_refresh' })).toBe(1);
    expect(m.value('aoinb_worker_source_cache_hits_total')).toBe(1);
    expect(m.value('aoinb_worker_source_cache_misses_total')).toBe(2);
    // The freed slot is the next build's.
    o.started('job-3', 'amd64');
    o.sample('job-3', { atMs: 3000, cpuSeconds: 1, memoryBytes: 42, diskBytes: 1 });
    expect((await scrape()).value('aoinb_worker_build_memory_bytes', { slot: '0', arch: 'amd64' })).toBe(42);
    o.finished('job-2');
    o.finished('job-3');
    expect((await scrape()).value('aoinb_worker_builds_running', { arch: 'amd64' })).toBe(0);
  });

  it('reports the host: work-dir space, memory, load; in a format promtool accepts', async () => {
    const text = await (await fetch(server.url)).text();
    const check = await promtool(['check', 'metrics'], text);
    expect(check.exitCode, check.output).toBe(0);
    const m = parsePromText(text);
    expect(m.value('aoinb_worker_workdir_free_bytes')).toBeGreaterThan(0);
    expect(m.value('aoinb_worker_workdir_size_bytes')).toBeGreaterThanOrEqual(
      m.value('aoinb_worker_workdir_free_bytes')!,
    );
    expect(m.value('aoinb_worker_memory_available_bytes')).toBeGreaterThan(0);
    expect(m.value('aoinb_worker_cpu_cores')).toBeGreaterThan(0);
    expect(m.value('aoinb_worker_load1')).toBeGreaterThanOrEqual(0);
    expect(m.find('aoinb_worker_info', { builder: 'b1', archs: 'amd64,arm64', executor: 'nspawn' })).toHaveLength(1);
  });

  it('serves only GET /metrics, and names the config key when its address is taken', async () => {
    expect((await fetch(server.url.replace('/metrics', '/'))).status).toBe(404);
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(404);
    const port = Number(new URL(server.url).port);
    await expect(startMetricsServer(metrics.registry, { host: '127.0.0.1', port }, logger)).rejects.toThrow(
      /worker\.metrics_listen 127\.0\.0\.1:\d+ cannot be used: .*EADDRINUSE/,
    );
  });
});
