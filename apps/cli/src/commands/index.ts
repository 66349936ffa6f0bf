import type { Registration } from '../command.ts';
import { registerAppCommands } from './app-commands.ts';
import { registerBuild } from './build.ts';
import { registerBuilders } from './builders.ts';
import { registerDownload } from './download.ts';
import { registerFarm } from './farm-up.ts';
import { registerGroup } from './group.ts';
import { registerHostCommands } from './host-commands.ts';
import { registerLogs } from './logs.ts';
import { registerNotify } from './notify.ts';
import { registerRepublish } from './republish.ts';
import { registerShellDocs } from './shell-docs.ts';
import { registerStatus } from './status.ts';
import { registerSubmit } from './submit.ts';
import { registerTaskActions } from './task-actions.ts';

/**
 * Every `aoinb` command, in the order `aoinb --help` lists them. A new command is a
 * file exporting a Registration, added here: help, completion and the man page follow.
 */
export const registrations: Registration[] = [
  registerBuild,
  registerHostCommands,
  registerFarm,
  registerSubmit,
  registerGroup,
  registerStatus,
  registerLogs,
  registerDownload,
  registerBuilders,
  registerTaskActions,
  registerRepublish,
  registerNotify,
  registerAppCommands,
  registerShellDocs,
];
