import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';
import { writeTestConfig } from '@aoinb/testkit';
import { allNodes, commandTree, type CommandNode } from './docs/command-tree.ts';
import { buildProgram } from './program.ts';
import { aoinbBin } from '../test-support/cli-farm.ts';

const runMany = new URL('../test-support/run-many.ts', import.meta.url).pathname;

const tmp = useTempDir('aoinb-cli-help-');
let configDir: string;
let workDir: string;
const tree: CommandNode = commandTree(
  buildProgram({
    stdout: process.stdout,
    stderr: process.stderr,
    signal: new AbortController().signal,
    onStatus: () => undefined,
  }),
);
const commands = allNodes(tree).filter((n) => n.path.length > 0);

/** The environment without the colour settings the test runner has (vitest sets FORCE_COLOR). */
function plainEnv(extra: Record<string, string>): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && k !== 'FORCE_COLOR' && k !== 'NO_COLOR'),
  ) as Record<string, string>;
  return { ...env, ...extra };
}

function aoinb(args: string[], env: Record<string, string> = {}, timeout?: number) {
  return execa(process.execPath, [aoinbBin, ...args], { reject: false, extendEnv: false, env: plainEnv(env), timeout });
}

/** Many command lines in one process (test-support/run-many.ts: each as main.ts runs it, output piped). */
async function aoinbMany(lines: string[][]): Promise<Array<{ status: number; stdout: string; stderr: string }>> {
  const run = await execa(process.execPath, ['--import', 'tsx', runMany, JSON.stringify(lines)], {
    reject: false,
    extendEnv: false,
    env: plainEnv({}),
  });
  expect(run.exitCode, run.stderr).toBe(0);
  return run.stdout.split('\n').map((line) => JSON.parse(line) as { status: number; stdout: string; stderr: string });
}

/** Every path under `root` with its size and mtime: what a command that "does nothing" must leave as it was. */
async function snapshot(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { recursive: true })) {
    const s = await stat(path.join(root, entry));
    out.push(`${entry} ${s.size} ${s.mtimeMs}`);
  }
  return out.sort();
}

beforeAll(async () => {
  workDir = path.join(tmp.dir, 'work');
  await mkdir(path.join(workDir, 'baseos/etc'), { recursive: true });
  await writeFile(path.join(workDir, 'baseos/etc/marker'), 'base');
  configDir = await writeTestConfig({
    dir: path.join(tmp.dir, 'conf'),
    workDir,
    arch: 'amd64',
    sourceLists: { stable: 'deb http://127.0.0.1:9/debian bookworm main' },
  });
});

describe('aoinb help', () => {
  it('lists every command, and prints --version', async () => {
    const help = await aoinb(['--help']);
    expect(help.exitCode).toBe(0);
    for (const c of tree.subcommands) expect(help.stdout).toContain(c.path[0]);
    expect((await aoinb(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('every command answers --help with its options and exit status 0, and `aoinb help CMD` too', async () => {
    expect(commands.length).toBeGreaterThan(20);
    const results = await aoinbMany(commands.map((c) => ['-c', configDir, ...c.path, '--help']));
    expect(results).toHaveLength(commands.length);
    for (const [i, c] of commands.entries()) {
      const r = results[i]!;
      expect(r.status, `${c.path.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(`Usage: aoinb ${c.path.join(' ')}`);
      for (const o of c.options) expect(r.stdout, c.path.join(' ')).toContain(o.flags);
    }
    // One in a process of its own, as a user runs it: the same help.
    const nested = await aoinb(['-c', configDir, 'farm', 'up', '--help']);
    expect(nested.exitCode).toBe(0);
    // (execa drops the final newline.)
    expect(`${nested.stdout}\n`).toBe(results[commands.findIndex((c) => c.path.join(' ') === 'farm up')]!.stdout);
    const viaHelp = await aoinb(['help', 'submit']);
    expect(viaHelp.exitCode).toBe(0);
    expect(viaHelp.stdout).toContain('--branch <branch>');
    expect((await aoinb(['help', 'farm', 'up'])).stdout).toContain('--log-format <format>');
    const unknown = await aoinb(['help', 'sumbit']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toBe('aoinb: no command "sumbit" (see aoinb --help) [USAGE]');
  });

  it('commands that change things do nothing else when asked for help', async () => {
    const before = await snapshot(tmp.dir);
    for (const args of [
      ['update-baseos', '--help'],
      ['cleanup', 'all', '--help'],
      ['cleanup', '--help'],
      ['load-baseos', '-h'],
      ['help', 'update-baseos'],
      ['build', 'x', 'stable', '--help'],
      ['farm', 'up', '--help'],
      ['worker', '--help'],
      ['coordinator', '--help'],
      ['delete', '1', '--help'],
      ['republish', '1', '--replace', '--help'],
    ]) {
      // No worker or coordinator was started: they would run until stopped, here until killed
      // after a deadline far above a loaded machine's start-up time.
      const r = await aoinb(['-c', configDir, ...args], {}, 90_000);
      expect(r.timedOut, `${args.join(' ')} still running`).toBe(false);
      expect(r.exitCode, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/^Usage: aoinb /);
    }
    expect(await snapshot(tmp.dir)).toEqual(before);
  });

  it('suggests the command or flag meant, in one line with its code', async () => {
    const cmd = await aoinb(['sumbit']);
    expect(cmd.exitCode).toBe(2);
    expect(cmd.stderr).toBe("aoinb: unknown command 'sumbit' (did you mean submit?) [USAGE]");
    const flag = await aoinb(['submit', 'x', '--brnach', 'stable']);
    expect(flag.exitCode).toBe(2);
    expect(flag.stderr).toBe("aoinb: unknown option '--brnach' (did you mean --branch?) [USAGE]");
    const choice = await aoinb(['farm', 'up', '--log-format', 'xml']);
    expect(choice.stderr).toMatch(
      /^aoinb: option '--log-format <format>' argument 'xml' is invalid\. Allowed choices are auto, pretty, json\. \[USAGE\]$/,
    );
    expect((await aoinb(['cleanup'])).stderr).toBe("aoinb: missing required argument 'target' [USAGE]");
    expect((await aoinb(['update-baseos', 'now'])).stderr).toMatch(/too many arguments.*\[USAGE\]$/);
  });
});

describe('aoinb errors', () => {
  it('a user mistake is one line with its code; AOINB_DEBUG=1 adds the stack trace', async () => {
    const env = { AOINB_TOKEN_FILE: '/nonexistent', AOINB_URL: 'http://127.0.0.1:9' };
    const r = await aoinb(['status', '1'], env);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      'aoinb: AOINB_TOKEN_FILE=/nonexistent: cannot read the token file (ENOENT) [CONFIG_NOT_FOUND]',
    );
    const debug = await aoinb(['status', '1'], { ...env, AOINB_DEBUG: '1' });
    expect(debug.stderr).toMatch(/\[CONFIG_NOT_FOUND\]\n.*Error.*\n\s+at /);
    const down = await aoinb(['status'], { AOINB_URL: 'http://127.0.0.1:9', AOINB_TOKEN: 'x' });
    expect(down.exitCode).toBe(1);
    expect(down.stderr).toMatch(/^aoinb: cannot reach the coordinator at http:\/\/127\.0\.0\.1:9: .*\[UNAVAILABLE\]$/);
    const noSpec = await aoinb(['submit', tmp.dir, '--branch', 'stable'], {
      AOINB_URL: 'http://127.0.0.1:9',
      AOINB_TOKEN: 'x',
    });
    expect(noSpec.stderr).toMatch(/no spec file; not a bundle folder \[BUNDLE_INVALID\]$/);
  });

  it('-c CONFIG_DIR works before and after the command', async () => {
    const missing = path.join(tmp.dir, 'nope');
    for (const args of [
      ['-c', missing, 'status'],
      ['status', '-c', missing],
      ['status', `--config=${missing}`],
    ]) {
      const r = await aoinb(args, { AOINB_URL: '', AOINB_TOKEN: '' });
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/configuration folder .*nope does not exist/);
    }
  });
});

describe('aoinb colour', () => {
  /** Runs aoinb in a pseudo-terminal (util-linux script), as a user's shell would. */
  async function inTerminal(args: string, env: Record<string, string>): Promise<string> {
    const r = await execa('script', ['-qec', `${process.execPath} ${aoinbBin} ${args}`, '/dev/null'], {
      reject: false,
      extendEnv: false,
      env: plainEnv({ TERM: 'xterm', ...env }),
    });
    return r.stdout;
  }

  it('colours help and errors on a terminal, and never with NO_COLOR or when piped', async () => {
    expect(await inTerminal('--help', {})).toContain('\x1b[1mUsage:');
    expect(await inTerminal('sumbit', {})).toContain('\x1b[31maoinb:');
    expect(await inTerminal('--help', { NO_COLOR: '1' })).not.toContain('\x1b[');
    expect(await inTerminal('sumbit', { NO_COLOR: '1' })).not.toContain('\x1b[');
    expect((await aoinb(['--help'])).stdout).not.toContain('\x1b[');
  });
});

describe('aoinb completion and man page', () => {
  it('prints bash, zsh and fish scripts that their shells parse', async () => {
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const script = (await aoinb(['completion', shell])).stdout;
      expect(script).toContain('submit');
      const file = path.join(tmp.dir, `completion.${shell}`);
      await writeFile(file, script);
      const parsed = await execa(shell, ['-n', file], { reject: false });
      expect(parsed.exitCode, `${shell}: ${parsed.stderr}`).toBe(0);
    }
  });

  it('bash completes commands, sub-commands, options and choices', async () => {
    const script = (await aoinb(['completion', 'bash'])).stdout;
    const complete = async (words: string[]) => {
      const line = [
        `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
        `COMP_CWORD=${words.length - 1}`,
        '_aoinb',
        `printf '%s\\n' "\${COMPREPLY[@]}"`,
      ].join('; ');
      return (await execa('bash', ['-c', `${script}\n${line}`])).stdout.split('\n');
    };
    expect(await complete(['aoinb', 'su'])).toEqual(['submit']);
    expect(await complete(['aoinb', '-c', '/etc', 'stat'])).toEqual(['status']);
    expect(await complete(['aoinb', 'farm', ''])).toEqual(['up']);
    expect(await complete(['aoinb', 'farm', 'up', '--log-format', ''])).toEqual(['auto', 'pretty', 'json']);
    expect(await complete(['aoinb', 'logs', '--r'])).toEqual(['--run']);
    expect(await complete(['aoinb', 'group', 's'])).toEqual(['status']);
  });

  it('fish completes commands and options with their descriptions', async () => {
    const script = (await aoinb(['completion', 'fish'])).stdout;
    const file = path.join(tmp.dir, 'aoinb.fish');
    await writeFile(file, script);
    const complete = async (line: string) =>
      (await execa('fish', ['-c', `source ${file}; complete -C '${line}'`])).stdout.split('\n');
    expect(await complete('aoinb dow')).toEqual([expect.stringMatching(/^download\t.*SHA-256/)]);
    expect(await complete('aoinb farm ')).toEqual([expect.stringMatching(/^up\t/)]);
    expect(await complete('aoinb submit --no-')).toEqual([expect.stringMatching(/^--no-wait\t/)]);
  });

  it('the man page renders with man and groff and documents every command and option', async () => {
    const roff = (await aoinb(['man'])).stdout;
    const groff = await execa('groff', ['-man', '-Tutf8', '-ww', '-z'], { input: roff, reject: false });
    expect(groff.exitCode).toBe(0);
    expect(groff.stderr).toBe('');
    const page = join(
      (await execa('man', ['-l', '-'], { input: roff, env: { MANWIDTH: '200', MAN_KEEP_FORMATTING: '' } })).stdout,
    );
    expect(page).toMatch(/^AOINB\(1\)/);
    for (const c of commands) {
      expect(page).toContain(`aoinb ${c.path.join(' ')}`);
      for (const o of c.options) expect(page).toContain(o.flags);
    }
  });
});

/** man's output with overstrike (bold/underline) removed. */
function join(text: string): string {
  return text.replace(/.\x08/g, '');
}
