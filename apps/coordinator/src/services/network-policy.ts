import type { NetworkBuildsPolicy } from '@aoinb/config';
import { AoinbError } from '@aoinb/errors';
import type { Principal } from '../context.ts';

/**
 * Who may ask for a build with a network (`[coordinator] network_builds`).
 * The bundle never decides: the submitter's token asks, the operator's config
 * allows it, and only workers with `allow_network_builds` run it. Checked
 * when a task or group is built and again when it is retried, so a policy
 * tightened meanwhile holds for every new run.
 */
export function assertNetworkAllowed(policy: NetworkBuildsPolicy, by: Principal, what: string): void {
  if (policy === 'any-submitter') return;
  if (policy === 'admin' && (by.role === 'admin' || by.networkBuilds === true)) return;
  const rule =
    policy === 'never'
      ? 'this coordinator runs no builds with a network ([coordinator] network_builds = "never")'
      : `[coordinator] network_builds = "admin" lets only admin tokens and tokens marked network_builds = true ask`;
  throw new AoinbError(
    'NETWORK_NOT_ALLOWED',
    `token ${by.name} (${by.role}) may not ask for a build network for ${what}: ${rule}; ` +
      `fetch what the build needs as sources in spec instead`,
  );
}
