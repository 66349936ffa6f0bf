import { isAoinbError } from '@aoinb/errors';
import { refuseBuildTimeNames } from './shell-assignments.ts';
import type { Spec } from './spec.ts';

/** What a package's `defines` sees when it is sourced: the seeded variables and the refused names. */
export interface DefinesContext {
  seed: Record<string, string>;
  refuse: (name: string) => string | undefined;
}

/**
 * acbs passes PKGVER, PKGREL and PKGEPOCH (from VER, REL, EPOCH) and every
 * spec variable named `__*` to autobuild4 (acbs/parser.py collects them as
 * "exported"), so defines may read those. Any other spec variable does not
 * reach defines: reading one there is a tree bug (at build time it is ""), so
 * it is refused with a message saying so, as are build-time names.
 */
export function definesContext(spec: Spec): DefinesContext {
  const seed: Record<string, string> = { PKGVER: spec.version, PKGREL: spec.release, PKGEPOCH: spec.epoch ?? '0' };
  const unknown = new Map<string, string>();
  const specOnly = new Set<string>();
  for (const name of spec.vars.names()) {
    if (!name.startsWith('__')) {
      specOnly.add(name);
      continue;
    }
    try {
      seed[name] = spec.vars.get(name) as string;
    } catch (err) {
      if (!isAoinbError(err)) throw err;
      unknown.set(name, `comes from spec, where it cannot be evaluated statically (${err.message})`);
    }
  }
  const refuse = (name: string): string | undefined => {
    if (unknown.has(name)) return `${name} ${unknown.get(name)}`;
    if (specOnly.has(name))
      return (
        `${name} is set in ${spec.file}, but only spec variables named __* reach defines (acbs passes those); ` +
        `at build time it is empty`
      );
    return refuseBuildTimeNames(name);
  };
  return { seed, refuse };
}
