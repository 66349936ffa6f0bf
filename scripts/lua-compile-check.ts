/**
 * Whether a mutant's Lua still compiles (scripts/lua-mutation.ts): each changed script is loaded into a
 * real redis-server with SCRIPT LOAD, which compiles without running. A mutant that does not compile is
 * reported as such; it still counts as killed only when a test failed on it.
 */
import { Redis } from 'ioredis';
import { startRedis } from '@aoinb/testkit';

export interface CompileCheck {
  /** '' when every script compiles, else the first error (script name and Redis's message). */
  check(scripts: ReadonlyMap<string, string>): Promise<string>;
  close(): Promise<void>;
}

export async function startCompileCheck(): Promise<CompileCheck> {
  const server = await startRedis();
  const redis = new Redis(server.url);
  return {
    async check(scripts) {
      for (const [name, lua] of scripts) {
        try {
          await redis.script('LOAD', lua);
        } catch (error) {
          return `${name}: ${error instanceof Error ? error.message : String(error)}`;
        }
      }
      await redis.script('FLUSH');
      return '';
    },
    async close() {
      redis.disconnect();
      await server.stop();
    },
  };
}
