import { archGroupsOf } from './arch-groups.ts';
import { AoinbError } from '@aoinb/errors';
import { compilePattern, matchPattern, PatternError, type CompiledPattern } from './extglob.ts';

/**
 * FAIL_ARCH / ALLOW_ARCH semantics.
 *
 * Both are bash extglob patterns over architecture names and AOSC arch groups
 * (arch-groups.ts). An arch is described by its own name plus the groups it
 * belongs to; following acbs (acbs/utils.py, fail_arch_regex and buildable),
 * a pattern "matches" an arch when it matches any of those names, except that
 * a pattern that is exactly one `!(a|b)` means "none of the arch's names is a
 * or b" (so `!(mainline|retro)` spares amd64 because amd64 is in mainline).
 * A pattern with `|` or `(` but no extglob operator (`(a|b)`, `a|b`) is read
 * as acbs reads it (fail_arch_regex): a regular expression anchored at the
 * start of the name, so `(a|b)` matches names that begin with a or b.
 * A package that sets neither may be built everywhere (autobuild4 has no
 * default FAIL_ARCH). Setting both is rejected when `defines` is parsed
 * (proc/01-core-defines.sh).
 */

/** The parts of a parsed `defines` the filter needs. */
export interface ArchFilterInput {
  file: string;
  name: string;
  noarch: boolean;
  failArch?: string;
  allowArch?: string;
}

export interface DeniedArch {
  arch: string;
  reason: string;
}

export type ArchDecision =
  /** Architecture independent: build once, on whichever arch the farm uses for noarch. */
  { kind: 'noarch' } | { kind: 'archs'; allowed: string[]; denied: DeniedArch[] };

export interface ArchFilterOptions {
  /** A FAIL_ARCH to assume when a package sets neither FAIL_ARCH nor ALLOW_ARCH (default: none). */
  defaultFailArch?: string | null;
}

/** `(a|b)` and `a|b` without an extglob operator: acbs's reading, a prefix regex. */
function acbsAlternation(pattern: string): RegExp | undefined {
  if (/[?*+@!]\(/.test(pattern) || !/[|(]/.test(pattern) || !/^[A-Za-z0-9_|()]+$/.test(pattern)) return undefined;
  try {
    return new RegExp(`^(?:${pattern})`);
  } catch {
    return undefined;
  }
}

/** True when the arch (or one of its groups) matches the pattern, with acbs's `!(...)` reading. */
export function archPatternMatches(pattern: string, arch: string): boolean {
  const names = [arch, ...archGroupsOf(arch)];
  const alternation = acbsAlternation(pattern);
  if (alternation) return names.some((n) => alternation.test(n));
  const compiled = compilePattern(pattern);
  const only = compiled.nodes.length === 1 ? compiled.nodes[0] : undefined;
  if (only?.kind === 'ext' && only.op === '!') {
    const positive: CompiledPattern = { source: pattern, nodes: [{ ...only, op: '@' }] };
    return !names.some((n) => matchPattern(positive, n));
  }
  return names.some((n) => matchPattern(compiled, n));
}

function matches(d: ArchFilterInput, key: string, pattern: string, arch: string): boolean {
  try {
    return archPatternMatches(pattern, arch);
  } catch (err) {
    if (err instanceof PatternError) throw new AoinbError('BUNDLE_INVALID', `${d.file}: ${key}: ${err.message}`);
    throw err;
  }
}

/** Why one package may not be built on `arch`, or undefined when it may. */
export function packageDenies(d: ArchFilterInput, arch: string, options: ArchFilterOptions = {}): string | undefined {
  if (d.allowArch) {
    return matches(d, 'ALLOW_ARCH', d.allowArch, arch)
      ? undefined
      : `${d.file}: ALLOW_ARCH="${d.allowArch}" does not include ${arch}`;
  }
  if (d.allowArch !== undefined) return undefined;
  const fail = d.failArch ?? options.defaultFailArch;
  if (!fail || !matches(d, 'FAIL_ARCH', fail, arch)) return undefined;
  return d.failArch === undefined
    ? `${d.file}: sets no FAIL_ARCH/ALLOW_ARCH, and the assumed FAIL_ARCH="${fail}" excludes ${arch}`
    : `${d.file}: FAIL_ARCH="${fail}" excludes ${arch}`;
}

/**
 * Which of the farm's architectures a bundle may be built on. With several
 * packages (split packages), the bundle is noarch only when every package is,
 * and an arch is allowed when at least one non-noarch package allows it (as
 * AOSC's BuildIt! does in get_archs); `denied` explains the others.
 */
export function allowedArchs(
  defines: ArchFilterInput | readonly ArchFilterInput[],
  candidateArchs: readonly string[],
  options: ArchFilterOptions = {},
): ArchDecision {
  const list = Array.isArray(defines) ? (defines as readonly ArchFilterInput[]) : [defines as ArchFilterInput];
  const archful = list.filter((d) => !d.noarch);
  if (list.length > 0 && archful.length === 0) return { kind: 'noarch' };
  const allowed: string[] = [];
  const denied: DeniedArch[] = [];
  for (const arch of candidateArchs) {
    const reasons = archful.map((d) => packageDenies(d, arch, options));
    if (reasons.some((r) => r === undefined)) allowed.push(arch);
    else denied.push({ arch, reason: reasons.join('; ') });
  }
  return { kind: 'archs', allowed, denied };
}
