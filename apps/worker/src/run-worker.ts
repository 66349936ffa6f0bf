import { once } from 'node:events';
import { loadConfig, type AoinbConfig } from '@aoinb/config';
import type { Logger } from '@aoinb/logging';
import { startWorkerAgent, type ShutdownMode } from './agent.ts';
import { realExecutor, type Executor } from './executor.ts';
import { startWorkerMetrics } from './metrics/start-worker-metrics.ts';

export interface RunWorkerOptions {
  configDir: string;
  logger: Logger;
  /** Aborting stops the agent: no new jobs; running ones handed back or finished (`worker.on_shutdown`). */
  signal: AbortSignal;
  /** Default: the real pipeline. Only the test-only entry point passes another. */
  makeExecutor?: (config: AoinbConfig, logger: Logger) => Executor;
  /** Overrides `worker.on_shutdown`. */
  onShutdown?: ShutdownMode;
}

/** Runs a worker agent from a config folder until the signal aborts. */
export async function runWorker(options: RunWorkerOptions): Promise<void> {
  const config = await loadConfig(options.configDir);
  const executor: Executor = (options.makeExecutor ?? realExecutor)(config, options.logger);
  const metrics = await startWorkerMetrics(config, executor.name, options.logger);
  try {
    const agent = await startWorkerAgent({
      config,
      logger: options.logger,
      executor,
      observer: metrics.observer,
      signal: options.signal,
    });
    if (!options.signal.aborted) await once(options.signal, 'abort');
    await agent.stop(options.onShutdown);
  } finally {
    await metrics.close();
  }
}
