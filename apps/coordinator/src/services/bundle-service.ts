import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { allowedArchs, extractBundleArchive, loadBundle, type Bundle } from '@aoinb/bundle';
import { AoinbError } from '@aoinb/errors';
import { hasNeeds, type BuildNeeds, type BundleInfo } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';
import { needsOfEnvReq } from '../placement/build-needs.ts';
import { receiveUpload, type ReceivedFile } from '../storage/receive-upload.ts';
import { requireTask } from './task-service.ts';

export interface BundleInspection {
  packageName: string;
  /** Debian version: `[EPOCH:]VER-REL`. */
  version: string;
  noarch: boolean;
  targets: string[];
  denied: Array<{ arch: string; reason: string }>;
  /** Per target arch with an ENVREQ: what a host needs to take it. */
  needs: Record<string, BuildNeeds>;
}

function debianVersion(bundle: Bundle): string {
  const { epoch, version, release } = bundle.spec;
  return `${epoch && epoch !== '0' ? `${epoch}:` : ''}${version}-${release}`;
}

/** Parses the extracted bundle for every arch of the farm; FAIL_ARCH / ALLOW_ARCH decide the targets. */
export async function inspectBundle(dir: string, archs: string[], noarchArch: string): Promise<BundleInspection> {
  const first = await loadBundle(dir, noarchArch);
  const base = { packageName: first.mainPackage.name, version: debianVersion(first), noarch: first.isNoarch };
  const needs: Record<string, BuildNeeds> = {};
  const noteNeeds = (arch: string, bundle: Bundle): void => {
    const n = needsOfEnvReq(bundle.envreq);
    if (hasNeeds(n)) needs[arch] = n;
  };
  if (first.isNoarch) {
    noteNeeds(noarchArch, first);
    return { ...base, targets: [noarchArch], denied: [], needs };
  }
  const targets: string[] = [];
  const denied: BundleInspection['denied'] = [];
  for (const arch of archs) {
    const bundle = arch === first.arch ? first : await loadBundle(dir, arch);
    const decision = allowedArchs(
      bundle.packages.map((p) => p.defines),
      [arch],
    );
    if (decision.kind === 'noarch' || decision.allowed.includes(arch)) {
      targets.push(arch);
      noteNeeds(arch, bundle);
    } else denied.push(...decision.denied);
  }
  return { ...base, targets, denied, needs };
}

/** Extracts and parses the uploaded archive in `work`: where it went and what the task records of it. */
async function unpackBundle(ctx: CoordinatorContext, upload: ReceivedFile, work: string) {
  const { maxBundleBytes: maxBytes, noarchArch } = ctx.config.farm.coordinator;
  const extracted = path.join(work, 'bundle');
  await extractBundleArchive(upload.file, extracted, { maxArchiveBytes: maxBytes, maxBytes: 4 * maxBytes });
  const inspection = await inspectBundle(extracted, ctx.dispatcher.archs, noarchArch);
  const info: BundleInfo = {
    sha256: upload.sha256,
    size: upload.size,
    packageName: inspection.packageName,
    version: inspection.version,
    noarch: inspection.noarch,
    targets: inspection.targets,
    uploadedAt: new Date().toISOString(),
    ...(Object.keys(inspection.needs).length > 0 ? { needs: inspection.needs } : {}),
  };
  return { extracted, info, denied: inspection.denied };
}

/** Records the new bundle (refused unless the task is still `created`), then moves its files into place. */
async function installBundle(
  ctx: CoordinatorContext,
  taskId: string,
  info: BundleInfo,
  extracted: string,
  archive: string,
) {
  const recorded = await ctx.store.updateTask(taskId, ['created'], { bundle: info });
  if (!recorded.done)
    throw new AoinbError(
      'CONFLICT',
      `task ${taskId} became ${recorded.groupId ? `a member of group ${recorded.groupId}` : recorded.state} ` +
        `during the upload: its bundle can no longer change`,
    );
  await mkdir(ctx.layout.taskDir(taskId), { recursive: true });
  await rm(ctx.layout.bundleDir(taskId), { recursive: true, force: true });
  await rename(extracted, ctx.layout.bundleDir(taskId));
  await rename(archive, ctx.layout.bundleArchive(taskId));
}

/**
 * `PUT /task/:id/build_bundle`: streams the archive to disk (size-limited,
 * sha256 computed and checked against `X-Checksum-Sha256` when sent), extracts
 * it safely, parses it, and only then replaces the task's bundle. The same
 * archive again is a no-op. Nothing is written outside the storage folder.
 * Runs under the task's bundle-upload lock (http/upload-lock.ts): while it is
 * held, queue-builds-script.ts queues no build, so a `PUT /task/:id/build`
 * meanwhile gets a 409 instead of queueing the bundle being replaced; the new
 * bundle is recorded by a guarded script that refuses unless the task is still
 * `created`.
 */
export async function receiveBundle(
  ctx: CoordinatorContext,
  taskId: string,
  body: Readable,
  expectedSha256?: string,
): Promise<{ info: BundleInfo; unchanged: boolean; denied: BundleInspection['denied'] }> {
  const task = await requireTask(ctx, taskId);
  if (task.state !== 'created' || task.groupId)
    throw new AoinbError(
      'CONFLICT',
      `task ${task.id} is ${task.groupId ? `in group ${task.groupId}` : task.state}: its bundle can no longer change`,
    );
  const upload = await receiveUpload(body, {
    tmpDir: ctx.layout.tmpDir,
    maxBytes: ctx.config.farm.coordinator.maxBundleBytes,
    tooLargeCode: 'BUNDLE_TOO_LARGE',
    what: 'the bundle archive',
    expectedSha256,
  });
  // The same archive again is a no-op once it is in place: a coordinator killed after recording it and
  // before moving its files in had left the record alone, and the retry must put the files there.
  const inPlace = await stat(ctx.layout.bundleArchive(task.id)).then(
    () => true,
    () => false,
  );
  if (task.bundle?.sha256 === upload.sha256 && inPlace) {
    await rm(upload.file, { force: true });
    return { info: task.bundle, unchanged: true, denied: [] };
  }
  const work = await mkdtemp(path.join(ctx.layout.tmpDir, `bundle-${task.id}-`));
  try {
    const { extracted, info, denied } = await unpackBundle(ctx, upload, work);
    await installBundle(ctx, task.id, info, extracted, upload.file);
    return { info, unchanged: false, denied };
  } finally {
    await rm(work, { recursive: true, force: true });
    await rm(upload.file, { force: true });
  }
}
