/**
 * `tsx apps/coordinator/src/main.ts -c CONFIG_DIR`: the coordinator as a process
 * of its own. SIGTERM/SIGINT close it cleanly; a second signal exits at once.
 */
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { loadConfig } from '@aoinb/config';
import { toAoinbError } from '@aoinb/errors';
import { createLogger } from '@aoinb/logging';
import { startCoordinator } from './coordinator.ts';

const { values } = parseArgs({
  options: { config: { type: 'string', short: 'c', default: process.env.AOINB_CONFIG_DIR ?? '/var/cache/aoinb/conf' } },
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
  const config = await loadConfig(values.config);
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
