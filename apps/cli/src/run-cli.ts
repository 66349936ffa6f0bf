import { CommanderError } from 'commander';
import { colourWanted, palette } from './colours.ts';
import { buildProgram, type ProgramIo } from './program.ts';
import { errorLines, exitStatusFor } from './usage-error.ts';

export interface CliIo extends Omit<ProgramIo, 'onStatus'> {
  /** The exit status a stop signal (Ctrl-C, SIGTERM) asks for, once one arrived. */
  stopStatus(): number | undefined;
}

/**
 * One `aoinb` command line, to its exit status: main.ts runs it on the process's own
 * streams; the CLI's help tests run many in one process (test-support/run-many.ts).
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let status = 0;
  const program = buildProgram({ ...io, onStatus: (s) => (status = s) });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return io.stopStatus() ?? status;
  } catch (error) {
    const stopped = io.stopStatus();
    if (stopped) return stopped;
    // Help and --version end with exit code 0; commander has already printed its usage errors.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    io.stderr.write(errorLines(error, palette(colourWanted(io.stderr)), process.env.AOINB_DEBUG === '1'));
    return exitStatusFor(error);
  }
}
