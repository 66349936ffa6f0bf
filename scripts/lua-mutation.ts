/**
 * Mutation testing of the farm's Lua state scripts (docs/testing.md, "Lua mutation testing"). Stryker
 * mutates TypeScript only, so each Lua script is one mutant for it (the string emptied); this tester
 * mutates the Lua itself (scripts/lua-mutants.ts), serves each mutant in place of its file to the store
 * tests that import it (scripts/lua-mutant-runner.ts, a real redis-server per test file), and reports.
 *
 *   node --import tsx scripts/lua-mutation.ts                        # every script file, transitions first
 *   node --import tsx scripts/lua-mutation.ts --file transition-script --max 40
 *   node --import tsx scripts/lua-mutation.ts --survivors            # only the last report's survivors
 *   node --import tsx scripts/lua-mutation.ts --summary              # print the reports, run nothing
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startCompileCheck, type CompileCheck } from './lua-compile-check.ts';
import { startMutantRunner, type MutantRunner } from './lua-mutant-runner.ts';
import { applyLuaMutant, generateLuaMutants, type LuaMutant } from './lua-mutants.ts';
import { readReport, summarise, writeReport, type FileReport, type MutantResult } from './lua-mutation-report.ts';
import { luaScripts, findLuaSegments } from './lua-sources.ts';
import { testsReaching } from './lua-test-files.ts';

const root = path.resolve(import.meta.dirname, '..');
const scriptDir = path.join(root, 'libs/farm-protocol/src');
// The transitions and fences first: the rest of the files follow in name order.
const noTest = { status: 'survived', killedBy: '', ms: 0 } as const; // a script no test runs
const FIRST = ['transition-script.ts', 'build-fence-scripts.ts', 'lua-allowed.ts', 'task-update-script.ts'];

interface Options {
  files: string[];
  max: number;
  survivors: boolean;
}

function scriptFiles(): string[] {
  const all = readdirSync(scriptDir)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .filter((name) => findLuaSegments(name, readFileSync(path.join(scriptDir, name), 'utf8')).length > 0);
  return [...FIRST.filter((name) => all.includes(name)), ...all.filter((name) => !FIRST.includes(name)).sort()];
}

/** `count` of `mutants`, evenly spread over the file (every operator keeps its share). */
function sample(mutants: LuaMutant[], count: number): LuaMutant[] {
  if (count <= 0 || count >= mutants.length) return mutants;
  const picked = new Set(Array.from({ length: count }, (_, i) => Math.floor((i * mutants.length) / count)));
  return mutants.filter((_, i) => picked.has(i));
}

function selectMutants(file: string, text: string, sha: string, options: Options): LuaMutant[] {
  const all = generateLuaMutants(file, text);
  if (!options.survivors) return sample(all, options.max);
  const last = readReport(root, file);
  if (!last || last.sourceSha256 !== sha) throw new Error(`--survivors: no report of ${file}'s current source`);
  const survived = new Set(last.results.filter((r) => r.status === 'survived').map((r) => r.id));
  return all.filter((m) => survived.has(m.id));
}

/** The last report's results with the re-tested survivors' new results in their place. */
function mergeRetested(file: string, retested: MutantResult[]): MutantResult[] {
  const byId = new Map(retested.map((r) => [r.id, r]));
  return (readReport(root, file)?.results ?? []).map((r) => byId.get(r.id) ?? r);
}

/** The file with the script `script` replaced by one that fails at once (its own Lua, not what it interpolates). */
function probeSource(file: string, text: string, script: string): string {
  const segments = findLuaSegments(file, text).filter((s) => s.script === script);
  let probed = text;
  for (const [i, s] of [...segments.entries()].reverse()) {
    const lua = i === segments.length - 1 ? "\nreturn redis.error_reply('lua-mutation probe')\n" : '';
    probed = probed.slice(0, s.start) + lua + probed.slice(s.end);
  }
  return probed;
}

/** Per script of the file, the test files that fail when it fails at once: the only ones that run it. */
async function testsByScript(file: string, text: string, runner: MutantRunner, timeoutMs: number) {
  const byScript = new Map<string, string[]>();
  for (const script of new Set(findLuaSegments(file, text).map((s) => s.script))) {
    byScript.set(script, await runner.failingFiles(probeSource(file, text, script), timeoutMs));
  }
  return byScript;
}

function changedScripts(file: string, original: string, mutated: string): Map<string, string> {
  const before = luaScripts(file, original);
  return new Map([...luaScripts(file, mutated)].filter(([name, lua]) => before.get(name) !== lua));
}

interface FileRun {
  readonly file: string;
  readonly name: string;
  readonly text: string;
  readonly runner: MutantRunner;
  readonly compile: CompileCheck;
  readonly byScript: ReadonlyMap<string, readonly string[]>;
  readonly timeoutMs: number;
}

async function runMutants(run: FileRun, mutants: readonly LuaMutant[], sandbox: string): Promise<MutantResult[]> {
  const results: MutantResult[] = [];
  for (const [i, mutant] of mutants.entries()) {
    const mutated = applyLuaMutant(run.text, mutant);
    writeFileSync(path.join(sandbox, run.name), mutated); // the mutant's text, for a look after a run
    const compileError = await run.compile.check(changedScripts(run.file, run.text, mutated));
    const files = run.byScript.get(mutant.script) ?? [];
    const outcome = files.length > 0 ? await run.runner.run(mutated, run.timeoutMs, files) : noTest;
    results.push({ ...mutant, ...outcome, compileError });
    const change = `${JSON.stringify(mutant.original)} -> ${JSON.stringify(mutant.replacement)}`;
    const line = `${outcome.status} ${run.file}:${mutant.line} ${mutant.operator} ${change} (${outcome.ms} ms)`;
    console.log(`  [${i + 1}/${mutants.length}] ${line}`);
  }
  return results;
}

const loadNow = (): number[] => loadavg().map((l) => Number(l.toFixed(2)));
const relative = (files: readonly string[]): string[] => files.map((t) => path.relative(root, t));

async function mutateFile(name: string, options: Options, compile: CompileCheck): Promise<FileReport> {
  const target = path.join(scriptDir, name);
  const file = path.relative(root, target);
  const text = readFileSync(target, 'utf8');
  const sha = createHash('sha256').update(text).digest('hex');
  const mutants = selectMutants(file, text, sha, options);
  const sandbox = path.join('/tmp', `aoinb-lua-mutation-${process.pid}`);
  mkdirSync(path.join(sandbox, 'tmp'), { recursive: true });
  // The test workers' temp folder is the sandbox's: a run a mutant ends early (bail) skips the tests' own
  // clean-up, and what they made (a redis-server's data folder) goes with the sandbox instead of staying in /tmp.
  const tmpBefore = process.env.TMPDIR;
  process.env.TMPDIR = path.join(sandbox, 'tmp');
  const [startedAt, load] = [new Date().toISOString(), loadNow()];
  const runner = await startMutantRunner(root, target, testsReaching(root, scriptDir, target));
  try {
    const baseline = await runner.run(null, 600_000);
    if (baseline.status !== 'survived') throw new Error(`${file}: the tests fail unmutated: ${baseline.killedBy}`);
    const timeoutMs = Math.max(60_000, 3 * baseline.ms);
    const byScript = await testsByScript(file, text, runner, timeoutMs);
    console.log(`${file}: ${mutants.length} mutants, baseline ${baseline.ms} ms; the tests that run each script:`);
    for (const [script, files] of byScript) console.log(`  ${script}: ${relative(files).join(', ') || 'none'}`);
    const run = { file, name, text, runner, compile, byScript, timeoutMs };
    const results = await runMutants(run, mutants, sandbox);
    const testFiles = Object.fromEntries([...byScript].map(([script, files]) => [script, relative(files)]));
    const generated = generateLuaMutants(file, text).length;
    const base = { file, sourceSha256: sha, startedAt, finishedAt: new Date().toISOString(), testFiles, generated };
    const all = options.survivors ? mergeRetested(file, results) : results;
    return { ...base, load: { start: load, end: loadNow() }, results: all, baselineMs: baseline.ms };
  } finally {
    await runner.close();
    if (tmpBefore === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpBefore;
    rmSync(sandbox, { recursive: true, force: true });
  }
}

function parseOptions(): Options & { summary: boolean } {
  const { values } = parseArgs({
    options: {
      file: { type: 'string', multiple: true },
      max: { type: 'string' },
      survivors: { type: 'boolean' },
      summary: { type: 'boolean' },
    },
  });
  const known = scriptFiles();
  const files = (values.file ?? []).map((f) => `${path.basename(f, '.ts')}.ts`);
  for (const f of files) if (!known.includes(f)) throw new Error(`--file ${f}: not a Lua script file of ${scriptDir}`);
  const max = Number(values.max ?? 0);
  if (!Number.isInteger(max) || max < 0) throw new Error(`--max ${values.max}: not a whole number`);
  return {
    files: files.length > 0 ? files : known,
    max,
    survivors: values.survivors ?? false,
    summary: values.summary ?? false,
  };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const reports: FileReport[] = [];
  if (!options.summary) {
    const compile = await startCompileCheck();
    try {
      for (const name of options.files) {
        const report = await mutateFile(name, options, compile);
        console.log(`  report: ${path.relative(root, writeReport(root, report))}`);
      }
    } finally {
      await compile.close();
    }
  }
  for (const name of options.files) {
    const report = readReport(root, path.relative(root, path.join(scriptDir, name)));
    if (report) reports.push(report);
  }
  console.log(['', ...summarise(reports)].join('\n'));
  // Vitest sets a failing exit code when a mutant's tests fail (which is what killing it means).
  process.exitCode = 0;
}

await main();
