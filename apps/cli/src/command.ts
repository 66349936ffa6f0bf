import type { Command } from 'commander';
import type { Logger } from '@aoinb/logging';
import type { Palette } from './colours.ts';

/** What every command's action receives: parsed global options, the stop signal, where to write. */
export interface CommandEnv {
  configDir: string;
  logger: Logger;
  /** Aborted on Ctrl-C or SIGTERM; commands release what they hold and return. */
  signal: AbortSignal;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Colours for stdout (identity functions when colour is off). */
  paint: Palette;
}

/** Turns a command's work into a commander action: builds its env and records its exit status. */
export interface CliRuntime {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander passes untyped operands and options
  action<T extends any[]>(work: (env: CommandEnv, ...args: T) => Promise<number>): (...args: any[]) => Promise<void>;
}

/**
 * One command (or family of commands) of `aoinb`: adds itself to the program with
 * commander's `.command()`; help, completion and the man page all read these definitions.
 */
export type Registration = (program: Command, runtime: CliRuntime) => void;
