import type { Command } from '../command.ts';
import { coordinatorCommand, workerCommand } from './app-commands.ts';
import { buildCommand } from './build.ts';
import { buildersCommand } from './builders.ts';
import { cleanupCommand } from './cleanup.ts';
import { farmUpCommand } from './farm-up.ts';
import { groupCommand } from './group.ts';
import { loadBaseosCommand } from './load-baseos.ts';
import { logsCommand } from './logs.ts';
import { notifyCommand } from './notify.ts';
import { statusCommand } from './status.ts';
import { submitCommand } from './submit.ts';
import { cancelCommand, retryCommand } from './task-actions.ts';
import { updateBaseosCommand } from './update-baseos.ts';

/** Every `aoinb` sub-command, in the order `aoinb --help` lists them. */
export const commands: Command[] = [
  buildCommand,
  loadBaseosCommand,
  updateBaseosCommand,
  cleanupCommand,
  farmUpCommand,
  submitCommand,
  groupCommand,
  statusCommand,
  logsCommand,
  buildersCommand,
  cancelCommand,
  retryCommand,
  notifyCommand,
  workerCommand,
  coordinatorCommand,
];
