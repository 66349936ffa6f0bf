import { CommanderError } from 'commander';
import { colourWanted, palette } from './colours.ts';
import { buildProgram } from './program.ts';
import { errorLines, exitStatusFor } from './usage-error.ts';

/** Ctrl-C and SIGTERM abort the command, which then releases mounts and exits. */
function stopSignal(): { signal: AbortSignal; exitCode: () => number | undefined } {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    process.on(name, () => {
      if (received) return;
      received = name;
      process.stderr.write(`\naoinb: ${name} received, stopping and cleaning up...\n`);
      controller.abort(new Error(name));
    });
  }
  return { signal: controller.signal, exitCode: () => (received ? 128 + (received === 'SIGINT' ? 2 : 15) : undefined) };
}

async function main(argv: string[]): Promise<number> {
  const stop = stopSignal();
  let status = 0;
  const program = buildProgram({
    stdout: process.stdout,
    stderr: process.stderr,
    signal: stop.signal,
    onStatus: (s) => (status = s),
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return stop.exitCode() ?? status;
  } catch (error) {
    if (stop.exitCode()) return stop.exitCode()!;
    // Help and --version end with exit code 0; commander has already printed its usage errors.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    process.stderr.write(errorLines(error, palette(colourWanted(process.stderr)), process.env.AOINB_DEBUG === '1'));
    return exitStatusFor(error);
  }
}

process.exitCode = await main(process.argv.slice(2));
