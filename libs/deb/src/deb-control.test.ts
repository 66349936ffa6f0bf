import { chmod, mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlField } from './control-fields.ts';
import { InvalidDebError, maxControlBytes, readDebControl } from './deb-control.ts';

/** An ar archive of the members, as deb(5) lays them out (the test's own writer, for members dpkg-deb never writes). */
function arArchive(members: Array<[string, Buffer]>): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n')];
  for (const [name, data] of members) {
    const header = `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}`;
    parts.push(Buffer.from(`${header}${String(data.length).padEnd(10)}\`\n`, 'latin1'), data);
    if (data.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** The members of a real deb (`ar x`), by name, in order. */
async function members(deb: string, dir: string): Promise<Array<[string, Buffer]>> {
  const names = String((await execa('ar', ['t', deb])).stdout).split('\n');
  await mkdir(dir, { recursive: true });
  await execa('ar', ['x', deb], { cwd: dir });
  return Promise.all(names.map(async (n) => [n, await readFile(path.join(dir, n))] as [string, Buffer]));
}

const control = [
  'Package: aoinb-oracle',
  'Version: 2:1.0~rc1-3',
  'Architecture: amd64',
  'Maintainer: Jörg Tester <t@example.org>',
  'X-Custom:   spaced value  ',
  'Depends: libc6 (>= 2.36),foo | bar',
  'Installed-Size: 12',
  'Description: an oracle package',
  ' with a long description',
  ' .',
  '  and an indented line',
  '',
].join('\n');

describe('readDebControl (in-process, against dpkg-deb --field)', () => {
  let dir: string;
  let root: string;
  const debs: Record<string, string> = {};
  const dpkgField = async (deb: string) =>
    String((await execa('dpkg-deb', ['--field', deb], { stripFinalNewline: false })).stdout);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'aoinb-deb-control-'));
    root = path.join(dir, 'root');
    await mkdir(path.join(root, 'DEBIAN'), { recursive: true });
    await mkdir(path.join(root, 'usr/share/doc/aoinb-oracle'), { recursive: true });
    await writeFile(path.join(root, 'usr/share/doc/aoinb-oracle/note'), 'payload\n');
    await writeFile(path.join(root, 'DEBIAN/control'), control);
    await writeFile(path.join(root, 'DEBIAN/postinst'), '#!/bin/sh\nexit 0\n');
    await chmod(path.join(root, 'DEBIAN/postinst'), 0o755);
    for (const z of ['gzip', 'xz', 'zstd', 'none']) {
      debs[z] = path.join(dir, `oracle-${z}.deb`);
      await execa('dpkg-deb', ['--root-owner-group', `-Z${z}`, '--build', root, debs[z]]);
    }
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(['gzip', 'xz', 'zstd', 'none'])('reads a -Z%s deb exactly as dpkg-deb --field prints it', async (z) => {
    const deb = debs[z] as string;
    expect((await readDebControl(deb)).toString('utf8')).toBe(await dpkgField(deb));
    const text = (await readDebControl(deb)).toString('utf8');
    const fields = ['Package', 'Version', 'Architecture', 'x-custom'].map((name) => controlField(text, name));
    expect(fields).toEqual(['aoinb-oracle', '2:1.0~rc1-3', 'amd64', 'spaced value']);
  });

  it('skips the `_` members dpkg-deb ignores between debian-binary and the control member', async () => {
    const [binary, ...rest] = await members(debs.xz as string, path.join(dir, 'x-underscore'));
    const deb = path.join(dir, 'underscore.deb');
    await writeFile(deb, arArchive([binary as [string, Buffer], ['_extra', Buffer.from('odd')], ...rest]));
    expect((await readDebControl(deb)).toString('utf8')).toBe(await dpkgField(deb));
  });

  /** Expects both readers to refuse the file, ours with a message naming the file and `reason`. */
  async function refused(deb: string, reason: RegExp, dpkgRefuses = true): Promise<void> {
    const error = await readDebControl(deb).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    expect(error).toBeInstanceOf(InvalidDebError);
    expect(error?.code).toBe('ARTIFACT_INVALID');
    expect(error?.message).toBe(`${path.basename(deb)} is not a valid .deb: ${(error as InvalidDebError).reason}`);
    expect(error?.message).toMatch(reason);
    expect(error?.message).not.toContain(dir);
    if (dpkgRefuses) expect((await execa('dpkg-deb', ['--field', deb], { reject: false })).exitCode).not.toBe(0);
  }

  it('refuses what is not an ar archive, or no deb, naming the file', async () => {
    await writeFile(path.join(dir, 'text.deb'), 'Package: not-a-deb\n');
    await refused(path.join(dir, 'text.deb'), /no ar archive signature/);
    await writeFile(path.join(dir, 'empty.deb'), '');
    await refused(path.join(dir, 'empty.deb'), /no ar archive signature/);
    await refused(path.join(dir, 'missing.deb'), /cannot be read \(ENOENT\)/, false);
    const [binary, ctl] = await members(debs.gzip as string, path.join(dir, 'x-version'));
    await writeFile(path.join(dir, 'v3.deb'), arArchive([['debian-binary', Buffer.from('3.0\n')], ctl!]));
    await refused(path.join(dir, 'v3.deb'), /format version "3\.0\\n"/);
    await writeFile(path.join(dir, 'nocontrol.deb'), arArchive([binary!]));
    await refused(path.join(dir, 'nocontrol.deb'), /no control member/);
  });

  it('refuses truncated files and member sizes beyond the file or the bound', async () => {
    const whole = await readFile(debs.xz as string);
    await writeFile(path.join(dir, 'cut-header.deb'), whole.subarray(0, 8 + 60 + 4 + 30));
    await refused(path.join(dir, 'cut-header.deb'), /truncated: an ar member header/);
    await writeFile(path.join(dir, 'cut-control.deb'), whole.subarray(0, 8 + 60 + 4 + 60 + 40));
    await refused(path.join(dir, 'cut-control.deb'), /truncated: ar member "control.tar.xz" declares \d+ bytes/);
    const [binary, ctl] = await members(debs.xz as string, path.join(dir, 'x-cut'));
    await writeFile(path.join(dir, 'cut-xz.deb'), arArchive([binary!, ['control.tar.xz', ctl![1].subarray(0, 60)]]));
    await refused(path.join(dir, 'cut-xz.deb'), /control.tar.xz: is not valid xz: truncated/);
    const huge = Buffer.from(whole);
    huge.write('9999999999', 8 + 60 + 4 + 48, 'latin1');
    await writeFile(path.join(dir, 'huge.deb'), huge);
    await refused(path.join(dir, 'huge.deb'), /declares 9999999999 bytes/);
    // A member that is really there and above the bound (a sparse file: no 64 MiB written).
    const big = path.join(dir, 'big.deb');
    const head = arArchive([binary!, ['control.tar', Buffer.alloc(0)]]);
    head.write(String(maxControlBytes + 2).padEnd(10), head.length - 12, 'latin1');
    await writeFile(big, head);
    await truncate(big, head.length + maxControlBytes + 2);
    await refused(big, /control.tar: is \d+ bytes, above the \d+ limit/, false);
  });

  it('refuses members in the wrong order', async () => {
    const [binary, ctl, data] = await members(debs.xz as string, path.join(dir, 'x-order'));
    await writeFile(path.join(dir, 'data-first.deb'), arArchive([binary!, data!, ctl!]));
    await refused(path.join(dir, 'data-first.deb'), /member "data.tar.xz" comes before the control member/);
    await writeFile(path.join(dir, 'control-first.deb'), arArchive([ctl!, binary!, data!]));
    await refused(path.join(dir, 'control-first.deb'), /first member is "control.tar.xz", not "debian-binary"/);
  });

  /** A deb whose control.tar.gz is made by GNU tar of `entries` (run in a folder where they were made). */
  async function withControlTar(name: string, make: (d: string) => Promise<string[]>, tarFlags: string[] = []) {
    const work = path.join(dir, `t-${name}`);
    await mkdir(path.join(work, 'sub'), { recursive: true });
    const entries = await make(work);
    const tar = await execa(
      'tar',
      [
        '-c',
        ...(tarFlags.some((f) => f.startsWith('--format')) ? [] : ['--format=gnu']),
        ...tarFlags,
        '-f',
        '-',
        ...entries,
      ],
      {
        cwd: path.join(work, 'sub'),
        encoding: 'buffer',
      },
    );
    const [binary, , data] = await members(debs.gzip as string, path.join(work, 'x'));
    const deb = path.join(dir, `${name}.deb`);
    await writeFile(deb, arArchive([binary!, ['control.tar.gz', gzipSync(tar.stdout)], data!]));
    return deb;
  }

  it('refuses a control tar with links, names outside the folder, two controls or none', async () => {
    const link = await withControlTar('symlink', async (d) => {
      await symlink('/etc/passwd', path.join(d, 'sub/control'));
      return ['./control'];
    });
    await refused(link, /control.tar.gz: member "control" is a symbolic link/, false);
    const hard = await withControlTar('hardlink', async (d) => {
      await writeFile(path.join(d, 'sub/control'), control);
      await execa('ln', [path.join(d, 'sub/control'), path.join(d, 'sub/other')]);
      return ['./control', './other'];
    });
    await refused(hard, /member "other" is a hard link/, false);
    const escape = await withControlTar(
      'dotdot',
      async (d) => {
        await writeFile(path.join(d, 'control'), control);
        return ['../control'];
      },
      ['-P'],
    );
    await refused(escape, /member "\.\.\/control" leaves the folder/, false);
    const twice = await withControlTar(
      'twice',
      async (d) => {
        await writeFile(path.join(d, 'sub/control'), control);
        return ['./control', 'control'];
      },
      ['--hard-dereference'],
    );
    await refused(twice, /two "control" members/, false);
    const none = await withControlTar('none', async (d) => {
      await writeFile(path.join(d, 'sub/md5sums'), '');
      return ['./md5sums'];
    });
    await refused(none, /control.tar.gz: the archive has no "control" member/);
  });

  it.each(['pax', 'ustar', 'gnu'])(
    'reads a %s control tar with a long member name as dpkg-deb does',
    async (format) => {
      // ustar: a prefix field; gnu: an `L` member; pax: an `x` header's path.
      const long = `${'d'.repeat(90)}/${'f'.repeat(format === 'ustar' ? 60 : 200)}`;
      const deb = await withControlTar(
        `format-${format}`,
        async (d) => {
          await mkdir(path.join(d, 'sub', path.dirname(long)), { recursive: true });
          await writeFile(path.join(d, 'sub', long), 'x');
          await writeFile(path.join(d, 'sub/control'), control);
          return [`./${long}`, './control'];
        },
        [`--format=${format}`],
      );
      expect((await readDebControl(deb)).toString('utf8')).toBe(await dpkgField(deb));
    },
  );

  it.each(['gzip', 'xz', 'zstd'])('refuses a -Z%s control member that unpacks beyond the bound', async (z) => {
    const bomb = path.join(dir, `bomb-${z}`);
    await mkdir(path.join(bomb, 'DEBIAN'), { recursive: true });
    await writeFile(path.join(bomb, 'DEBIAN/control'), control);
    await writeFile(path.join(bomb, 'DEBIAN/md5sums'), Buffer.alloc(maxControlBytes + 1024));
    const deb = path.join(dir, `bomb-${z}.deb`);
    await execa('dpkg-deb', ['--root-owner-group', `-Z${z}`, '-z1', '--build', bomb, deb]);
    await refused(deb, new RegExp(`control.tar.(gz|xz|zst): unpacks to more than 64 MiB`), false);
  });

  it('refuses a zstd frame asking for a huge window before allocating it, and corrupt compressed data', async () => {
    const [binary] = await members(debs.zstd as string, path.join(dir, 'x-window'));
    // Frame header: no single segment, window 2^(10+20) = 1 GiB, then one empty raw last block.
    const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 20 << 3, 0x01, 0x00, 0x00]);
    await writeFile(path.join(dir, 'window.deb'), arArchive([binary!, ['control.tar.zst', frame]]));
    await refused(path.join(dir, 'window.deb'), /control.tar.zst: unpacks to more than 64 MiB/, false);
    for (const [member, what] of [
      ['control.tar.zst', /is not valid zstd/],
      ['control.tar.xz', /is not valid xz: not in xz format/],
      ['control.tar.gz', /is not valid gzip/],
    ] as const) {
      const deb = path.join(dir, `garbage-${member}.deb`);
      await writeFile(deb, arArchive([binary!, [member, Buffer.from('definitely not compressed data')]]));
      await refused(deb, what);
    }
  });
});
