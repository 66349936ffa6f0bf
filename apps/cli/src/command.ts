import type { Logger } from '@aoinb/logging';

/** What every command receives from main: parsed global options and the stop signal. */
export interface CommandEnv {
  configDir: string;
  logger: Logger;
  /** Aborted on Ctrl-C or SIGTERM; commands release what they hold and return. */
  signal: AbortSignal;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface Command {
  name: string;
  usage: string;
  summary: string;
  /** Resolves to the process exit status. */
  run(args: string[], env: CommandEnv): Promise<number>;
}
