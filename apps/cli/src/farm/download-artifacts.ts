import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AoinbError } from '@aoinb/errors';
import type { FarmClient } from '@aoinb/farm-client';
import type { TaskStatus } from '@aoinb/farm-contract';

export interface Artifact {
  arch: string;
  name: string;
  size: number;
  sha256: string;
}

export interface Downloaded extends Artifact {
  path: string;
}

/** The server names the files; a name that is not a plain .deb file name is refused, never joined to a path. */
const safeName = /^[A-Za-z0-9][A-Za-z0-9.+~_-]*\.deb$/;

export function artifactsOf(status: TaskStatus, arch?: string): Artifact[] {
  const jobs = arch ? status.jobs.filter((j) => j.arch === arch) : status.jobs;
  if (arch && jobs.length === 0)
    throw new AoinbError(
      'NOT_FOUND',
      `task ${status.id} has no build for ${arch} (archs: ${status.jobs.map((j) => j.arch).join(', ') || 'none'})`,
    );
  const artifacts = jobs.flatMap((j) =>
    j.artifacts.map((a) => ({ arch: j.arch, name: a.name, size: a.size, sha256: a.sha256 })),
  );
  for (const a of artifacts) {
    if (!safeName.test(a.name))
      throw new AoinbError(
        'BUNDLE_UNSAFE',
        `task ${status.id}: the coordinator names an artifact ${JSON.stringify(a.name)}, ` +
          `which is not a .deb file name; nothing downloaded`,
      );
  }
  return artifacts;
}

/**
 * Downloads one artifact into `dest`: streamed to a `.part` file while hashing, then
 * checked (size and SHA-256) and renamed. A mismatch removes the part file, so
 * `dest` never holds a file that does not match what the farm recorded.
 */
export async function downloadArtifact(
  client: FarmClient,
  taskId: string,
  artifact: Artifact,
  dest: string,
  options: { signal: AbortSignal; onProgress?: (p: { received: number; total: number }) => void },
): Promise<Downloaded> {
  await mkdir(dest, { recursive: true });
  const target = path.join(dest, artifact.name);
  const part = `${target}.part`;
  const response = await client.raw(
    'GET',
    `/task/${[taskId, 'artifact', artifact.arch, artifact.name].map(encodeURIComponent).join('/')}`,
    { signal: options.signal },
  );
  const hash = createHash('sha256');
  let received = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      received += chunk.length;
      options.onProgress?.({ received, total: artifact.size });
      done(null, chunk);
    },
  });
  try {
    await pipeline(response.body as unknown as NodeJS.ReadableStream, meter, createWriteStream(part, { mode: 0o644 }), {
      signal: options.signal,
    });
    const sha256 = hash.digest('hex');
    if (received !== artifact.size || sha256 !== artifact.sha256) {
      throw new AoinbError(
        'CHECKSUM_MISMATCH',
        `${artifact.name} (${artifact.arch}) of task ${taskId}: got ${received} bytes with SHA-256 ${sha256}, ` +
          `the farm recorded ${artifact.size} bytes with ${artifact.sha256}; not kept`,
      );
    }
    await rename(part, target);
  } finally {
    await rm(part, { force: true });
  }
  return { ...artifact, path: target };
}
