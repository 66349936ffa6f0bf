import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * No test or hook passes a timeout below the suite's own (vitest.config.ts: 300 s per test, 600 s per hook):
 * on a loaded CI machine a farm's beforeAll took over 90 s, and hooks that said `90_000` failed sound files.
 * A deadline catches a hang; a test that proves promptness measures it itself (docs/contributing.md).
 */
const root = path.resolve(import.meta.dirname, '..');
const suiteTestTimeoutMs = 300_000;
// `}, 90_000);` closing an it/beforeAll/afterAll, or `it('...', () => run(), 90_000);` on one line.
const trailingTimeout = /^\s*(?:\}|(?:it|test)\(.*\(\) => [^;]*), ([0-9_]+)\);$/;

export function shortTimeouts(file: string, text: string): string[] {
  return text.split('\n').flatMap((line, i) => {
    const match = trailingTimeout.exec(line);
    if (!match) return [];
    const ms = Number(match[1]!.replaceAll('_', ''));
    return ms < suiteTestTimeoutMs ? [`${file}:${i + 1}: ${line.trim()}`] : [];
  });
}

describe('deadlines in tests', () => {
  it('finds a timeout below the suite default, and lets a larger one be', () => {
    expect(shortTimeouts('a.test.ts', '  beforeAll(async () => {\n  }, 90_000);\n')).toEqual([
      'a.test.ts:2: }, 90_000);',
    ]);
    expect(shortTimeouts('b.test.ts', "  it('x', () => run(), 60_000);\n  }, 600_000);\n")).toEqual([
      "b.test.ts:1: it('x', () => run(), 60_000);",
    ]);
  });

  it('no test file passes a test or hook timeout below the suite default', () => {
    const files = execFileSync('git', ['ls-files', '*.test.ts'], { cwd: root, encoding: 'utf8' }).split('\n');
    const found = files
      .filter(Boolean)
      .flatMap((file) => shortTimeouts(file, readFileSync(path.join(root, file), 'utf8')));
    expect(found).toEqual([]);
  });
});
