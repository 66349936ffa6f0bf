import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { controlField, readDebControl } from '@aoinb/deb';
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

/** Reads a .deb's control fields in-process with @aoinb/deb (what `dpkg-deb --field` prints). */
export async function readDebFacts(file: string, size: number, mtimeMs: number, label?: string): Promise<DebFacts> {
  const control = (await readDebControl(file, label)).toString('utf8').replace(/\s+$/, '');
  const facts = {
    size,
    mtimeMs,
    sha256: await sha256OfFile(file),
    control,
    package: controlField(control, 'Package'),
    version: controlField(control, 'Version'),
    architecture: controlField(control, 'Architecture'),
  };
  if (!facts.package || !facts.version || !facts.architecture) {
    throw new AoinbError(
      'ARTIFACT_INVALID',
      `${label ?? path.basename(file)}: control file lacks Package, Version or Architecture`,
    );
  }
  return facts;
}
