// The mutation score over the core scope (`mutate` of scripts/stryker.config.json) from Stryker's JSON reports:
// the whole run's (reports/mutation/mutation.json) or one report per module (reports/mutation/modules/,
// `bash scripts/mutation.sh --module FILE`), summed. Each file of the scope is taken from the newest report
// that holds it; a file no report holds, or whose report is older than the file, is named.
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
  files: Record<string, { mutants: Mutant[] }>;
}
interface Counts {
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  errors: number;
}

/** Stryker's score: detected (killed, timed out) over valid mutants (errors and ignored ones left out). */
export function score(c: Counts): number {
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  return valid === 0 ? 100 : (100 * (c.killed + c.timeout)) / valid;
}

export function count(mutants: readonly Mutant[]): Counts {
  const c: Counts = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, errors: 0 };
  for (const m of mutants) {
    if (m.status === 'Killed') c.killed++;
    else if (m.status === 'Timeout') c.timeout++;
    else if (m.status === 'Survived') c.survived++;
    else if (m.status === 'NoCoverage') c.noCoverage++;
    else if (m.status === 'CompileError' || m.status === 'RuntimeError') c.errors++;
  }
  return c;
}

function main(args: string[]): number {
  const survivors = args.includes('--survivors');
  const reports = args
    .filter((a) => a !== '--survivors')
    .map((file) => ({ file, at: statSync(file).mtimeMs, report: JSON.parse(readFileSync(file, 'utf8')) as Report }))
    .sort((a, b) => b.at - a.at);
  const total: Counts = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, errors: 0 };
  const problems: string[] = [];
  console.log('| File | Score | Killed | Timeout | Survived | No coverage | Errors | Report |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const file of scope) {
    const from = reports.find((r) => r.report.files[file] !== undefined);
    if (from === undefined) {
      problems.push(`${file}: in no report`);
      continue;
    }
    if (statSync(file).mtimeMs > from.at) problems.push(`${file}: changed after ${from.file} was written`);
    const mutants = from.report.files[file]?.mutants ?? [];
    const c = count(mutants);
    for (const k of Object.keys(total) as (keyof Counts)[]) total[k] += c[k];
    const name = file.split('/').pop() ?? file;
    const row = [c.killed, c.timeout, c.survived, c.noCoverage, c.errors].join(' | ');
    console.log(`| ${name} | ${score(c).toFixed(1)} % | ${row} | ${from.file} |`);
    if (survivors)
      for (const m of mutants.filter((x) => x.status === 'Survived' || x.status === 'NoCoverage'))
        console.error(
          `${file}:${m.location.start.line}:${m.location.start.column} ${m.status} ${m.mutatorName}` +
            ` ${JSON.stringify(m.replacement ?? '')}`,
        );
  }
  const row = [total.killed, total.timeout, total.survived, total.noCoverage, total.errors].join(' | ');
  console.log(`| **all ${scope.length} files** | **${score(total).toFixed(1)} %** | ${row} | |`);
  for (const p of problems) console.error(`mutation-score: ${p}`);
  return problems.length === 0 ? 0 : 1;
}

if (process.argv[1]?.endsWith('mutation-score.ts')) process.exitCode = main(process.argv.slice(2));
