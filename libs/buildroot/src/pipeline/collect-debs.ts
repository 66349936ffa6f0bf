import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BuildArtifact } from '../build-types.ts';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Copies each .deb into the output folder atomically: never a half-written package there. */
export async function collectDebs(fromDir: string, outputDir: string): Promise<BuildArtifact[]> {
  const names = (await readdir(fromDir).catch(() => [] as string[])).filter((name) => name.endsWith('.deb')).sort();
  await mkdir(outputDir, { recursive: true });
  const artifacts: BuildArtifact[] = [];
  for (const name of names) {
    const source = path.join(fromDir, name);
    const info = await stat(source);
    if (!info.isFile()) continue;
    const target = path.join(outputDir, name);
    const temp = path.join(outputDir, `.${name}.${process.pid}.part`);
    try {
      await copyFile(source, temp);
      await rename(temp, target);
    } finally {
      await rm(temp, { force: true });
    }
    artifacts.push({ file: target, name, size: info.size, sha256: await sha256File(target) });
  }
  return artifacts;
}
