import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isAoinbError } from '@aoinb/errors';

/** The fixture ABBS tree (excerpts of AOSC-Dev/aosc-os-abbs; see its README). */
export const fixtureTree = fileURLToPath(new URL('../fixtures/abbs/', import.meta.url));

export function fixture(rel: string): string {
  return readFileSync(new URL(`../fixtures/abbs/${rel}`, import.meta.url), 'utf8');
}

/** Runs `fn` and returns the AoinbError it throws (code and message). */
export function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isAoinbError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected an AoinbError');
}

export async function asyncErrorOf(fn: () => Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await fn();
  } catch (err) {
    if (isAoinbError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected an AoinbError');
}
