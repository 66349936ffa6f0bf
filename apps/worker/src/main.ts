/**
 * `tsx apps/worker/src/main.ts -c CONFIG_DIR [--on-shutdown requeue|finish]`
 * The production worker agent (what `aoinb worker` starts): always the real
 * pipeline. The fake executor has its own test-only entry point
 * (test-support/fake-worker-main.ts) and is not reachable from here.
 */
import { workerProcess } from './worker-process.ts';

await workerProcess();
