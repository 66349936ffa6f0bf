import type { Command } from 'commander';
import { clientSettings, FarmClient } from '@aoinb/farm-client';
import { finalTaskStates } from '@aoinb/farm-contract/states';
import type { CommandEnv } from '../command.ts';

/** Options every farm command has: `--url` (else AOINB_URL or the config) and, where it prints data, `--json`. */
export function farmOptions(command: Command, json = true): Command {
  command.option('--url <url>', 'coordinator URL (default: AOINB_URL, else [coordinator] public_url of the config)');
  if (json) command.option('--json', 'print JSON instead of text');
  return command;
}

export interface FarmOpts {
  url?: string;
  json?: boolean;
}

export function printJson(env: CommandEnv, value: unknown): void {
  env.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The client for farm commands, from `--url`, the environment or the config folder. */
export async function farmClient(env: CommandEnv, url?: string): Promise<FarmClient> {
  return new FarmClient(await clientSettings(env.configDir, url));
}

/** A task in one of these states changes no more. */
export const terminalStates: ReadonlySet<string> = new Set(finalTaskStates);
