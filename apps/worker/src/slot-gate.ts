/**
 * The host's build slots, shared by its arch queues. With several arch tags the
 * agent pauses every queue's BullMQ worker while the slots are full and resumes
 * them when one frees; a job fetched in the instant before a pause is handed
 * straight back to its queue.
 */
export class SlotGate {
  private busy = 0;

  constructor(
    readonly slots: number,
    private readonly onChange: (full: boolean) => void,
  ) {}

  get used(): number {
    return this.busy;
  }

  tryTake(): boolean {
    if (this.busy >= this.slots) return false;
    this.busy += 1;
    if (this.busy === this.slots) this.onChange(true);
    return true;
  }

  release(): void {
    this.busy -= 1;
    if (this.busy === this.slots - 1) this.onChange(false);
  }
}
