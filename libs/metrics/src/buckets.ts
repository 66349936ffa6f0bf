/**
 * Histogram buckets shared by the coordinator and the worker, in seconds.
 * Builds of AOSC packages range from seconds (noarch data) to many hours
 * (LLVM, Chromium), so the long ranges are roughly logarithmic.
 */

/** Whole builds and pipeline phases: 1 s .. 16 h. */
export const durationBuckets: readonly number[] = [
  1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14_400, 28_800, 57_600,
];

/** Time a build waits in its queue before a worker claims it: 0.1 s .. 24 h. */
export const queueWaitBuckets: readonly number[] = [
  0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 7200, 21_600, 86_400,
];

/** HTTP requests: 5 ms .. 60 s (uploads and SSE follows land in the top buckets). */
export const httpDurationBuckets: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
