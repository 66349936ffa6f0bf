import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, constants } from 'node:fs';
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkPathComponent } from '@aoinb/bundle';
import { controlField, InvalidDebError, readDebControl } from '@aoinb/deb';
import { AoinbError } from '@aoinb/errors';
import type { BuildArtifact } from '../build-types.ts';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Which packages a bundle may produce (from bundle-facts.ts). */
export interface ArtifactRules {
  /** The build's target architecture. */
  arch: string;
  /** spec `VER` and `REL`. */
  upstreamVersion: string;
  release: string;
  /** Each package of the bundle; its `-dbg` package (autobuild4 makes them) is allowed too. */
  packages: Array<{ name: string; epoch: string; noarch: boolean }>;
}

function invalid(name: string, why: string): AoinbError {
  return new AoinbError('ARTIFACT_INVALID', `build output ${JSON.stringify(name)}: ${why}`);
}

/**
 * Opens `name` inside the folder open as `dir` without following a symlink at
 * that last step: Linux resolves `/proc/self/fd/N` to the very folder we hold
 * open, so this is openat(2) with O_NOFOLLOW, immune to a path swapped meanwhile.
 */
function openBeneath(dir: FileHandle, name: string, flags: number): Promise<FileHandle> {
  return open(`/proc/self/fd/${dir.fd}/${name}`, flags | constants.O_NOFOLLOW);
}

const dirFlags = constants.O_RDONLY | constants.O_DIRECTORY;

/** Opens `<merged>/buildroot/output`, refusing a link at any step (a build could point either at the host). */
async function openOutputDir(merged: string): Promise<FileHandle> {
  let dir = await open(merged, dirFlags | constants.O_NOFOLLOW);
  for (const part of ['buildroot', 'output']) {
    // The parent is closed whether or not the step opens (a refused step used to leave it to the GC).
    const parent = dir;
    try {
      dir = await openBeneath(parent, part, dirFlags).catch((error: NodeJS.ErrnoException) => {
        throw error.code === 'ENOENT'
          ? new AoinbError('ARTIFACT_INVALID', 'the build left no /buildroot/output folder')
          : new AoinbError(
              'ARTIFACT_INVALID',
              `${part === 'buildroot' ? '/buildroot' : '/buildroot/output'} is not a plain folder ` +
                `(${error.code}): a link or something else was put there`,
            );
      });
    } finally {
      await parent.close();
    }
  }
  return dir;
}

/**
 * Package, Version and Architecture from a .deb's control file, read in-process by
 * @aoinb/deb (the reader the coordinator's repository uses too: no process per deb).
 */
export async function controlFields(file: string, name: string): Promise<Record<string, string>> {
  const control = await readDebControl(file, name).catch((error: unknown) => {
    throw error instanceof InvalidDebError ? invalid(name, `not a valid .deb (${error.reason})`) : error;
  });
  const text = control.toString('utf8');
  return Object.fromEntries(['Package', 'Version', 'Architecture'].map((field) => [field, controlField(text, field)]));
}

/**
 * The name check: Package is one of the bundle's (or its `-dbg`), Version is
 * `[EPOCH:]VER-REL` (autobuild4 drops a `-0`), Architecture is the target or
 * `all` for noarch, and the file is named `<Package>_<VER>-<REL>_<arch>.deb`
 * (or with the Version as it is, epoch left out) as autobuild4 names it.
 */
export function artifactProblem(
  name: string,
  fields: Record<string, string>,
  rules: ArtifactRules,
): string | undefined {
  const { Package: pkg, Version: version, Architecture: arch } = fields;
  if (!pkg || !version || !arch) return 'its control file lacks Package, Version or Architecture';
  const owner = rules.packages.find((p) => p.name === pkg || `${p.name}-dbg` === pkg);
  if (!owner) return `Package ${pkg} is not a package of this bundle (${rules.packages.map((p) => p.name).join(', ')})`;
  const base = `${rules.upstreamVersion}-${rules.release}`;
  const prefix = owner.epoch ? `${owner.epoch}:` : '';
  const versions = [`${prefix}${base}`, ...(rules.release === '0' ? [`${prefix}${rules.upstreamVersion}`] : [])];
  if (!versions.includes(version)) return `Version ${version} is not the bundle's (${versions.join(' or ')})`;
  const wantArch = owner.noarch ? 'all' : rules.arch;
  if (arch !== wantArch) return `Architecture ${arch} is not ${wantArch}`;
  const fileArchs = owner.noarch ? ['noarch', 'all'] : [rules.arch];
  const names = fileArchs.flatMap((a) => [
    `${pkg}_${base}_${a}.deb`,
    `${pkg}_${version.replace(/^\d+:/, '')}_${a}.deb`,
  ]);
  if (!names.includes(name)) return `its control says ${pkg} ${version} ${arch}, so it should be named ${names[0]}`;
  return undefined;
}

/** Copies from the open descriptor (never a path the build could swap) into `temp`, hashing on the way. */
async function copyOut(fh: FileHandle, temp: string): Promise<string> {
  const hash = createHash('sha256');
  const tap = new Transform({ transform: (chunk: Buffer, _e, done) => (hash.update(chunk), done(null, chunk)) });
  await pipeline(
    fh.createReadStream({ start: 0, autoClose: false }),
    tap,
    createWriteStream(temp, { flags: 'wx', mode: 0o644 }),
  );
  return hash.digest('hex');
}

interface Staged extends BuildArtifact {
  temp: string;
}

async function stageOne(dir: FileHandle, name: string, outputDir: string, rules: ArtifactRules): Promise<Staged> {
  checkPathComponent(name, 'build output');
  if (!name.endsWith('.deb')) throw invalid(name, 'only .deb files may be left in /buildroot/output');
  const fh = await openBeneath(dir, name, constants.O_RDONLY | constants.O_NONBLOCK).catch(
    (error: NodeJS.ErrnoException) => {
      throw invalid(
        name,
        error.code === 'ELOOP' ? 'is a symlink; only regular files are collected' : `cannot be opened (${error.code})`,
      );
    },
  );
  const temp = path.join(outputDir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
  try {
    const info = await fh.stat();
    if (!info.isFile()) throw invalid(name, 'is not a regular file');
    const sha256 = await copyOut(fh, temp);
    const problem = artifactProblem(name, await controlFields(temp, name), rules);
    if (problem) throw invalid(name, problem);
    return { temp, file: path.join(outputDir, name), name, size: info.size, sha256 };
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  } finally {
    await fh.close();
  }
}

/**
 * Collects the build's .debs into the output folder, all or nothing: each
 * entry of /buildroot/output must be a regular `.deb` file (opened without
 * following links) whose control file matches its name and the bundle; each is
 * copied from its open descriptor to a temporary file, checked there, and only
 * when every one passed are they renamed into place. Anything else fails the
 * build with a named reason and leaves nothing in the output folder.
 */
export async function collectDebs(merged: string, outputDir: string, rules: ArtifactRules): Promise<BuildArtifact[]> {
  const dir = await openOutputDir(merged);
  const staged: Staged[] = [];
  try {
    const names = (await readdir(`/proc/self/fd/${dir.fd}`)).sort();
    if (names.length === 0) throw new AoinbError('ARTIFACT_INVALID', 'the build produced no .deb in /buildroot/output');
    await mkdir(outputDir, { recursive: true });
    for (const name of names) staged.push(await stageOne(dir, name, outputDir, rules));
    for (const s of staged) await rename(s.temp, s.file);
    return staged.map(({ temp: _temp, ...artifact }) => artifact);
  } finally {
    await Promise.all(staged.map((s) => rm(s.temp, { force: true })));
    await dir.close();
  }
}
