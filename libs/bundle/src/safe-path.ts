import path from 'node:path';
import { AoinbError } from '@aoinb/errors';

/**
 * The one rule for every name and path that comes from a bundle or a build
 * (source `rename=`, file names taken from URLs, `SUBDIR`, split-package
 * folders, `PKGNAME`, artifact names): before the host makes any filesystem
 * call with it, it is either a single checked path component or a relative
 * path whose every component is one, so it can only name something inside the
 * folder it is joined to. Errors name the key and the value.
 */

/** Linux's NAME_MAX, in bytes. */
const MAX_COMPONENT_BYTES = 255;

function unsafe(key: string, value: string, why: string): AoinbError {
  return new AoinbError('BUNDLE_UNSAFE', `${key} ${JSON.stringify(value)}: ${why}`);
}

function componentProblem(value: string): string | undefined {
  if (value === '') return 'is empty';
  if (value === '.' || value === '..') return 'is not a name (`.` and `..` are refused)';
  if (value.includes('/')) return 'must be a single name, without `/`';
  // Control characters (tab, newline, NUL...) would break the manifest and log lines, and NUL every syscall.
  if (/[\0-\x1f\x7f]/.test(value)) return 'contains control characters';
  if (Buffer.byteLength(value) > MAX_COMPONENT_BYTES) return `is longer than ${MAX_COMPONENT_BYTES} bytes`;
  return undefined;
}

/** A single path component (`hello-1.0.tar.gz`), or a BUNDLE_UNSAFE error naming `key` and the value. */
export function checkPathComponent(value: string, key: string): string {
  const problem = componentProblem(value);
  if (problem) throw unsafe(key, value, problem);
  return value;
}

/**
 * A relative path that stays inside its folder: no leading `/`, no `..`
 * component, every other component a checked name. `.` components and
 * repeated or trailing slashes are dropped; `.` alone (or `''`) is the folder
 * itself and normalises to `''`.
 */
export function checkRelativePath(value: string, key: string): string {
  if (value.startsWith('/')) throw unsafe(key, value, 'must be a relative path, not an absolute one');
  const parts = value.split('/').filter((p) => p !== '' && p !== '.');
  for (const part of parts) {
    if (part === '..') throw unsafe(key, value, 'must stay inside its folder (`..` is refused)');
    const problem = componentProblem(part);
    if (problem) throw unsafe(key, value, `component ${JSON.stringify(part)} ${problem}`);
  }
  return parts.join('/');
}

/** `dir` joined with a checked relative path: always `dir` itself or below it. */
export function joinInside(dir: string, rel: string, key: string): string {
  const joined = path.join(dir, checkRelativePath(rel, key));
  const base = path.resolve(dir);
  const resolved = path.resolve(joined);
  // Unreachable after the checks above; kept so a future edit cannot silently break the promise.
  if (resolved !== base && !resolved.startsWith(base + path.sep)) throw unsafe(key, rel, 'leaves its folder');
  return joined;
}

/** Whether `child` (an absolute path) is `parent` or below it, lexically. */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(path.resolve(parent), path.resolve(child));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
