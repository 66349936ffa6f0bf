// The mutation score over the core scope (`mutate` of scripts/stryker.config.json) from Stryker's JSON reports:
// the whole run's (reports/mutation/mutation.json) or the per-module ones (reports/mutation/modules/,
// `bash scripts/mutation.sh --module FILE[:LINES]`), summed. Only reports of a file's current source count;
// each mutant's result is the newest report's that holds it (a run over a line range updates its mutants only).
// A file of the scope no current report holds is named, and the exit status is 1.
// Usage: node --import tsx scripts/mutation-score.ts [--survivors] REPORT.json...
import { readFileSync, statSync } from 'node:fs';

const config = JSON.parse(readFileSync(new URL('stryker.config.json', import.meta.url), 'utf8')) as {
  mutate: string[];
};
const scope = config.mutate;

interface Mutant {
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number } };
}
interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}
type Counts = Record<'killed' | 'timeout' | 'survived' | 'noCoverage' | 'errors', number>;
const statusKey: Record<string, keyof Counts | undefined> = {
  Killed: 'killed',
  Timeout: 'timeout',
  Survived: 'survived',
  NoCoverage: 'noCoverage',
  CompileError: 'errors',
  RuntimeError: 'errors',
};

/** Stryker's score: detected (killed, timed out) over valid mutants (errors and ignored ones left out). */
function score(c: Counts): number {
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  return valid === 0 ? 100 : (100 * (c.killed + c.timeout)) / valid;
}

function count(mutants: Iterable<Mutant>): Counts {
  const c: Counts = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, errors: 0 };
  for (const m of mutants) {
    const key = statusKey[m.status];
    if (key) c[key]++;
  }
  return c;
}

const mutantKey = (m: Mutant): string =>
  `${m.location.start.line}:${m.location.start.column}:${m.mutatorName}:${m.replacement ?? ''}`;

/** The file's mutants, each from the newest report of its current source that holds it. */
function mutantsOf(file: string, reports: { file: string; report: Report }[]): Map<string, Mutant> | undefined {
  const source = readFileSync(file, 'utf8');
  const current = reports.filter((r) => r.report.files[file]?.source === source);
  if (current.length === 0) return undefined;
  const byKey = new Map<string, Mutant>();
  for (const r of current) for (const m of r.report.files[file]?.mutants ?? []) byKey.set(mutantKey(m), m);
  return byKey;
}

function main(args: string[]): number {
  const survivors = args.includes('--survivors');
  const reports = args
    .filter((a) => a !== '--survivors')
    .map((file) => ({ file, at: statSync(file).mtimeMs, report: JSON.parse(readFileSync(file, 'utf8')) as Report }))
    .sort((a, b) => a.at - b.at);
  const total: Counts = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, errors: 0 };
  const missing: string[] = [];
  const row = (c: Counts): string => [c.killed, c.timeout, c.survived, c.noCoverage, c.errors].join(' | ');
  console.log('| File | Score | Killed | Timeout | Survived | No coverage | Errors |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const file of scope) {
    const mutants = mutantsOf(file, reports);
    if (mutants === undefined) {
      missing.push(file);
      continue;
    }
    const c = count(mutants.values());
    for (const k of Object.keys(total) as (keyof Counts)[]) total[k] += c[k];
    console.log(`| ${file.split('/').pop()} | ${score(c).toFixed(1)} % | ${row(c)} |`);
    if (survivors)
      for (const m of [...mutants.values()].filter((x) => x.status === 'Survived' || x.status === 'NoCoverage'))
        console.error(`${file}:${mutantKey(m).replace(/:([A-Za-z]+):/, ' $1 ')} ${m.status}`);
  }
  console.log(`| **all ${scope.length - missing.length} files** | **${score(total).toFixed(1)} %** | ${row(total)} |`);
  for (const file of missing) console.error(`mutation-score: ${file}: no report of its current source`);
  return missing.length === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
