import type { AoinbConfig } from '@aoinb/config';
import type { ControlPlaneEndpoint, SourcePolicy } from '../sources/destination-policy.ts';

/** host and port of an http(s) or redis(s) URL (default ports filled in); undefined when it does not parse. */
function endpointOf(name: string, raw: string | undefined, defaultPort: number): ControlPlaneEndpoint | undefined {
  if (!raw) return undefined;
  try {
    const url = new URL(raw);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : defaultPort;
    return { name, host: url.hostname.replace(/^\[|\]$/g, ''), port };
  } catch {
    return undefined;
  }
}

/**
 * The farm's own services as this host's config names them: the coordinator
 * (its public URL, the worker's `coordinator_url` and its listen address),
 * Redis (its URL, or a cluster's seed nodes), and the worker's metrics. A build allowed a network, and the host
 * fetching sources for a bundle, never connect to them, even where `[build]
 * source_allow` lets the rest of a host through (a local mirror beside Redis):
 * a public coordinator address is refused too, which the range rules alone
 * would let through.
 */
export function controlPlaneOf(config: AoinbConfig): ControlPlaneEndpoint[] {
  const { coordinator, redis, worker } = config.farm;
  const found = [
    endpointOf('the coordinator', coordinator.publicUrl, 80),
    endpointOf('the coordinator', worker.coordinatorUrl, 80),
    { name: 'the coordinator', host: coordinator.listen.host, port: coordinator.listen.port },
    // Without a URL `farm up` runs Redis itself and hands its URL over (AOINB_REDIS_URL, read into the config).
    endpointOf('Redis', redis.url ?? 'redis://127.0.0.1:6379', 6379),
    // A cluster's seed nodes (the nodes it learns beyond them are not in the config: see docs/security.md).
    ...(redis.cluster ?? []).map((node) => endpointOf('Redis', node, 6379)),
    worker.metricsListen && { name: "the worker's metrics", ...worker.metricsListen },
  ];
  const unique = new Map<string, ControlPlaneEndpoint>();
  for (const e of found) if (e) unique.set(`${e.host.toLowerCase()}:${e.port}`, e);
  return [...unique.values()];
}

/** `[build]`'s source settings with the farm's control plane refused: what every fetch and build network checks. */
export function destinationPolicyOf(config: AoinbConfig): SourcePolicy {
  return { ...config.build.sources, controlPlane: controlPlaneOf(config) };
}
