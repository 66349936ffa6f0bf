import { AoinbError } from '@aoinb/errors';
import { attemptKeyHeader, type Refusal } from '@aoinb/farm-protocol';
import type { CoordinatorContext } from '../context.ts';

/** Who addressed the build: a worker call names the task, arch, run and attempt. */
export interface Addressed {
  taskId: string;
  arch: string;
  run: number;
  attempt: number;
}

/** What the build is now (from the refusing script). */
export interface Current {
  refusal: Refusal;
  state: string;
  run: number;
  attempt: number;
}

/**
 * Turns a guarded script's refusal of a worker call into the error the worker
 * gets, and logs calls for a run or attempt that is no longer current: a stale
 * worker (frozen, cut off, lost its lease) talking about work that was moved on.
 */
export function refusalError(ctx: CoordinatorContext, what: string, at: Addressed, now: Current): AoinbError {
  const build = `task ${at.taskId} (${at.arch})`;
  const where = `run ${now.run} attempt ${now.attempt}`;
  switch (now.refusal) {
    case 'gone':
      return new AoinbError('NOT_FOUND', `task ${at.taskId} has no build for ${at.arch}`);
    case 'key':
      return new AoinbError(
        'FORBIDDEN',
        `${build}: the ${attemptKeyHeader} header is missing or not the running attempt's key`,
      );
    case 'run':
    case 'attempt':
      ctx.logger.warn(
        { ...at, current: { run: now.run, attempt: now.attempt, state: now.state } },
        `stale ${what} refused`,
      );
      return new AoinbError(
        'STALE_ATTEMPT',
        `${build} is at ${where} (${now.state}); the ${what} of run ${at.run} attempt ${at.attempt} is no ` +
          `longer current and was not applied`,
      );
    default:
      return new AoinbError(
        'CONFLICT',
        `${build} is ${now.state} at ${where}; the ${what} of run ${at.run} attempt ${at.attempt} was not applied`,
      );
  }
}
