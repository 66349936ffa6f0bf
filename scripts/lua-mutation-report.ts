/**
 * The Lua mutation tester's results (scripts/lua-mutation.ts): one JSON report per script file in
 * reports/mutation/lua/, and the per-file and total scores with every survivor printed.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { LuaMutant } from './lua-mutants.ts';
import type { RunStatus } from './lua-mutant-runner.ts';

export interface MutantResult extends LuaMutant {
  readonly status: RunStatus;
  readonly killedBy: string;
  readonly ms: number;
  /** '' when the mutated Lua compiles in Redis, else Redis's error. */
  readonly compileError: string;
}

export interface FileReport {
  readonly file: string;
  readonly sourceSha256: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** `uptime`'s load averages (1, 5, 15 min) at the start and the end. */
  readonly load: { readonly start: number[]; readonly end: number[] };
  /** Per script, the test files that run it (those that fail when it fails at once); its mutants run those. */
  readonly testFiles: Readonly<Record<string, readonly string[]>>;
  readonly baselineMs: number;
  /** Mutants generated for the file, and how many were run (fewer with --max). */
  readonly generated: number;
  readonly results: readonly MutantResult[];
}

export const REPORT_DIR = 'reports/mutation/lua';

export function reportPath(root: string, file: string): string {
  return path.join(root, REPORT_DIR, `${path.basename(file, '.ts')}.json`);
}

export function writeReport(root: string, report: FileReport): string {
  const out = reportPath(root, report.file);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  return out;
}

export function readReport(root: string, file: string): FileReport | null {
  const at = reportPath(root, file);
  return existsSync(at) ? (JSON.parse(readFileSync(at, 'utf8')) as FileReport) : null;
}

interface Tally {
  total: number;
  killed: number;
  timeout: number;
  survived: number;
  invalid: number;
  invalidCaught: number;
}

export function tally(results: readonly MutantResult[]): Tally {
  const t: Tally = { total: 0, killed: 0, timeout: 0, survived: 0, invalid: 0, invalidCaught: 0 };
  for (const r of results) {
    t.total += 1;
    t[r.status] += 1;
    if (r.compileError) {
      t.invalid += 1;
      if (r.status !== 'survived') t.invalidCaught += 1;
    }
  }
  return t;
}

const percent = (part: number, whole: number): string => (whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)} %`);

/** One table row: score over all mutants run (a mutant that does not compile counts only if a test caught it). */
function row(name: string, t: Tally): string {
  const valid = t.total - t.invalid;
  const validKilled = t.killed + t.timeout - t.invalidCaught;
  return [
    name.padEnd(28),
    percent(t.killed + t.timeout, t.total).padStart(8),
    `${t.killed} killed, ${t.timeout} timeout, ${t.survived} survived of ${t.total}`,
    `(${t.invalid} not compiling, ${t.invalidCaught} caught; compiling only: ${percent(validKilled, valid)})`,
  ].join('  ');
}

/** Per-file and total scores, then every survivor; returned as text lines. */
export function summarise(reports: readonly FileReport[]): string[] {
  const lines = reports.map((r) => {
    const sampled = r.results.length < r.generated ? ` [${r.results.length} of ${r.generated} sampled]` : '';
    return row(path.basename(r.file), tally(r.results)) + sampled;
  });
  lines.push(row('total', tally(reports.flatMap((r) => r.results))));
  const survivors = reports.flatMap((r) =>
    r.results.filter((m) => m.status === 'survived').map((m) => [r, m] as const),
  );
  lines.push('', `survivors (${survivors.length}):`);
  for (const [r, m] of survivors) {
    const change = `${JSON.stringify(m.original)} -> ${JSON.stringify(m.replacement)}`;
    const invalid = m.compileError ? ` (does not compile: ${m.compileError})` : '';
    lines.push(`  ${r.file}:${m.line}:${m.column} ${m.script} ${m.operator} ${change}${invalid}`);
  }
  return lines;
}
