import { clientSettings, FarmClient } from '@aoinb/farm-client';
import type { CommandEnv } from '../command.ts';

/** The client for farm commands, from `--url`, the environment or the config folder. */
export async function farmClient(env: CommandEnv, url?: string): Promise<FarmClient> {
  return new FarmClient(await clientSettings(env.configDir, url));
}

export const terminalStates = new Set(['succeeded', 'failed', 'cancelled']);

export type TaskStatus = {
  id: string;
  state: string;
  branch: string | null;
  package: { name: string; version: string } | null;
  reason: string | null;
  jobs: Array<{
    arch: string;
    state: string;
    builder: string | null;
    attempt: number;
    started_at: string | null;
    finished_at: string | null;
    reason: string | null;
    artifacts: Array<{ name: string; size: number; sha256: string; url: string }>;
  }>;
};
