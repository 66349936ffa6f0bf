import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { execa } from 'execa';
import { AoinbError } from '@aoinb/errors';

/** What the index needs of one .deb: its control stanza and its checksum. */
export interface DebFacts {
  size: number;
  mtimeMs: number;
  sha256: string;
  /** The control file's fields, as dpkg-deb prints them (no trailing newline). */
  control: string;
  package: string;
  version: string;
  architecture: string;
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function field(control: string, name: string): string {
  const match = new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi').exec(control);
  return match?.[1]?.trim() ?? '';
}

/** Reads a .deb's control fields with `dpkg-deb --field`. */
export async function readDebFacts(file: string, size: number, mtimeMs: number): Promise<DebFacts> {
  const result = await execa('dpkg-deb', ['--field', file], { reject: false });
  if (result.exitCode !== 0) {
    throw new AoinbError('USAGE', `${file} is not a readable .deb: ${String(result.stderr).trim()}`);
  }
  const control = String(result.stdout).replace(/\s+$/, '');
  const facts = {
    size,
    mtimeMs,
    sha256: await sha256OfFile(file),
    control,
    package: field(control, 'Package'),
    version: field(control, 'Version'),
    architecture: field(control, 'Architecture'),
  };
  if (!facts.package || !facts.version || !facts.architecture) {
    throw new AoinbError('USAGE', `${file}: control file lacks Package, Version or Architecture`);
  }
  return facts;
}
