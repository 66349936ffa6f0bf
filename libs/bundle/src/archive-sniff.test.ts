import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { extractBundleArchive } from './bundle-archive.ts';
import { asyncErrorOf } from '../test-support/test-helpers.ts';

const out = useTempDir('aoinb-sniff-');

/** A real zip holding one stored file `spec` (local header, central directory, end record). */
function zipWithSpec(): Buffer {
  const name = Buffer.from('spec');
  const data = Buffer.from('VER=1\n');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(name.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + name.length, 12);
  end.writeUInt32LE(30 + name.length + data.length, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}

describe('uploads that are not tar archives', () => {
  it.each([
    ['an empty body', Buffer.alloc(0), 'not a tar archive: the body is empty'],
    ['an empty gzip stream', gzipSync(Buffer.alloc(0)), 'not a tar archive: the body is empty'],
    ['a zip', zipWithSpec(), 'not a tar archive: this is a zip archive; upload a tar, tar.gz, tar.xz or tar.zst'],
    [
      'an empty zip',
      Buffer.concat([Buffer.from('PK\x05\x06'), Buffer.alloc(18)]),
      'not a tar archive: this is a zip archive',
    ],
    ['a gzipped zip', gzipSync(zipWithSpec()), 'not a tar archive: this is a zip archive'],
    ['a short text', Buffer.from('spec\n'), 'not a tar archive: only 5 bytes, less than one tar header'],
    [
      'an HTML page',
      Buffer.from(`<html>${'x'.repeat(600)}</html>`),
      'not a tar archive: this is text (JSON, HTML or XML)',
    ],
  ])('%s is reported as such, not as "no spec file"', async (_label, body, message) => {
    expect(await asyncErrorOf(() => extractBundleArchive(body, path.join(out.dir, 'b')))).toEqual({
      code: 'BUNDLE_INVALID',
      message: expect.stringContaining(message),
    });
    expect(await readdir(out.dir)).toEqual([]);
  });
});
