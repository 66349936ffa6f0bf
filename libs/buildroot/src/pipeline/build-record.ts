import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuildResult } from '../build-types.ts';

/** `<pkg>_<version>_<arch>.build.json` beside the debs: the last build of that package. */
export function recordFileFor(outputDir: string, pkg: BuildResult['package']): string {
  return path.join(outputDir, `${pkg.name}_${pkg.version}_${pkg.arch}.build.json`);
}

export async function writeBuildRecord(result: BuildResult): Promise<void> {
  await mkdir(path.dirname(result.recordFile), { recursive: true });
  const temp = `${result.recordFile}.${process.pid}.part`;
  await writeFile(temp, `${JSON.stringify(result, null, 2)}\n`);
  await rename(temp, result.recordFile);
}
