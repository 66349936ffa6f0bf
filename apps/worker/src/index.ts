export { startWorkerAgent, type WorkerAgent, type WorkerAgentOptions, type ShutdownMode } from './agent.ts';
export { runWorker, type RunWorkerOptions } from './run-worker.ts';
export { realExecutor, type Executor, type PackageHints } from './executor.ts';
