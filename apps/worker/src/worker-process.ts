import { parseEntryArgs, shutdownModes, type ShutdownMode } from '@aoinb/config';
import { toAoinbError } from '@aoinb/errors';
import { createLogger } from '@aoinb/logging';
import { runWorker, type RunWorkerOptions } from './run-worker.ts';

/**
 * A worker agent as a process: `-c CONFIG_DIR [--on-shutdown requeue|finish]`.
 * SIGTERM/SIGINT stop it as `worker.on_shutdown` says; a second signal exits at once.
 * Unknown options are an error (strict, exit 2), so no test-only switch exists here.
 */
export async function workerProcess(
  extra: Pick<RunWorkerOptions, 'makeExecutor'> = {},
  extraOptions: Record<string, { help: string }> = {},
): Promise<void> {
  const { configDir, values } = parseEntryArgs({
    app: 'worker',
    packageJson: new URL('../package.json', import.meta.url),
    about:
      'A worker agent: pulls build jobs for [worker] archs from the farm and builds them on this host (root). ' +
      'SIGTERM or SIGINT stops it as --on-shutdown (or [worker] on_shutdown) says; a second one exits at once.',
    options: {
      'on-shutdown': { help: 'requeue | finish: what SIGTERM does with running builds', choices: shutdownModes },
      ...extraOptions,
    },
  });
  const onShutdown = values['on-shutdown'] as ShutdownMode | undefined;
  const logger = createLogger();
  const controller = new AbortController();
  for (const name of ['SIGTERM', 'SIGINT'] as const) {
    process.on(name, () => {
      if (controller.signal.aborted) process.exit(128 + (name === 'SIGINT' ? 2 : 15));
      logger.info({ signal: name }, 'stopping');
      controller.abort();
    });
  }
  try {
    await runWorker({ configDir, logger, signal: controller.signal, onShutdown, ...extra });
    process.exit(0);
  } catch (error) {
    const e = toAoinbError(error);
    logger.error({ code: e.code, err: e.message }, 'worker failed');
    process.stderr.write(`aoinb worker: ${e.message}\n`);
    process.exit(1);
  }
}
