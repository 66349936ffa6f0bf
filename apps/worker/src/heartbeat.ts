import type { Logger } from '@aoinb/logging';
import {
  farmKeys,
  runWithRestart,
  writeHeartbeat,
  type BuilderFacts,
  type FarmKeys,
  type RedisClient,
} from '@aoinb/farm-protocol';
import { collectHostFacts, type HostFactsInput } from './host-facts.ts';
import type { RunningJob } from './running-job.ts';

export const agentVersion = '0.1.0';

export interface HeartbeatDeps {
  redis: RedisClient;
  logger: Logger;
  intervalSeconds: number;
  facts: () => HostFactsInput;
  running: () => RunningJob[];
  /** Why the host should take no jobs now (host-guard.ts); the agent pauses on it and the heartbeat says it. */
  check?: (facts: BuilderFacts) => Promise<string | undefined>;
  /** The farm's key names (`[redis] prefix`); default `{aoinb}`. */
  keys?: FarmKeys;
}

/** The record outlives a few missed beats, then expires: the builder shows offline. */
export function heartbeatTtlSeconds(intervalSeconds: number): number {
  return Math.max(3 * intervalSeconds, intervalSeconds + 5);
}

/**
 * One beat: host facts with a TTL, and a look at the cancel flags of running
 * builds (a missed pub/sub message is caught here), of their own run and
 * attempt only: a flag of another run or attempt is not theirs.
 */
export async function beat(deps: HeartbeatDeps): Promise<BuilderFacts> {
  const facts = await collectHostFacts(deps.facts());
  const pausedReason = await deps.check?.(facts);
  if (pausedReason && facts.mode === 'active') facts.mode = 'paused';
  if (pausedReason) facts.pausedReason = pausedReason;
  const keys = deps.keys ?? farmKeys;
  await writeHeartbeat(deps.redis, facts, heartbeatTtlSeconds(deps.intervalSeconds), keys);
  const running = deps.running();
  if (running.length > 0) {
    const pipeline = deps.redis.pipeline();
    for (const job of running)
      pipeline.hmget(keys.build(job.data.taskId, job.data.arch), 'cancelRequested', 'run', 'attempt');
    const flags = (await pipeline.exec()) ?? [];
    running.forEach((job, i) => {
      const [cancel, run, attempt] = (flags[i]?.[1] ?? []) as Array<string | null>;
      const ours = Number(run) === job.data.run && (job.attempt === 0 || Number(attempt) === job.attempt);
      if (cancel === '1' && ours) job.abort('cancel');
    });
  }
  return facts;
}

/** The heartbeat loop, until the signal aborts; errors are logged and retried with backoff. */
export function runHeartbeat(deps: HeartbeatDeps, signal: AbortSignal): Promise<void> {
  return runWithRestart(
    'heartbeat',
    deps.logger,
    signal,
    async () => {
      await beat(deps);
    },
    deps.intervalSeconds * 1000,
  );
}
