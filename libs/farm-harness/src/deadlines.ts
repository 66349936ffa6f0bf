/**
 * How long the harness waits for a farm to get somewhere (a task's state, a request's answer) before it calls it a
 * hang: a deadline, never a measure of speed (docs/contributing.md, "Deadlines in tests"); on a loaded 2-core CI
 * machine ordinary steps took over a minute.
 */
export const farmDeadlineMs = 120_000;

/**
 * How long the harness waits for a coordinator it started to answer `/healthz`, or a worker to heartbeat: as long
 * as the suite gives a whole test (vitest.config.ts), since under CI's load a farm's start-up took over 90 s.
 */
export const farmStartDeadlineMs = 300_000;
