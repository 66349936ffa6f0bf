/**
 * `tsx apps/worker/src/main.ts -c CONFIG_DIR [--executor nspawn|fake] [--fake-duration-ms N] [--fake-lines N]`
 * The worker agent as a process of its own (what `aoinb worker` starts).
 * SIGTERM/SIGINT stop it as `worker.on_shutdown` says; a second signal exits at once.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '@aoinb/logging';
import { toAoinbError } from '@aoinb/errors';
import { runWorker } from './run-worker.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', short: 'c', default: process.env.AOINB_CONFIG_DIR ?? '/var/cache/aoinb/conf' },
    executor: { type: 'string', default: 'nspawn' },
    'fake-duration-ms': { type: 'string' },
    'fake-lines': { type: 'string' },
    'on-shutdown': { type: 'string' },
  },
});

const logger = createLogger();
const controller = new AbortController();
for (const name of ['SIGTERM', 'SIGINT'] as const) {
  process.on(name, () => {
    if (controller.signal.aborted) process.exit(128 + (name === 'SIGINT' ? 2 : 15));
    logger.info({ signal: name }, 'stopping');
    controller.abort();
  });
}
const executor = values.executor === 'fake' ? 'fake' : 'nspawn';
const onShutdown = values['on-shutdown'] === 'finish' || values['on-shutdown'] === 'requeue' ? values['on-shutdown'] : undefined;
try {
  await runWorker({
    configDir: values.config,
    logger,
    signal: controller.signal,
    executor,
    onShutdown,
    fakePlan: {
      ...(values['fake-duration-ms'] ? { durationMs: Number(values['fake-duration-ms']) } : {}),
      ...(values['fake-lines'] ? { lines: Number(values['fake-lines']) } : {}),
    },
  });
  process.exit(0);
} catch (error) {
  const e = toAoinbError(error);
  logger.error({ code: e.code, err: e.message }, 'worker failed');
  process.stderr.write(`aoinb worker: ${e.message}\n`);
  process.exit(1);
}
