import { Command, Option } from 'commander';
import { defaultConfigDir } from '@aoinb/config';
import { AoinbError } from '@aoinb/errors';
import { colourWanted, palette } from './colours.ts';
import type { CliRuntime, CommandEnv } from './command.ts';
import { registrations } from './commands/index.ts';
import { usageLine } from './usage-error.ts';
import { cliVersion } from './version.ts';

export interface ProgramIo {
  stdout: NodeJS.WriteStream | (NodeJS.WritableStream & { isTTY?: boolean });
  stderr: NodeJS.WriteStream | (NodeJS.WritableStream & { isTTY?: boolean });
  signal: AbortSignal;
  /** Receives each command's exit status. */
  onStatus(status: number): void;
}

function styleHelp(program: Command, io: ProgramIo): void {
  const p = palette(colourWanted(io.stdout));
  program.configureHelp({
    showGlobalOptions: true,
    sortSubcommands: false,
    styleTitle: p.bold,
    styleCommandText: p.cyan,
    styleSubcommandText: p.cyan,
    styleOptionText: p.yellow,
    styleArgumentText: p.green,
  });
  program.configureOutput({
    writeOut: (text) => io.stdout.write(text),
    writeErr: (text) => io.stderr.write(text),
    getOutHasColors: () => p.enabled,
    getErrHasColors: () => colourWanted(io.stderr),
    // Commander's own usage errors, as one line with a code (suggestions included).
    outputError: (text, write) => write(`${usageLine(text, palette(colourWanted(io.stderr)))}\n`),
  });
}

/** `aoinb help [COMMAND...]`: the help of any command, nested ones too (`aoinb help farm up`). */
function addHelpCommand(program: Command, io: ProgramIo): void {
  // One help command, at the top: commands with sub-commands (farm, group) get no `help` of their own.
  const walk = (c: Command): void => c.commands.forEach((sub) => (sub.helpCommand(false), walk(sub)));
  walk(program);
  program
    .command('help')
    .summary('show help for a command')
    .argument('[command...]', 'the command, e.g. submit or farm up')
    .action((words: string[]) => {
      let at = program;
      for (const word of words) {
        const next = at.commands.find((c) => c.name() === word && c.name() !== 'help');
        if (!next) throw new AoinbError('USAGE', `no command "${words.join(' ')}" (see aoinb --help)`);
        at = next;
      }
      at.outputHelp();
      io.onStatus(0);
    });
}

/**
 * The whole `aoinb` command line, from the registrations in commands/index.ts.
 * Help, `--version`, suggestions, completion and the man page all come from it.
 */
export function buildProgram(io: ProgramIo): Command {
  const program = new Command('aoinb');
  program
    .description(
      'aoinb builds AOSC OS packages: on this host (build, load-baseos, update-baseos, ' +
        'cleanup) or over a build farm (submit, status, logs, ...)',
    )
    .version(cliVersion, '-V, --version', 'print the version of aoinb')
    .addOption(
      new Option('-c, --config <dir>', 'configuration folder (config.toml, source_lists/)')
        .env('AOINB_CONFIG_DIR')
        .default(defaultConfigDir),
    )
    .helpOption('-h, --help', 'show help for a command')
    .helpCommand(false)
    .showSuggestionAfterError(true)
    .exitOverride();
  styleHelp(program, io);
  program.addHelpText(
    'after',
    `\nEnvironment: AOINB_URL, AOINB_TOKEN / AOINB_TOKEN_FILE (farm commands), NO_COLOR, ` +
      `AOINB_DEBUG=1 (stack traces).\nRun "aoinb help COMMAND" or "aoinb COMMAND --help" for a command's options; ` +
      `"aoinb completion bash|zsh|fish" for shell completion.\n`,
  );
  const runtime: CliRuntime = {
    action:
      (work) =>
      async (...params: unknown[]) => {
        const command = params[params.length - 1] as Command;
        // pino loads when a command runs, not for --help (see apps/cli/bench/startup.ts).
        const { createLogger } = await import('@aoinb/logging');
        const env: CommandEnv = {
          configDir: command.optsWithGlobals<{ config: string }>().config,
          logger: createLogger(),
          signal: io.signal,
          stdout: io.stdout,
          stderr: io.stderr,
          paint: palette(colourWanted(io.stdout)),
        };
        io.onStatus(await (work as (env: CommandEnv, ...args: unknown[]) => Promise<number>)(env, ...params));
      },
  };
  for (const register of registrations) register(program, runtime);
  addHelpCommand(program, io);
  return program;
}
