import type { BuildResult, ResourceSample } from '@aoinb/buildroot';

/**
 * What the job runner tells about the builds it runs, for metrics. Every
 * call is keyed by the BullMQ job id, which never becomes a label value.
 */
export interface BuildObserver {
  /** A build was claimed and starts on this host. */
  started(jobId: string, arch: string): void;
  /** The package's own build step printed its first line, `ms` after the claim (the farm's start-up of the build). */
  buildStepStarted?(jobId: string, arch: string, ms: number): void;
  /** A live resource sample of the build's container (`BuildRequest.onSample`). */
  sample(jobId: string, sample: ResourceSample): void;
  /** The executor returned: phases, result, sources and their cache use. */
  executed(jobId: string, result: BuildResult): void;
  /** The `.deb`s were uploaded to the coordinator in `ms`. */
  uploaded(jobId: string, ms: number): void;
  /** The job left this host (reported, handed back or failed). */
  finished(jobId: string): void;
}
