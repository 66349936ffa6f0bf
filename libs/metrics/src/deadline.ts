/** Thrown by `withDeadline` when the work did not finish in time. */
export class DeadlineExceeded extends Error {
  constructor(what: string, ms: number) {
    super(`${what} took longer than ${ms} ms`);
    this.name = 'DeadlineExceeded';
  }
}

/**
 * Resolves with the work's value, or rejects once `ms` have passed. A scrape
 * must answer even while Redis is unreachable (ioredis queues commands while it
 * reconnects), so every collector that talks to Redis runs under a deadline. The
 * work's own late rejection is swallowed.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(what, ms)), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
