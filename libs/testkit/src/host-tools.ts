import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { AoinbError } from '@aoinb/errors';

/** The commands the test kit runs on the host, and the Debian package that provides each. */
export const hostTools: Record<string, string> = {
  debootstrap: 'debootstrap',
  'systemd-nspawn': 'systemd-container',
  'redis-server': 'redis-server',
  'dpkg-deb': 'dpkg',
  zstd: 'zstd',
  tar: 'tar',
  gzip: 'gzip',
  flock: 'util-linux',
  mount: 'mount',
  umount: 'mount',
  promtool: 'prometheus',
  prometheus: 'prometheus',
};

/** Finds a command on PATH (plus the sbin folders, which a non-login root shell may lack). */
export async function findExecutable(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The host tools that are missing, as `command (apt package)`. */
export async function missingHostTools(names: string[] = Object.keys(hostTools)): Promise<string[]> {
  const missing: string[] = [];
  for (const name of names) {
    if (!(await findExecutable(name))) missing.push(`${name} (apt package ${hostTools[name] ?? name})`);
  }
  return missing;
}

/** Throws a clear error unless running as root with every named tool installed. */
export async function assertHostReady(names?: string[]): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new AoinbError(
      'NOT_ROOT',
      'the aoinb test kit must run as root: it runs debootstrap, mounts OverlayFS and starts systemd-nspawn containers',
    );
  }
  const missing = await missingHostTools(names);
  if (missing.length) {
    const packages = [...new Set(missing.map((m) => m.replace(/^.*apt package (.*)\)$/, '$1')))].join(' ');
    throw new AoinbError(
      'BASEOS_LOAD_FAILED',
      `missing host tools: ${missing.join(', ')}; install them with: apt-get install -y ${packages}`,
    );
  }
}
