import { Counter, Histogram, type Registry } from 'prom-client';
import { farmKeys, finalBuildStates, type FarmKeys, type RedisClient } from '@aoinb/farm-protocol';
import { failureClasses } from '@aoinb/errors';
import { durationBuckets, queueWaitBuckets, sharedRefresh, type CollectGuard } from '@aoinb/metrics';
import { BuildEventReader, type BuildTransition } from './build-event-reader.ts';

/** Live builds whose queue or start time we track; beyond it the oldest are forgotten. */
const maxTracked = 100_000;

interface BuildEventSeries {
  finished: Counter;
  failures: Counter;
  started: Counter;
  requeued: Counter;
  duration: Histogram;
  queueWait: Histogram;
}

/**
 * Turns build transitions into counters and histograms. Queue wait is the time
 * from a build's (re)queueing to its claim; duration from its claim to its end.
 * Both times come from the events themselves; for a build queued or started
 * before this coordinator began reading, from its build record.
 */
export class BuildEventMetrics {
  private readonly queuedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly series: BuildEventSeries,
    private readonly keys: FarmKeys = farmKeys,
  ) {}

  private remember(map: Map<string, number>, key: string, atMs: number): void {
    if (map.size >= maxTracked) map.delete(map.keys().next().value as string);
    map.set(key, atMs);
  }

  /** Epoch ms from the record, for builds that predate the reader; undefined when not known. */
  private async fromRecord(e: BuildTransition, field: 'queuedAt' | 'startedAtMs'): Promise<number | undefined> {
    const value = await this.redis.hget(this.keys.build(e.taskId, e.arch), field);
    const ms = field === 'queuedAt' ? Date.parse(value ?? '') : Number(value);
    return Number.isFinite(ms) && ms > 0 && ms <= e.atMs ? ms : undefined;
  }

  async apply(e: BuildTransition): Promise<void> {
    const key = `${e.taskId}/${e.arch}`;
    const { arch } = e;
    if (e.state === 'queued') {
      if (e.from === 'running') this.series.requeued.inc({ arch });
      this.startedAt.delete(key);
      this.remember(this.queuedAt, key, e.atMs);
    } else if (e.state === 'running') {
      this.series.started.inc({ arch });
      const queued = this.queuedAt.get(key) ?? (await this.fromRecord(e, 'queuedAt'));
      if (queued !== undefined) this.series.queueWait.observe({ arch }, (e.atMs - queued) / 1000);
      this.queuedAt.delete(key);
      this.remember(this.startedAt, key, e.atMs);
    } else if ((finalBuildStates as readonly string[]).includes(e.state)) {
      this.series.finished.inc({ arch, result: e.state });
      if (e.state !== 'succeeded') {
        const failureClass = await this.redis.hget(this.keys.build(e.taskId, e.arch), 'failureClass');
        this.series.failures.inc({ arch, class: failureClass ?? (e.state === 'cancelled' ? 'cancelled' : 'build') });
      }
      if (e.from === 'running') {
        const started = this.startedAt.get(key) ?? (await this.fromRecord(e, 'startedAtMs'));
        if (started !== undefined) this.series.duration.observe({ arch, result: e.state }, (e.atMs - started) / 1000);
      }
      this.queuedAt.delete(key);
      this.startedAt.delete(key);
    }
  }
}

/** Registers the event-driven build series; the event stream is read at scrape time. */
export function registerBuildEventMetrics(
  registry: Registry,
  redis: RedisClient,
  archs: string[],
  guard: CollectGuard,
  keys: FarmKeys = farmKeys,
): { start(): Promise<void> } {
  const reader = new BuildEventReader(redis, 1000, keys);
  // Every series of the group waits for the same read of the stream (`metrics` is set below, before any scrape).
  const collect = sharedRefresh(() =>
    guard.run('build_events', async () => {
      for await (const event of reader.read()) await metrics.apply(event);
    }),
  );
  const series = defineBuildEventSeries({ registers: [registry], collect });
  zeroBuildEventSeries(series, archs);
  const metrics = new BuildEventMetrics(redis, series, keys);
  return { start: () => reader.start() };
}

/** What every series of the group shares: the registry, and the one read of the event stream at scrape time. */
interface SeriesOptions {
  registers: Registry[];
  collect: () => Promise<void>;
}

function defineBuildEventSeries(common: SeriesOptions): BuildEventSeries {
  return {
    finished: new Counter({
      name: 'aoinb_builds_finished_total',
      help: 'Builds that reached a final state, per arch and result (succeeded, failed, cancelled)',
      labelNames: ['arch', 'result'],
      ...common,
    }),
    failures: new Counter({
      name: 'aoinb_build_failures_total',
      help:
        'Builds that ended failed or cancelled, per arch and failure class (build, disk-full, out-of-memory, ' +
        'timeout, cancelled, lost-host, infrastructure)',
      labelNames: ['arch', 'class'],
      ...common,
    }),
    started: new Counter({
      name: 'aoinb_builds_started_total',
      help: "Build attempts claimed by a worker, per arch (a lost worker's build starts again)",
      labelNames: ['arch'],
      ...common,
    }),
    requeued: new Counter({
      name: 'aoinb_builds_requeued_total',
      help: 'Running builds put back in the queue (worker lost, or shut down with on_shutdown = "requeue"), per arch',
      labelNames: ['arch'],
      ...common,
    }),
    duration: new Histogram({
      name: 'aoinb_build_duration_seconds',
      help: 'Time from a worker claiming a build to its final state, per arch and result',
      labelNames: ['arch', 'result'],
      buckets: [...durationBuckets],
      ...common,
    }),
    queueWait: new Histogram({
      name: 'aoinb_build_queue_wait_seconds',
      help: 'Time a build waited in its arch queue before a worker claimed it',
      labelNames: ['arch'],
      buckets: [...queueWaitBuckets],
      ...common,
    }),
  };
}

/** Zero series for every arch and result, so rate() and ratios work before the first build. */
function zeroBuildEventSeries(series: BuildEventSeries, archs: string[]): void {
  for (const arch of archs) {
    for (const result of finalBuildStates) series.finished.inc({ arch, result }, 0);
    for (const failureClass of failureClasses) series.failures.inc({ arch, class: failureClass }, 0);
    series.started.inc({ arch }, 0);
    series.requeued.inc({ arch }, 0);
  }
}
