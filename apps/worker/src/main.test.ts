import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

/** The production files the worker process is made of (main.ts's own imports, transitively, within the app). */
async function productionSources(): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  const queue = [main];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    const text = await readFile(file, 'utf8');
    seen.set(file, text);
    for (const m of text.matchAll(/from '(\.{1,2}\/[^']+\.ts)'/g))
      queue.push(fileURLToPath(new URL(m[1]!, `file://${file}`)));
  }
  return seen;
}

describe('the production worker entry point', () => {
  it('never imports the fake executor', async () => {
    const files = [...(await productionSources()).keys()];
    expect(files.length).toBeGreaterThan(5);
    expect(files.filter((f) => /fake|\/testing\//.test(f))).toEqual([]);
  });

  it('refuses --executor fake as an unknown option', async () => {
    const run = await execa(process.execPath, ['--import', 'tsx', main, '-c', '/nonexistent', '--executor', 'fake'], {
      reject: false,
    });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/Unknown option '--executor'/);
  });
});
