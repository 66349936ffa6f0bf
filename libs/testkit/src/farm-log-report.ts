import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FarmLogs, ProcessLog } from './farm-logs.ts';

/** How the farm logs of a failed test are shown (failed-test-logs.ts) and kept (AOINB_TEST_KEEP_LOGS). */

const farmLogHeader = '== farm logs of failed test';
const defaultTailLines = 80;

/** Each log with the name it is shown and kept by: `farm N: ` before it when the test had several farms. */
function labelled(farms: readonly FarmLogs[]): Array<{ label: string; log: ProcessLog }> {
  return farms.flatMap((farm, i) =>
    farm.logs.map((log) => ({ label: farms.length > 1 ? `farm ${i + 1}: ${log.name}` : log.name, log })),
  );
}

/** pino's `"time":<epoch ms>` as an ISO time, for a person reading the tail (kept logs stay as written). */
export function readableTimes(line: string): string {
  return line.replace(
    /"time":(\d{12,14})(?=[,}])/,
    (_, ms: string) => `"time":"${new Date(Number(ms)).toISOString()}"`,
  );
}

/** The last `lines` lines of every process log of `farms`, each under a heading, all under one naming `test`. */
export function farmLogTail(farms: readonly FarmLogs[], test: string, lines = defaultTailLines): string {
  const blocks = labelled(farms).map(({ label, log }) => {
    const { lines: shown, total } = log.tail(lines);
    if (total === 0) return `--- ${label}: no output`;
    const what =
      total > shown.length ? `last ${shown.length} of ${total} lines` : `${total} line${total > 1 ? 's' : ''}`;
    return [`--- ${label} (${what})`, ...shown.map(readableTimes)].join('\n');
  });
  if (blocks.length === 0) return '';
  return [`${farmLogHeader}: ${test}`, ...blocks, `== end of farm logs: ${test}`].join('\n') + '\n';
}

/** A name made safe as one path component (no `/`, no leading dot), not too long. */
export function pathPart(name: string): string {
  const safe = name
    .replace(/[^\w.+=@ -]+/g, '_')
    .replace(/^[.\s]+/, '_')
    .trim();
  return (safe || '_').slice(0, 120);
}

/**
 * Writes each log whole to `dir/<test file>/<test name>/<process>.log` (the test file as vitest names it,
 * relative to the root); returns that folder.
 */
export async function keepFarmLogs(
  dir: string,
  testFile: string,
  testName: string,
  farms: readonly FarmLogs[],
): Promise<string> {
  const fileParts = testFile.split(/[\\/]+/).filter((part) => part && part !== '..' && part !== '.');
  const folder = path.resolve(dir, ...fileParts.map(pathPart), pathPart(testName));
  await mkdir(folder, { recursive: true });
  for (const { label, log } of labelled(farms))
    await writeFile(path.join(folder, `${pathPart(label.replace(': ', '.'))}.log`), log.content());
  return folder;
}
