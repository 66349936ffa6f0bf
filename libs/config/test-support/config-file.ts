import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { loadConfig } from '../src/load-config.ts';
import type { AoinbConfig } from '../src/config-schema.ts';

/** The two keys every config.toml needs, before the section a test writes. */
export const configHead = 'work_dir = "/w"\narch = "amd64"\n';

export interface ConfigFile {
  /** The test's config folder. */
  readonly dir: string;
  /** Writes `config.toml`: the head, then `toml`. */
  write(toml: string): Promise<void>;
  load(): Promise<AoinbConfig>;
  /** Writes `toml` and loads it: the problems loadConfig reports (one per line), or '' when the file is valid. */
  problems(toml: string): Promise<string>;
}

/** A config folder of each test's own (beforeEach/afterEach), with its `config.toml` writer and reader. */
export function useConfigFile(prefix: string): ConfigFile {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), prefix));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const file: ConfigFile = {
    get dir() {
      return dir;
    },
    write: (toml) => writeFile(path.join(dir, 'config.toml'), `${configHead}${toml}`),
    load: () => loadConfig(dir),
    problems: async (toml) => {
      await file.write(toml);
      return file.load().then(
        () => '',
        (e: Error) => e.message,
      );
    },
  };
  return file;
}
