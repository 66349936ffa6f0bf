export { createMetricsRegistry, metricsContentType, type MetricsRegistryOptions } from './registry.ts';
export { durationBuckets, queueWaitBuckets, httpDurationBuckets } from './buckets.ts';
export { withDeadline, DeadlineExceeded } from './deadline.ts';
export { createCollectGuard, sharedRefresh, type CollectGuard, type CollectGuardOptions } from './collect-guard.ts';
