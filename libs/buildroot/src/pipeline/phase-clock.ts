import type { BuildPhase } from '../build-types.ts';

/** Times each phase; the figures go into the build record. */
export class PhaseClock {
  readonly phases: Partial<Record<BuildPhase, number>> = {};
  async time<T>(phase: BuildPhase, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.phases[phase] = Math.round((this.phases[phase] ?? 0) + performance.now() - start);
    }
  }
}
