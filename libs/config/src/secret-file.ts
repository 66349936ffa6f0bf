import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TableReader } from './table-reader.ts';

/** Reads a secret file, reporting a missing or empty one at its key path. */
export function readSecret(reader: TableReader, key: string, file: string, configDir: string): string {
  const full = path.resolve(configDir, file);
  try {
    const secret = readFileSync(full, 'utf8').trim();
    if (!secret) reader.problem(key, `${full} is empty`);
    return secret;
  } catch {
    reader.problem(key, `cannot read ${full}`);
    return '';
  }
}
