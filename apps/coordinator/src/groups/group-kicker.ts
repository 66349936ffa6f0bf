import type { Logger } from '@aoinb/logging';

/**
 * Runs `step(groupId)` soon after a kick, at most one at a time per group: a
 * kick during a run asks for one more run after it (kicks fold together).
 * Errors are logged; the reconcile loop kicks again later.
 */
export class GroupKicker {
  private readonly pending = new Map<string, { again: boolean }>();

  constructor(
    private readonly step: (groupId: string) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  kick(groupId: string): void {
    const current = this.pending.get(groupId);
    if (current) {
      current.again = true;
      return;
    }
    const state = { again: false };
    this.pending.set(groupId, state);
    void (async () => {
      try {
        do {
          state.again = false;
          await this.step(groupId).catch((error: Error) =>
            this.logger.warn(
              { groupId, err: error.message },
              'advancing a group failed; the reconcile loop tries again',
            ),
          );
        } while (state.again);
      } finally {
        this.pending.delete(groupId);
      }
    })();
  }

  /** Waits for the runs under way (at most `timeoutMs`). */
  async idle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
