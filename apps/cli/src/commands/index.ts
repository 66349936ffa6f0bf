import type { Command } from '../command.ts';
import { buildCommand } from './build.ts';
import { cleanupCommand } from './cleanup.ts';
import { loadBaseosCommand } from './load-baseos.ts';
import { updateBaseosCommand } from './update-baseos.ts';

/** Every `aoinb` sub-command, in the order `aoinb --help` lists them. */
export const commands: Command[] = [buildCommand, loadBaseosCommand, updateBaseosCommand, cleanupCommand];
