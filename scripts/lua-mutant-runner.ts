/**
 * Runs the store tests against one mutant after another in one Vitest instance (scripts/lua-mutation.ts).
 * Starting Vitest per mutant costs 10 s of CPU on this machine before a test runs; one instance keeps its
 * transform cache, and each run still starts fresh test workers (pool `forks`), so no module of a
 * mutant outlives its run. The mutant is served in place of the tracked file by a plugin (its text is
 * also in the run's sandbox under /tmp): the checkout is never written, so an interrupted run leaves it clean.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import type { Plugin } from 'vite';
import { createVitest, type TestSpecification, type Vitest } from 'vitest/node';

export type RunStatus = 'killed' | 'timeout' | 'survived';

export interface MutantRun {
  readonly status: RunStatus;
  /** The first failing test (`file > name`) or error, when killed. */
  readonly killedBy: string;
  readonly ms: number;
}

export interface MutantRunner {
  /** The test files run against the target's mutants (those whose imports reach it). */
  readonly testFiles: readonly string[];
  /** Runs the tests (or those of `files`) with `source` served as the target file (null: the tracked file). */
  run(source: string | null, timeoutMs: number, files?: readonly string[]): Promise<MutantRun>;
  /** The test files that fail with `source` served, each run to its end (no bail). */
  failingFiles(source: string, timeoutMs: number): Promise<string[]>;
  close(): Promise<void>;
}

function overlayPlugin(target: string, overlay: { source: string | null }): Plugin {
  return {
    name: 'aoinb-lua-mutant',
    enforce: 'pre',
    load(id) {
      if (overlay.source === null) return null;
      return path.resolve(id.replace(/\?.*$/, '')) === target ? overlay.source : null;
    },
  };
}

/** `file > test name` of the first failure of a run, or its first unhandled error. */
function firstFailure(
  result: Awaited<ReturnType<Vitest['runTestSpecifications']>>,
  root: string,
  ran: string[],
): string {
  // The result also lists modules of earlier runs (a probe's failures): only the files of this run count.
  for (const module of result.testModules.filter((m) => ran.includes(m.moduleId))) {
    const file = path.relative(root, module.moduleId);
    for (const test of module.children.allTests('failed')) return `${file} > ${test.fullName}`;
    if (!module.ok()) return `${file} (${module.state()}: ${module.errors()[0]?.message ?? 'no test ran'})`;
  }
  const error = result.unhandledErrors[0];
  return error === undefined ? '' : `unhandled error: ${error instanceof Error ? error.message : inspect(error)}`;
}

/**
 * Whether every test of the run's files ran to an end (passed or failed; skipped only when written so).
 * A run can end early without a failure of its own (seen under load: a mutant that two store tests kill
 * reported survived after a 2 s run; most likely the bail cancel of the run before it landing late), and
 * must not count as survived.
 */
function ranToTheEnd(result: Awaited<ReturnType<Vitest['runTestSpecifications']>>, ran: string[]): boolean {
  const modules = result.testModules.filter((m) => ran.includes(m.moduleId));
  if (modules.length !== new Set(ran).size) return false;
  return modules.every((module) =>
    [...module.children.allTests()].every((test) => {
      const { state } = test.result();
      return state === 'passed' || state === 'failed' || test.options.mode === 'skip' || test.options.mode === 'todo';
    }),
  );
}

async function runOnce(vitest: Vitest, specs: TestSpecification[], timeoutMs: number, root: string) {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const running = vitest.runTestSpecifications(specs);
  const outcome = await Promise.race([running, deadline]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    await vitest.cancelCurrentRun('test-failure');
    await running.catch(() => undefined);
    const killedBy = `no answer within ${timeoutMs} ms`;
    return { status: 'timeout' as const, killedBy, ms: Date.now() - started, complete: true };
  }
  const ran = specs.map((s) => s.moduleId);
  const killedBy = firstFailure(outcome, root, ran);
  const status = killedBy ? ('killed' as const) : ('survived' as const);
  return { status, killedBy, ms: Date.now() - started, complete: killedBy !== '' || ranToTheEnd(outcome, ran) };
}

/** runOnce, again while a run without a failure did not run all its tests (at most `tries` runs). */
async function runToTheEnd(vitest: Vitest, specs: TestSpecification[], timeoutMs: number, root: string, tries = 3) {
  for (let i = 1; ; i++) {
    const { complete, ...outcome } = await runOnce(vitest, specs, timeoutMs, root);
    if (complete) return outcome;
    if (i === tries) throw new Error(`${tries} runs in a row stopped before their tests ended, none failing`);
    console.log(`  (the run stopped before its tests ended, none failing: run again)`);
  }
}

/** A runner for the mutants of `target` (absolute path), with the tests `testFiles` (absolute paths). */
export async function startMutantRunner(root: string, target: string, testFiles: string[]): Promise<MutantRunner> {
  const overlay: { source: string | null } = { source: null };
  const vitest = await createVitest(
    'test',
    {
      config: path.join(root, 'scripts/vitest.lua-mutation.config.ts'),
      root,
      watch: false,
      bail: 1,
      reporters: [{}],
    },
    { plugins: [overlayPlugin(target, overlay)] },
  );
  const specs = (await vitest.globTestSpecifications()).filter((s) => testFiles.includes(s.moduleId));
  if (specs.length === 0) throw new Error(`no test of the mutation config reaches ${target}`);
  return {
    testFiles: specs.map((s) => s.moduleId),
    async run(source, timeoutMs, files) {
      overlay.source = source;
      vitest.invalidateFile(target);
      return runToTheEnd(vitest, files ? specs.filter((s) => files.includes(s.moduleId)) : specs, timeoutMs, root);
    },
    async failingFiles(source, timeoutMs) {
      overlay.source = source;
      vitest.invalidateFile(target);
      vitest.config.bail = 0;
      const deadline = new AbortController();
      try {
        const timer = sleep(timeoutMs, undefined, { signal: deadline.signal }).catch(() => undefined);
        const result = await Promise.race([vitest.runTestSpecifications(specs), timer]);
        if (!result) throw new Error(`the probe run of ${target} took more than ${timeoutMs} ms`);
        return result.testModules.filter((m) => !m.ok()).map((m) => m.moduleId);
      } finally {
        deadline.abort();
        vitest.config.bail = 1;
      }
    },
    close: () => vitest.close(),
  };
}
