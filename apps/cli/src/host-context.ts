import { loadConfig } from '@aoinb/config';
import { recoverStaleState, workLayout, type BuildrootContext } from '@aoinb/buildroot';
import { AoinbError } from '@aoinb/errors';
import type { CommandEnv } from './command.ts';

/** Loads the config for a host command, checks for root, and cleans up after dead builds. */
export async function hostContext(env: CommandEnv): Promise<BuildrootContext> {
  if (process.getuid?.() !== 0) {
    throw new AoinbError('NOT_ROOT', 'this command mounts OverlayFS and runs systemd-nspawn: run it as root');
  }
  const config = await loadConfig(env.configDir);
  const ctx = { config, logger: env.logger };
  await recoverStaleState(workLayout(config.workDir), env.logger);
  return ctx;
}
