import { createHash } from 'node:crypto';
import path from 'node:path';
import { AoinbError } from '@aoinb/errors';

export interface OverlayDirs {
  dir: string;
  upper: string;
  work: string;
  merged: string;
}

/** Every path aoinb uses under `work_dir`, in one place. */
export interface WorkLayout {
  root: string;
  baseos: string;
  instancesDir: string;
  workspacesDir: string;
  trashDir: string;
  locksDir: string;
  sourceCache: string;
  logsDir: string;
  outputDir: string;
  /** What aoinb found out about this host once (e.g. overlay `volatile` support). */
  hostFactsDir: string;
  /** The host's shared apt archive cache (bound as /var/cache/apt/archives into apt steps). */
  aptCacheDir: string;
  /** Dependency layers: `<key>/layer` (read-only lower layer) and `<key>/meta.json`. */
  depLayersDir: string;
  instance(branch: string): OverlayDirs & { stamp: string; sourcesList: string; ab4Config: string };
  workspace(buildId: string): OverlayDirs & { owner: string };
  /**
   * A build's name for what is host-wide, not under work_dir (its containers, cgroup, network
   * namespace): the build id and a tag of this work dir. Build ids are unique within one farm only
   * (every farm's first build is `t1-amd64-r1-a1`), and workers of two farms may share a host.
   */
  hostScoped(buildId: string): string;
  lock(name: string): string;
  baseosTarballs(arch: string): string[];
}

function overlayDirs(dir: string): OverlayDirs {
  return { dir, upper: path.join(dir, 'upper'), work: path.join(dir, 'work'), merged: path.join(dir, 'merged') };
}

export function workLayout(workDir: string): WorkLayout {
  // overlayfs mount options are comma and colon separated; such paths cannot be passed.
  if (/[,:\s]/.test(workDir)) {
    throw new AoinbError(
      'CONFIG_INVALID',
      `work_dir ${JSON.stringify(workDir)} must not contain commas, colons or spaces (overlayfs cannot mount it)`,
    );
  }
  const root = path.resolve(workDir);
  return {
    root,
    baseos: path.join(root, 'baseos'),
    instancesDir: path.join(root, 'instances'),
    workspacesDir: path.join(root, 'workspaces'),
    trashDir: path.join(root, 'trash'),
    locksDir: path.join(root, 'locks'),
    sourceCache: path.join(root, 'sources'),
    logsDir: path.join(root, 'logs'),
    outputDir: path.join(root, 'output'),
    hostFactsDir: path.join(root, 'host-facts'),
    aptCacheDir: path.join(root, 'apt-archives'),
    depLayersDir: path.join(root, 'dep-layers'),
    instance(branch) {
      const dirs = overlayDirs(path.join(root, 'instances', branch));
      return {
        ...dirs,
        stamp: path.join(dirs.dir, 'refreshed.json'),
        sourcesList: path.join(dirs.upper, 'etc/apt/sources.list'),
        ab4Config: path.join(dirs.upper, 'etc/autobuild/ab4cfg.sh'),
      };
    },
    workspace(buildId) {
      const dirs = overlayDirs(path.join(root, 'workspaces', buildId));
      return { ...dirs, owner: path.join(dirs.dir, 'owner.json') };
    },
    hostScoped(buildId) {
      const tag = createHash('sha256').update(`${root}\0${buildId}`).digest('hex').slice(0, 8);
      return `${buildId.slice(0, 40)}-${tag}`;
    },
    lock(name) {
      return path.join(root, 'locks', `${name}.lock`);
    },
    baseosTarballs(arch) {
      return ['tar.xz', 'tar.gz', 'tar.zst'].map((ext) => path.join(root, `buildkit_${arch}.${ext}`));
    },
  };
}
