import type { BuildJobData } from '@aoinb/farm-protocol';

/**
 * How long a job this worker may not run waits before it is offered again.
 * Long enough that hosts which cannot take it do not spin on it; short next
 * to a build, so a host that can take it is not kept waiting.
 */
export const handBackDelayMs = 2000;

/** A job asks for a build network when it, or any step of its sequence, does. */
export function jobNeedsNetwork(data: BuildJobData): boolean {
  return data.network === true || (data.sequence ?? []).some((step) => step.network === true);
}

/**
 * Why this worker hands the job back unstarted, or undefined when it may run it.
 * A job that asks for a network runs only where `[worker] allow_network_builds`
 * says so: the operator chose which hosts may give a build the internet.
 */
export function whyNotHere(data: BuildJobData, allowNetworkBuilds: boolean): string | undefined {
  if (jobNeedsNetwork(data) && !allowNetworkBuilds)
    return 'the job asks for a build network and this worker does not allow network builds ([worker] allow_network_builds)';
  return undefined;
}
