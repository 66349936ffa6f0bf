import { access } from 'node:fs/promises';
import path from 'node:path';
import { AoinbError } from '@aoinb/errors';
import type { AoinbConfig } from './config-schema.ts';

const branchPattern = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** Checks a branch name is safe to use as a file and folder name. */
export function assertBranchName(branch: string): void {
  if (!branchPattern.test(branch) || branch.includes('..')) {
    throw new AoinbError(
      'USAGE',
      `branch ${JSON.stringify(branch)} is not a valid branch name (letters, digits, . _ + -)`,
    );
  }
}

/** `<configDir>/source_lists/<branch>.list`, which must exist for the branch to be built. */
export async function sourceListFor(config: AoinbConfig, branch: string): Promise<string> {
  assertBranchName(branch);
  const file = path.join(config.configDir, 'source_lists', `${branch}.list`);
  try {
    await access(file);
  } catch {
    throw new AoinbError('SOURCE_LIST_MISSING', `branch ${branch} has no source list: ${file} does not exist`);
  }
  return file;
}
