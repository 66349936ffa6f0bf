import { collectDefaultMetrics, Registry } from 'prom-client';

export interface MetricsRegistryOptions {
  /** Labels added to every series of this registry (rarely needed: Prometheus adds `instance` and `job`). */
  defaultLabels?: Record<string, string>;
  /** Node.js process metrics (`process_*`, `nodejs_*`); default true. */
  processMetrics?: boolean;
}

const lintFailingDefaults = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * A Prometheus registry of one process part (a coordinator, a worker agent).
 * Never the prom-client global one: each instance owns its registry and passes
 * it to what registers metrics, so two instances in one process (tests) never
 * share series.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    // prom-client's sums of the per-type gauges are gauges named `_total`, which
    // `promtool check metrics` rejects; the per-type series stay.
    for (const name of lintFailingDefaults) registry.removeSingleMetric(name);
  }
  return registry;
}

/** What a `/metrics` answer carries in its Content-Type header. */
export function metricsContentType(registry: Registry): string {
  return registry.contentType;
}
