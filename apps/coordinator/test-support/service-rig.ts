import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeEach, expect } from 'vitest';
import { loadConfig } from '@aoinb/config';
import { FarmHarness, farmTokens, packTestBundle, type FarmOptions, type TestBundle } from '@aoinb/farm-harness';
import { newAttemptKey, type BuildRecord, type TaskRecord } from '@aoinb/farm-protocol';
import { asFileFixture } from '@aoinb/testkit';
import { startCoordinator, type Coordinator } from '../src/coordinator.ts';
import type { CoordinatorContext } from '../src/context.ts';
import { buildServer } from '../src/http/server.ts';
import { inject } from './inject-fixture.ts';

/** One line the coordinator logged (pino's JSON). */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/**
 * A coordinator started in this process over a real redis-server, so its services are the code under test
 * (Stryker instruments them): its context, its routes for inject(), every line it logs, and the builds that
 * reached a final state (a lifecycle observer, as a layer over builds registers one).
 */
export interface ServiceRig {
  farm: FarmHarness;
  coordinator: Coordinator;
  ctx: CoordinatorContext;
  app: FastifyInstance;
  logs: LogLine[];
  ended: Array<{ task: TaskRecord; build: BuildRecord }>;
  /** The first line logged with `msg` (and passing `match`), waited for up to `ms`. */
  logged(msg: string, match?: (line: LogLine) => boolean, ms?: number): Promise<LogLine>;
  /** The first final build of that task and arch, waited for up to `ms`. */
  endOf(taskId: string, arch: string, ms?: number): Promise<BuildRecord>;
  /** POST /task, its bundle, branch `stable` and PUT /build for `archs`: the task id, its builds queued. */
  queued(bundle: TestBundle, archs: string[]): Promise<string>;
  /** A worker's claim of a queued (or lost running) build, through the store: its attempt and key. */
  claim(taskId: string, arch: string, builder: string): Promise<{ attempt: number; key: string; hash: string }>;
}

/** Waits until `find` answers, looking again at each event (a log line, a build's end); rejects past `ms`. */
function until<T>(find: () => T | undefined, waiters: Array<() => void>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(new Error(`no ${what} within ${ms} ms`));
    }, ms);
    const check = (): void => {
      if (settled) return;
      const found = find();
      if (found === undefined) {
        waiters.push(check);
        return;
      }
      settled = true;
      clearTimeout(timer);
      resolve(found);
    };
    check();
  });
}

/**
 * Registers a describe block's hooks: the farm's redis-server and config (no worker process), a coordinator
 * started in process with `reconcileIntervalMs` (default: none in the test's time: a test that plays the
 * worker holds running builds without an active job, which a periodic pass would requeue), its stalled
 * checkers live.
 */
export function useServiceRig(options: FarmOptions, reconcileIntervalMs = 3_600_000): ServiceRig {
  const waiters: Array<() => void> = [];
  const notify = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  const rig = { logs: [], ended: [] } as unknown as ServiceRig;
  const logger = pino({ level: 'debug' }, { write: (line: string) => (rig.logs.push(JSON.parse(line)), notify()) });
  rig.logged = (msg, match = () => true, ms = 20_000) =>
    until(() => rig.logs.find((l) => l.msg === msg && match(l)), waiters, ms, `log line "${msg}"`);
  rig.endOf = async (taskId, arch, ms = 20_000) =>
    (await until(() => rig.ended.find((e) => e.build.taskId === taskId && e.build.arch === arch), waiters, ms, 'end'))
      .build;
  rig.queued = async (bundle, archs) => {
    const token = farmTokens.maintainer;
    const id = (await inject(rig.app, 'POST', '/task', { token })).json<{ id: string }>().id;
    const archive = await packTestBundle(path.join(rig.farm.root, 'bundles'), bundle);
    const steps = [
      await inject(rig.app, 'PUT', `/task/${id}/build_bundle`, { token, body: archive }),
      await inject(rig.app, 'PUT', `/task/${id}/branch`, { token, body: 'stable' }),
      await inject(rig.app, 'PUT', `/task/${id}/build`, { token, body: { archs } }),
    ];
    expect(steps.map((s) => s.statusCode)).toEqual([201, 200, 202]);
    return id;
  };
  rig.claim = async (taskId, arch, builder) => {
    const task = (await rig.ctx.store.getTask(taskId)) as TaskRecord;
    const build = (await rig.ctx.store.getBuild(taskId, arch)) as BuildRecord;
    const key = newAttemptKey({ taskId, arch, run: build.run });
    const now = new Date();
    const outcome = await rig.ctx.store.transition({
      taskId,
      arch,
      archs: task.archs,
      run: build.run,
      from: ['queued', 'running'],
      to: 'running',
      incrementAttempt: true,
      set: { builder, attemptKeyHash: key.hash, startedAt: now.toISOString(), startedAtMs: now.getTime() },
      // As a worker's claim: placement's `waiting: ...` reason of the queued build goes.
      unset: ['reason', 'finishedAt'],
    });
    expect(outcome.done).toBe(true);
    return { attempt: outcome.attempt, ...key };
  };
  // Started in the first test's beforeEach, not in beforeAll: what the start runs (recovery's checkers and
  // first pass) then counts as that test's coverage, so Stryker reruns that test for a mutant of it, not
  // the whole mutation suite (code run outside any test is "static" to it). Still the file's, not that test's,
  // to the leak check (asFileFixture): closed in afterAll.
  beforeEach(async () => {
    if (rig.coordinator) return;
    await asFileFixture(async () => {
      rig.farm = await FarmHarness.create(options);
      const config = await loadConfig(await rig.farm.configDir('coordinator'));
      const listen = { host: '127.0.0.1', port: 0 };
      rig.coordinator = await startCoordinator({ config, logger, listen, reconcileIntervalMs });
      rig.ctx = rig.coordinator.context;
      rig.ctx.lifecycle.register({ ended: async (task, build) => void (rig.ended.push({ task, build }), notify()) });
      rig.app = await buildServer(rig.ctx);
      await rig.app.ready();
    });
  }, 60_000);
  afterAll(async () => {
    await rig.app?.close();
    await rig.coordinator?.close();
    await rig.farm?.stop();
  });
  return rig;
}
