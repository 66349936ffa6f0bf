import { AoinbError } from '@aoinb/errors';

/**
 * Checks of what Redis answers to a store's writes. Neither a MULTI nor a Lua script is undone
 * when one of its commands fails: ioredis resolves `exec()` with one `[error, reply]` pair per
 * command, and a script's `redis.pcall` hands the error back. Either is turned into one error
 * that names the command and its key, instead of a write that looks done.
 */

/** The reply of create-task-script.ts: 1 created, 0 refused, or `{-1, command, key, error}`. */
export function createdOrThrow(reply: unknown, taskId: string): boolean {
  if (reply === 1 || reply === 0) return reply === 1;
  if (Array.isArray(reply) && reply[0] === -1) {
    const [, command, key, error] = reply as [number, string, string, string];
    throw new AoinbError(
      'STORE_COMMAND_FAILED',
      `creating task ${taskId}: ${command} ${key} failed: ${error}; nothing was written`,
    );
  }
  throw new AoinbError(
    'STORE_COMMAND_FAILED',
    `creating task ${taskId}: unexpected script reply ${JSON.stringify(reply)}`,
  );
}

/**
 * Fails on the first command of a MULTI whose reply is an error (`commands` names them in
 * order, with their keys), or when the transaction was discarded (`null`).
 */
export function checkExec(what: string, commands: readonly string[], replies: Array<[Error | null, unknown]> | null) {
  if (!replies) throw new AoinbError('STORE_COMMAND_FAILED', `${what}: the transaction was discarded`);
  replies.forEach(([error], i) => {
    if (error) {
      const command = commands[i] ?? `command ${i + 1}`;
      throw new AoinbError('STORE_COMMAND_FAILED', `${what}: ${command} failed: ${error.message}`);
    }
  });
}
