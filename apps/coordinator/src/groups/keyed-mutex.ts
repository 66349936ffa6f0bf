/**
 * Runs tasks one at a time per key (a group id), in arrival order. Every
 * change to one group (advance, settle, cancel, retry) goes through it, so the
 * event follower, the reconcile loop and the API never interleave on a group
 * inside this coordinator; the Lua scripts guard against anything else.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
