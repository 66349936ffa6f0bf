/**
 * `node apps/coordinator/dist/main.js -c CONFIG_DIR` (or tsx on src/main.ts): the coordinator as a process
 * of its own. SIGTERM/SIGINT close it cleanly; a second signal exits at once.
 */
import { once } from 'node:events';
import { loadConfig, parseEntryArgs } from '@aoinb/config';
import { toAoinbError } from '@aoinb/errors';
import { createLogger } from '@aoinb/logging';
import { startCoordinator } from './coordinator.ts';

const { configDir } = parseEntryArgs({
  app: 'coordinator',
  packageJson: new URL('../package.json', import.meta.url),
  about:
    'The coordinator: the REST API ([coordinator] listen), the job queues in Redis and the package repositories. ' +
    'It prints {"url": ...} once it listens. SIGTERM or SIGINT closes it cleanly; a second one exits at once.',
});
const logger = createLogger();
const controller = new AbortController();
for (const name of ['SIGTERM', 'SIGINT'] as const) {
  process.on(name, () => {
    if (controller.signal.aborted) process.exit(128 + (name === 'SIGINT' ? 2 : 15));
    controller.abort();
  });
}
try {
  const config = await loadConfig(configDir);
  const coordinator = await startCoordinator({ config, logger });
  process.stdout.write(`${JSON.stringify({ url: coordinator.url })}\n`);
  if (!controller.signal.aborted) await once(controller.signal, 'abort');
  await coordinator.close();
  process.exit(0);
} catch (error) {
  const e = toAoinbError(error);
  process.stderr.write(`aoinb coordinator: ${e.message}\n`);
  process.exit(1);
}
