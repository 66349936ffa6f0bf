import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultConfigDir } from './config-schema.ts';

export interface EntryArgsSpec {
  /** `coordinator` or `worker`: named in every line this prints. */
  app: string;
  /** The app's package.json (its `version` is what `--version` prints). */
  packageJson: URL;
  /** One paragraph after the usage line: what the process does and how it stops. */
  about: string;
  /** Options beyond -c/--help/--version (each takes a value), with their line of help and the values allowed. */
  options?: Record<string, { help: string; choices?: readonly string[] }>;
}

export interface EntryArgs {
  configDir: string;
  values: Record<string, string | undefined>;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + word.length < width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

function usage(spec: EntryArgsSpec): string {
  const rows: [string, string][] = [
    ['-c, --config DIR', `the config folder (default: $AOINB_CONFIG_DIR or ${defaultConfigDir})`],
    ...Object.entries(spec.options ?? {}).map(([name, o]): [string, string] => [`--${name} VALUE`, o.help]),
    ['-h, --help', 'print this help and exit'],
    ['-V, --version', 'print the version and exit'],
  ];
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return [
    `Usage: node apps/${spec.app}/dist/main.js [options]`,
    '',
    ...wrap(spec.about, 80),
    '',
    'Options:',
    ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`),
    '',
    `The same as \`aoinb ${spec.app}\` (see \`aoinb ${spec.app} --help\` and man aoinb).`,
    '',
  ].join('\n');
}

/**
 * The arguments of an app's own entry point (`node apps/<app>/dist/main.js`, what the systemd units and the
 * image run). `--help` and `--version` answer and exit 0; an unknown or malformed option is one line naming
 * it and exit 2, never a stack trace, and never a start with an option silently dropped.
 */
export function parseEntryArgs(spec: EntryArgsSpec, args = process.argv.slice(2)): EntryArgs {
  const extra = Object.fromEntries(Object.keys(spec.options ?? {}).map((name) => [name, { type: 'string' as const }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
        ...extra,
      },
    }));
  } catch (error) {
    process.stderr.write(`aoinb ${spec.app}: ${(error as Error).message} (try --help)\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(usage(spec));
    process.exit(0);
  }
  if (values.version) {
    const { version } = JSON.parse(readFileSync(spec.packageJson, 'utf8')) as { version: string };
    process.stdout.write(`aoinb ${spec.app} ${version}\n`);
    process.exit(0);
  }
  const strings = Object.fromEntries(
    Object.keys(extra).map((name) => [name, values[name] as string | undefined]),
  ) as Record<string, string | undefined>;
  for (const [name, { choices }] of Object.entries(spec.options ?? {})) {
    const value = strings[name];
    if (choices && value !== undefined && !choices.includes(value)) {
      process.stderr.write(`aoinb ${spec.app}: --${name} must be ${choices.join(' or ')}, not "${value}"\n`);
      process.exit(2);
    }
  }
  const configDir = (values.config as string | undefined) ?? process.env.AOINB_CONFIG_DIR ?? defaultConfigDir;
  return { configDir, values: strings };
}
