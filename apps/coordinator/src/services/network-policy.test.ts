import { describe, expect, it } from 'vitest';
import { errorCatalogue } from '@aoinb/errors';
import { assertNetworkAllowed } from './network-policy.ts';

const maintainer = { name: 'alice', role: 'maintainer' as const };
const marked = { name: 'bob', role: 'maintainer' as const, networkBuilds: true };
const admin = { name: 'root', role: 'admin' as const };

describe('who may ask for a build network', () => {
  it('"never" (the default): nobody; "admin": admin and marked tokens; "any-submitter": every submitter', () => {
    for (const by of [maintainer, marked, admin])
      expect(() => assertNetworkAllowed('never', by, 'task 7')).toThrow(
        expect.objectContaining({
          code: 'NETWORK_NOT_ALLOWED',
          message: expect.stringContaining(
            `token ${by.name} (${by.role}) may not ask for a build network for task 7: ` +
              'this coordinator runs no builds with a network ([coordinator] network_builds = "never")',
          ),
        }),
      );
    expect(() => assertNetworkAllowed('admin', maintainer, 'group 3')).toThrow(
      /token alice \(maintainer\) may not ask for a build network for group 3: \[coordinator\] network_builds = "admin" lets only admin tokens and tokens marked network_builds = true ask/,
    );
    expect(() => assertNetworkAllowed('admin', marked, 'task 7')).not.toThrow();
    expect(() => assertNetworkAllowed('admin', admin, 'task 7')).not.toThrow();
    for (const by of [maintainer, marked, admin])
      expect(() => assertNetworkAllowed('any-submitter', by, 'x')).not.toThrow();
    expect(errorCatalogue.NETWORK_NOT_ALLOWED.status).toBe(403);
  });
});
