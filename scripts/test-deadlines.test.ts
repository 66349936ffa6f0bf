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

// Prettier's form of a long one: the timeout on a line of its own, then `);` closing a call that opened on a
// line starting with it/test/a hook (found by counting brackets back; strings with brackets can mislead it).
const ownLineTimeout = /^\s*([0-9_]+),?$/;
const testOrHook = /^\s*(?:it|test|beforeAll|afterAll|beforeEach|afterEach)\b/;

function lineOpening(lines: string[], closing: number): number {
  let depth = 0;
  for (let j = closing; j >= 0; j--) {
    for (const char of [...lines[j]!].reverse()) {
      if (char === ')') depth++;
      else if (char === '(' && --depth === 0) return j;
    }
  }
  return -1;
}

function timeoutOf(lines: string[], i: number): string | undefined {
  const trailing = trailingTimeout.exec(lines[i]!);
  if (trailing) return trailing[1];
  const own = ownLineTimeout.exec(lines[i]!);
  if (!own || !/^\s*\);$/.test(lines[i + 1] ?? '')) return undefined;
  return testOrHook.test(lines[lineOpening(lines, i + 1)] ?? '') ? own[1] : undefined;
}

export function shortTimeouts(file: string, text: string): string[] {
  const lines = text.split('\n');
  return lines.flatMap((line, i) => {
    const timeout = timeoutOf(lines, i);
    if (timeout === undefined) return [];
    const ms = Number(timeout.replaceAll('_', ''));
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
    const ownLine = "  it(\n    'x',\n    async () => {\n      await run();\n    },\n    120_000,\n  );\n";
    expect(shortTimeouts('c.test.ts', ownLine)).toEqual(['c.test.ts:6: 120_000,']);
    const each =
      "  it.each(points)(\n    'killed at $point',\n    async ({ point }) => cut(point),\n    120_000,\n  );\n";
    expect(shortTimeouts('f.test.ts', each)).toEqual(['f.test.ts:4: 120_000,']);
    expect(shortTimeouts('d.test.ts', ownLine.replace('120_000', '600_000'))).toEqual([]);
    // A number alone on a line that is no test's last argument (an array, another call's) is left alone.
    expect(
      shortTimeouts('e.test.ts', '  const xs = [\n    1,\n    2,\n  ];\n  f(\n    () => a,\n    5,\n  );\n'),
    ).toEqual([]);
  });

  it('no test file passes a test or hook timeout below the suite default', () => {
    const files = execFileSync('git', ['ls-files', '*.test.ts'], { cwd: root, encoding: 'utf8' }).split('\n');
    const found = files
      .filter(Boolean)
      .flatMap((file) => shortTimeouts(file, readFileSync(path.join(root, file), 'utf8')));
    expect(found).toEqual([]);
  });
});
