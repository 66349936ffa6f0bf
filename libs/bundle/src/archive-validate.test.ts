import { describe, expect, it } from 'vitest';
import { DEFAULT_ARCHIVE_LIMITS, linkLanding, normalizeEntryName, validateEntries } from './archive-validate.ts';
import type { EntryType, TarEntry } from './tar-headers.ts';
import { errorOf } from '../test-support/test-helpers.ts';

// The rules of archive-validate.ts on member lists as the tar reader reports them (no archive
// is written): each case is one rule at its edge, with the exact error it must name.

function entry(name: string, type: EntryType = 'file', more: Partial<TarEntry> = {}): TarEntry {
  return { name, type, size: 0, linkname: '', mode: 0o644, mtime: 0, dataOffset: 0, ...more };
}
const file = (name: string, size = 0): TarEntry => entry(name, 'file', { size });
const dir = (name: string): TarEntry => entry(name, 'dir');
const symlink = (name: string, to: string): TarEntry => entry(name, 'symlink', { linkname: to });
const hardlink = (name: string, to: string): TarEntry => entry(name, 'hardlink', { linkname: to });

const LIMITS = { maxBytes: 100, maxEntries: 5, maxArchiveBytes: 1000 };
const validate = (...entries: TarEntry[]) => validateEntries(entries, LIMITS);
const refusal = (...entries: TarEntry[]) => errorOf(() => validate(...entries));
const unsafe = (message: string) => ({ code: 'BUNDLE_UNSAFE', message });

describe('normalizeEntryName', () => {
  it('drops `.` components and empty segments, keeps the rest in order', () => {
    expect(normalizeEntryName('./a//b/./c/')).toBe('a/b/c');
    expect(normalizeEntryName('autobuild/defines')).toBe('autobuild/defines');
    expect(normalizeEntryName('./')).toBe('');
    expect(normalizeEntryName('..x/y..')).toBe('..x/y..');
  });

  it('refuses absolute names, `..` anywhere, and every control character', () => {
    expect(errorOf(() => normalizeEntryName('/etc/passwd'))).toEqual(
      unsafe('"/etc/passwd": absolute paths are not allowed'),
    );
    expect(errorOf(() => normalizeEntryName('a/../../b'))).toEqual(
      unsafe('"a/../../b": `..` path components are not allowed'),
    );
    for (const c of ['\0', '\n', '\x1f', '\x7f']) {
      expect(errorOf(() => normalizeEntryName(`a${c}b`))).toEqual(
        unsafe(`${JSON.stringify(`a${c}b`)}: control characters in names are not allowed`),
      );
    }
    expect(normalizeEntryName('a b~é')).toBe('a b~é');
  });
});

describe('linkLanding (where a link lands, by its name alone)', () => {
  it('resolves relative to the link’s folder, `.` landing on the root as ""', () => {
    expect(linkLanding('a/b', '../c', '')).toBe('c');
    expect(linkLanding('a', '.', '')).toBe('');
    expect(linkLanding('a/b', '..', '')).toBe('');
    expect(linkLanding('a/b/l', '..', '')).toBe('a');
    expect(linkLanding('l', '..x', '')).toBe('..x');
  });

  it('is null above the root or for an absolute target', () => {
    expect(linkLanding('a', '..', '')).toBeNull();
    expect(linkLanding('a/b', '../../x', '')).toBeNull();
    expect(linkLanding('a', '/etc', '')).toBeNull();
  });

  it('inside a bundle folder, only the folder itself and below count', () => {
    expect(linkLanding('pkg/a/b', '..', 'pkg')).toBe('pkg');
    expect(linkLanding('pkg/a', 'b', 'pkg')).toBe('pkg/b');
    expect(linkLanding('pkg/a', '..', 'pkg')).toBeNull();
    expect(linkLanding('pkg/a', '../pkgx/b', 'pkg')).toBeNull();
  });
});

describe('validateEntries accepts', () => {
  it('a bundle at the root: its size counts files only, folders and links named by their parents', () => {
    const entries = [
      dir('./'),
      file('./spec', 6),
      dir('autobuild/'),
      file('autobuild/defines', 30),
      entry('autobuild/l', 'symlink', { linkname: 'defines', size: 40 }),
      entry('autobuild/h', 'hardlink', { linkname: './autobuild/defines', size: 30 }),
    ];
    expect(validateEntries(entries, { ...LIMITS, maxEntries: 6, maxBytes: 36 })).toEqual({
      bundleRoot: '',
      entries: 6,
      bytes: 36,
    });
  });

  it('exactly the entry and byte limits', () => {
    const atLimits = [file('spec', 40), file('a', 30), file('b', 30), dir('c/'), dir('c/')];
    expect(validate(...atLimits)).toEqual({ bundleRoot: '', entries: 5, bytes: 100 });
  });

  it('one top folder, even beside an explicit `./` entry, and its links within', () => {
    const entries = [dir('./'), dir('pkg/'), file('pkg/spec'), symlink('pkg/a/l', '..'), symlink('pkg/s', 'a/l')];
    expect(validate(...entries).bundleRoot).toBe('pkg');
    expect(validate(file('pkg/spec'), symlink('pkg/l', '.')).bundleRoot).toBe('pkg');
  });

  it('a folder given again, before or after the members that imply it', () => {
    expect(validate(dir('a/'), file('a/x'), dir('a'), file('spec')).entries).toBe(4);
    expect(validate(file('a/b/x'), dir('a/b/'), file('spec')).entries).toBe(3);
  });

  it('a symlink to the root itself, and one that climbs and comes back', () => {
    expect(validate(file('spec'), symlink('l', '.')).bundleRoot).toBe('');
    expect(validate(file('spec'), file('a/x'), symlink('a/l', '../a/x')).bundleRoot).toBe('');
  });

  it('the default limits: 256 MiB of contents and 20,000 members', () => {
    const mib256 = 256 * 1024 * 1024;
    expect(DEFAULT_ARCHIVE_LIMITS).toEqual({ maxBytes: mib256, maxEntries: 20_000, maxArchiveBytes: mib256 });
    expect(validateEntries([file('spec', mib256)], DEFAULT_ARCHIVE_LIMITS).bytes).toBe(mib256);
    const many = [file('spec'), ...Array.from({ length: 19_999 }, (_, i) => file(`f${i}`))];
    expect(validateEntries(many, DEFAULT_ARCHIVE_LIMITS).entries).toBe(20_000);
  });
});

describe('validateEntries refuses', () => {
  it('one entry or one byte over the limit, naming the limit and the entry', () => {
    expect(refusal(file('spec'), file('a'), file('b'), file('c'), file('d'), file('e'))).toEqual({
      code: 'BUNDLE_TOO_LARGE',
      message: 'archive holds 6 entries (limit 5)',
    });
    expect(refusal(file('spec', 60), file('autobuild/big', 41))).toEqual({
      code: 'BUNDLE_TOO_LARGE',
      message: '"autobuild/big": archive contents exceed 100 bytes',
    });
  });

  it('devices and fifos, each by its type', () => {
    for (const type of ['chardev', 'blockdev', 'fifo'] as const) {
      expect(refusal(file('spec'), entry('x', type))).toEqual(unsafe(`"x": ${type} entries are not allowed`));
    }
  });

  it('a member with an empty name that is not a folder', () => {
    expect(refusal(file('spec'), file('./'))).toEqual(unsafe('"./": empty member name'));
    expect(refusal(file('spec'), symlink('.', 'spec'))).toEqual(unsafe('".": empty member name'));
  });

  it('a member below a file, a hard link or a symlink, naming that parent at any depth', () => {
    expect(refusal(file('spec'), file('a'), file('a/b'))).toEqual(
      unsafe('"a/b": is inside a, which is a file, not a folder'),
    );
    expect(refusal(file('spec'), hardlink('h', 'spec'), dir('h/d/'))).toEqual(
      unsafe('"h/d/": is inside h, which is a hardlink, not a folder'),
    );
    expect(refusal(file('spec'), dir('x/'), symlink('x/y', '.'), file('x/y/z/w'))).toEqual(
      unsafe('"x/y/z/w": is inside x/y, which is a symlink, not a folder'),
    );
  });

  it('a name given twice, unless both are folders', () => {
    expect(refusal(file('spec'), file('spec'))).toEqual(unsafe('"spec": appears more than once in the archive'));
    expect(refusal(file('spec'), dir('a/'), file('a'))).toEqual(unsafe('"a": appears more than once in the archive'));
    expect(refusal(file('spec'), file('a'), dir('a/'))).toEqual(unsafe('"a/": appears more than once in the archive'));
    expect(refusal(file('spec'), file('a/b/x'), file('a/b'))).toEqual(
      unsafe('"a/b": appears more than once in the archive'),
    );
    expect(refusal(file('spec'), file('ab'), file('a/b/x'), file('a/b'))).toEqual(
      unsafe('"a/b": appears more than once in the archive'),
    );
  });

  it('a hard link outside, or to anything but an earlier file', () => {
    const outside = (to: string) => unsafe(`"h": hard link to ${JSON.stringify(to)} points outside the bundle`);
    const notFile = (to: string) =>
      unsafe(`"h": hard link to ${JSON.stringify(to)}, which is not an earlier file of the archive`);
    expect(refusal(file('spec'), hardlink('h', '/spec'))).toEqual(outside('/spec'));
    expect(refusal(file('spec'), hardlink('h', '../spec'))).toEqual(outside('../spec'));
    expect(refusal(file('spec'), dir('d/'), hardlink('h', 'd'))).toEqual(notFile('d'));
    expect(refusal(file('spec'), symlink('l', 'spec'), hardlink('h', 'l'))).toEqual(notFile('l'));
    expect(refusal(file('spec'), hardlink('h', 'later'), file('later'))).toEqual(notFile('later'));
  });

  it('a symlink out of the archive, or out of the bundle folder', () => {
    expect(refusal(file('spec'), symlink('a/l', '../../x'))).toEqual(
      unsafe('"a/l": symlink to "../../x" points outside the bundle'),
    );
    expect(refusal(file('spec'), symlink('l', '/spec'))).toEqual(
      unsafe('"l": symlink to "/spec" points outside the bundle'),
    );
    expect(refusal(dir('pkg/'), file('pkg/spec'), symlink('pkg/l', '..'))).toEqual(
      unsafe('"pkg/l": symlink to ".." points outside the bundle folder pkg/'),
    );
  });

  it('a symlink whose target leaves through another symlink of the archive, as the kernel walks it', () => {
    // `x/y/s -> ../..` is the root, so `x/y/s/../../..` is one folder above it, though it reads as the root.
    const through = symlink('l', 'x/y/s/../../../etc/passwd');
    expect(refusal(file('spec'), symlink('x/y/s', '../..'), through)).toEqual(
      unsafe('"l": symlink to "x/y/s/../../../etc/passwd" points outside the bundle'),
    );
    expect(refusal(file('spec'), through, symlink('x/y/s', '../..'))).toEqual(
      refusal(file('spec'), symlink('x/y/s', '../..'), through),
    );
    // Climbing out of the bundle folder and back in by its name: once extracted the folder has another name.
    expect(refusal(file('pkg/spec'), symlink('pkg/l', '../pkg/spec'))).toEqual(
      unsafe('"pkg/l": symlink to "../pkg/spec" points outside the bundle folder pkg/'),
    );
    expect(refusal(file('spec'), symlink('a', 'b'), symlink('b', 'a'))).toEqual(
      unsafe('"a": symlink to "b" points outside the bundle'),
    );
    expect(refusal(file('spec'), symlink('l', 'nothing/../spec'))).toEqual(
      unsafe('"l": symlink to "nothing/../spec" points outside the bundle'),
    );
  });

  it('(but not) a symlink through the archive’s own links that stays inside', () => {
    const entries = [file('spec'), dir('lib64/'), symlink('lib', 'lib64'), symlink('l', 'lib/../spec')];
    expect(validate(...entries).bundleRoot).toBe('');
    expect(validate(file('spec'), symlink('a', '.'), symlink('b', 'a/a/a/spec')).bundleRoot).toBe('');
    expect(validate(file('spec'), dir('d/e/'), symlink('l', './d//e/../../spec')).bundleRoot).toBe('');
  });

  it('a chain of 40 links through the archive, but not of 41 (the kernel’s limit: a loop)', () => {
    const chain = (n: number) => [
      file('spec'),
      ...Array.from({ length: n }, (_, i) => symlink(`l${i}`, `l${i + 1}`)),
      symlink(`l${n}`, 'spec'),
    ];
    const limits = { ...LIMITS, maxEntries: 50 };
    expect(validateEntries(chain(40), limits).entries).toBe(42);
    expect(errorOf(() => validateEntries(chain(41), limits))).toEqual(
      unsafe('"l0": symlink to "l1" points outside the bundle'),
    );
  });

  it('an archive without spec, naming what it found instead', () => {
    const invalid = (message: string) => ({ code: 'BUNDLE_INVALID', message });
    expect(refusal()).toEqual(
      invalid('no spec file at the archive root, and the archive has 0 top-level entries instead of one folder'),
    );
    expect(refusal(symlink('spec', 'x'))).toEqual(invalid('no spec file at the archive root or in spec/'));
    expect(refusal(dir('pkg/spec/'), file('pkg/spec/x'))).toEqual(
      invalid('no spec file at the archive root or in pkg/'),
    );
    expect(refusal(file('pkg/spec'), file('README'))).toEqual(
      invalid('no spec file at the archive root, and the archive has 2 top-level entries instead of one folder'),
    );
  });
});
