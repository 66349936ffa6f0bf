import { AoinbError } from '@aoinb/errors';
import type { DebFacts } from './deb-facts.ts';
import { RepoIndex, stanzaOf, type IndexEntry } from './repo-index.ts';

export interface Planned {
  name: string;
  source: string;
  entry: IndexEntry;
  stanza: string;
}

export interface PublishPlan {
  adds: Planned[];
  replacing: Array<{ old: IndexEntry; next: Planned }>;
  /** Already listed with the same contents (a repeated report): nothing to do. */
  unchanged: string[];
}

/**
 * What a publish does to the index: new debs, replacements (only when an
 * admin asked) and repeats. A deb whose file name, or whose package, version
 * and arch, is listed with other contents is REPO_CONFLICT, nothing planned.
 */
export function planPublish(
  repo: string,
  index: RepoIndex,
  debs: Array<{ source: string; name: string; facts: DebFacts }>,
  replace: boolean,
): PublishPlan {
  const plan: PublishPlan = { adds: [], replacing: [], unchanged: [] };
  const conflicts: string[] = [];
  for (const f of debs) {
    if (plan.adds.some((a) => a.name === f.name)) continue;
    const { package: pkg, version, architecture, sha256, size } = f.facts;
    const entry: IndexEntry = { name: f.name, package: pkg, version, architecture, sha256, size };
    const planned = { name: f.name, source: f.source, entry, stanza: stanzaOf(f.name, f.facts) };
    const listed = index.entries.get(f.name) ?? index.byKey.get(RepoIndex.key(entry));
    if (!listed) plan.adds.push(planned);
    else if (listed.sha256 === entry.sha256 && listed.name === entry.name) plan.unchanged.push(f.name);
    else if (replace) plan.replacing.push({ old: listed, next: planned });
    else
      conflicts.push(
        `${pkg} ${version} (${architecture}) is already published as ${listed.name} with sha256 ${listed.sha256}; ` +
          `this build's ${f.name} has sha256 ${sha256}`,
      );
  }
  if (conflicts.length > 0) {
    throw new AoinbError(
      'REPO_CONFLICT',
      `repository ${repo} refused the publish: ${conflicts.join('; ')}. ` +
        'Give the rebuild a new version (bump REL), or have an admin replace it',
    );
  }
  return plan;
}
