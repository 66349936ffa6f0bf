import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'smol-toml';
import { AoinbError } from '@aoinb/errors';

export interface TestConfigOptions {
  /** The config folder to write (created if missing). */
  dir: string;
  workDir: string;
  arch: string;
  /** Branch name -> sources.list text, e.g. `{ stable: 'deb http://deb.debian.org/debian bookworm main' }`. */
  sourceLists: Record<string, string>;
  /** TOML appended after `work_dir` and `arch` (tables such as `[build]`). */
  extraToml?: string;
  /**
   * `[build] source_allow` entries (`127.0.0.1:<port>`): the loopback servers the
   * test serves sources from, which the host refuses to fetch from otherwise.
   */
  sourceAllow?: string[];
}

/** A TOML basic string: JSON's escaping is a subset TOML accepts for these values. */
function tomlString(value: string): string {
  return JSON.stringify(value);
}

/** Adds entries to `[build] source_allow`, whether or not the TOML already has a `[build]` table. */
function withSourceAllow(toml: string, allow: string[]): string {
  if (allow.length === 0) return toml;
  const table = parse(toml) as { build?: { source_allow?: string[] } };
  table.build = { ...table.build, source_allow: [...new Set([...(table.build?.source_allow ?? []), ...allow])] };
  return `${stringify(table)}\n`;
}

/**
 * Writes a configuration folder for tests: `config.toml` with `work_dir`,
 * `arch` and any extra TOML, and `source_lists/<branch>.list` per branch.
 * Returns the folder's path.
 */
export async function writeTestConfig(options: TestConfigOptions): Promise<string> {
  const dir = path.resolve(options.dir);
  await mkdir(path.join(dir, 'source_lists'), { recursive: true });
  const lines = [`work_dir = ${tomlString(options.workDir)}`, `arch = ${tomlString(options.arch)}`];
  if (options.extraToml) lines.push('', options.extraToml.trim());
  await writeFile(path.join(dir, 'config.toml'), withSourceAllow(`${lines.join('\n')}\n`, options.sourceAllow ?? []));
  for (const [branch, text] of Object.entries(options.sourceLists)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(branch)) {
      throw new AoinbError('USAGE', `writeTestConfig: branch ${JSON.stringify(branch)} is not a valid branch name`);
    }
    await writeFile(path.join(dir, 'source_lists', `${branch}.list`), text.endsWith('\n') ? text : `${text}\n`);
  }
  return dir;
}
