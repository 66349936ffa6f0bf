import { parseArgs } from 'node:util';
import { toAoinbError } from '@aoinb/errors';
import { createLogger } from '@aoinb/logging';
import { runWorker, type RunWorkerOptions } from './run-worker.ts';

/**
 * A worker agent as a process: `-c CONFIG_DIR [--on-shutdown requeue|finish]`.
 * SIGTERM/SIGINT stop it as `worker.on_shutdown` says; a second signal exits at once.
 * Unknown options are an error (strict), so no test-only switch exists here.
 */
export async function workerProcess(
  extra: Pick<RunWorkerOptions, 'makeExecutor'> = {},
  extraOptions: Record<string, { type: 'string' }> = {},
): Promise<Record<string, string | undefined>> {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        config: { type: 'string', short: 'c', default: process.env.AOINB_CONFIG_DIR ?? '/var/cache/aoinb/conf' },
        'on-shutdown': { type: 'string' },
        ...extraOptions,
      },
    }) as { values: Record<string, string | undefined> });
  } catch (error) {
    process.stderr.write(`aoinb worker: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const logger = createLogger();
  const controller = new AbortController();
  for (const name of ['SIGTERM', 'SIGINT'] as const) {
    process.on(name, () => {
      if (controller.signal.aborted) process.exit(128 + (name === 'SIGINT' ? 2 : 15));
      logger.info({ signal: name }, 'stopping');
      controller.abort();
    });
  }
  const shutdown = values['on-shutdown'];
  const onShutdown = shutdown === 'finish' || shutdown === 'requeue' ? shutdown : undefined;
  try {
    await runWorker({ configDir: values.config!, logger, signal: controller.signal, onShutdown, ...extra });
    process.exit(0);
  } catch (error) {
    const e = toAoinbError(error);
    logger.error({ code: e.code, err: e.message }, 'worker failed');
    process.stderr.write(`aoinb worker: ${e.message}\n`);
    process.exit(1);
  }
}
