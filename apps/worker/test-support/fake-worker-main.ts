/**
 * TEST-ONLY: `tsx apps/worker/test-support/fake-worker-main.ts -c CONFIG_DIR
 * [--fake-duration-ms N] [--fake-lines N]`: a worker agent whose executor sleeps
 * and makes a tiny .deb (farm tests and benchmarks). Never shipped as a service.
 */
import { workerProcess } from '../src/worker-process.ts';
import { fakeExecutor } from './fake-executor.ts';

const number = (flag: string): number | undefined => {
  const at = process.argv.indexOf(flag);
  return at > 0 && process.argv[at + 1] !== undefined ? Number(process.argv[at + 1]) : undefined;
};
const durationMs = number('--fake-duration-ms');
const lines = number('--fake-lines');

await workerProcess(
  {
    makeExecutor: () =>
      fakeExecutor({ ...(durationMs !== undefined ? { durationMs } : {}), ...(lines !== undefined ? { lines } : {}) }),
  },
  { 'fake-duration-ms': { help: 'how long each fake build takes' }, 'fake-lines': { help: 'log lines per build' } },
);
