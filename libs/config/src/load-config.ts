import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { AoinbError } from '@aoinb/errors';
import { readConfigTable, type AoinbConfig } from './config-schema.ts';
import type { Problem, TomlTable } from './table-reader.ts';

export function formatProblems(file: string, problems: Problem[]): string {
  const lines = problems.map((p) => `  ${p.path}: ${p.message}`);
  return `${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines.join('\n')}`;
}

/** Parses a TOML file, turning syntax errors into messages with file, line and column. */
export async function readTomlFile(file: string): Promise<TomlTable> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : String(error);
    throw new AoinbError('CONFIG_NOT_FOUND', `${file} ${reason}`);
  }
  try {
    return parse(text);
  } catch (error) {
    if (error instanceof TomlError) {
      const first = error.message.split('\n')[0];
      throw new AoinbError('CONFIG_INVALID', `${file}:${error.line}:${error.column}: ${first}`);
    }
    throw error;
  }
}

/** Loads and validates `<configDir>/config.toml`. */
export async function loadConfig(configDir: string): Promise<AoinbConfig> {
  const dir = path.resolve(configDir);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new AoinbError('CONFIG_NOT_FOUND', `configuration folder ${dir} does not exist (pass -c CONFIG_DIR)`);
  }
  const file = path.join(dir, 'config.toml');
  const raw = await readTomlFile(file);
  const problems: Problem[] = [];
  const config = readConfigTable(raw, dir, problems);
  if (problems.length > 0) throw new AoinbError('CONFIG_INVALID', formatProblems(file, problems));
  return config;
}
