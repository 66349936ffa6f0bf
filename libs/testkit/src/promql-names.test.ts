import { describe, expect, it } from 'vitest';
import { grafanaQueryMetricNames, promqlMetricNames } from './promql-names.ts';

describe('promqlMetricNames', () => {
  it('finds the selected metrics, not functions, labels, keywords, durations or numbers', () => {
    expect(
      promqlMetricNames(`(sum by (arch) (aoinb_queue_jobs{state=~"waiting|prioritized", arch=~"$arch"}) > 0)
        and on (arch) (delta((sum by (arch) (aoinb_queue_jobs))[15m:1m]) > 1e3)
        and on (arch) sum without (instance) (aoinb_builders{state="building"}) == 0 offset 5m`),
    ).toEqual(['aoinb_builders', 'aoinb_queue_jobs']);
    expect(
      promqlMetricNames(
        'histogram_quantile(0.9, sum by (le, phase) ' +
          '(rate(aoinb_worker_phase_duration_seconds_bucket[$__rate_interval])))',
      ),
    ).toEqual(['aoinb_worker_phase_duration_seconds_bucket']);
    expect(promqlMetricNames('time() - aoinb_builder_last_heartbeat_timestamp_seconds')).toEqual([
      'aoinb_builder_last_heartbeat_timestamp_seconds',
    ]);
    expect(promqlMetricNames('count(aoinb_builder_up == 0) or vector(0)')).toEqual(['aoinb_builder_up']);
    expect(promqlMetricNames('up{job="aoinb-worker"} == 0 unless on (instance) foo:bar_ratio')).toEqual([
      'foo:bar_ratio',
      'up',
    ]);
  });

  it('reads Grafana variable queries', () => {
    expect(grafanaQueryMetricNames('label_values(aoinb_queue_jobs, arch)')).toEqual(['aoinb_queue_jobs']);
    expect(grafanaQueryMetricNames('label_values(aoinb_builders{state="idle"}, arch)')).toEqual(['aoinb_builders']);
    expect(grafanaQueryMetricNames('label_values(arch)')).toEqual([]);
    expect(grafanaQueryMetricNames('query_result(topk(3, aoinb_builder_slots))')).toEqual(['aoinb_builder_slots']);
  });
});
