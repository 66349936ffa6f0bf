import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The repository root and deploy/, for tests of the deployment files. */
export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const deployDir = path.join(repoRoot, 'deploy');

/** Where deploy/Dockerfile puts the repository, and the systemd units expect it. */
export const installRoot = '/opt/aoinb';

/** A path inside the installed tree (`/opt/aoinb/apps/...`) as the file in this checkout. */
export function inCheckout(installedPath: string): string | undefined {
  if (installedPath === installRoot) return repoRoot;
  return installedPath.startsWith(`${installRoot}/`)
    ? path.join(repoRoot, installedPath.slice(installRoot.length + 1))
    : undefined;
}

/** A systemd unit file: section -> key -> values (a key may repeat). */
export type UnitFile = Map<string, Map<string, string[]>>;

/** Parses a systemd unit as systemd reads it: sections, `Key=Value`, `#`/`;` comments, `\` continuations. */
export function parseUnit(text: string): UnitFile {
  const unit: UnitFile = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1] as string, section);
      return;
    }
    const pair = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    if (!pair || !section) throw new Error(`line ${i + 1}: not a Key=Value inside a section: ${raw}`);
    const values = section.get(pair[1] as string) ?? [];
    values.push((pair[2] as string).trim());
    section.set(pair[1] as string, values);
  });
  return unit;
}

/**
 * A config folder from an example config.toml: the file, the example source
 * lists, and a dummy for every secret file under `secrets/` it names (the
 * examples reference secrets by path only), so `loadConfig` can check it.
 */
export async function exampleConfigDir(tomlFile: string, secretNames: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'aoinb-deploy-conf-'));
  await cp(tomlFile, path.join(dir, 'config.toml'));
  await cp(path.join(deployDir, 'config/source_lists'), path.join(dir, 'source_lists'), { recursive: true });
  await mkdir(path.join(dir, 'secrets'));
  for (const name of secretNames) await writeFile(path.join(dir, 'secrets', name), 'dummy-secret-for-tests\n');
  return dir;
}
