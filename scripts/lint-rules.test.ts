import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@aoinb/testkit/fixtures';

/**
 * The repository's eslint.config.js, run over a small tree laid out like the repository's,
 * with one file per boundary it must hold and one that breaks none.
 */
const root = path.resolve(import.meta.dirname, '..');
const files: Record<string, string> = {
  'package.json': '{ "name": "fixture", "private": true, "type": "module" }\n',
  'tsconfig.json': JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      allowImportingTsExtensions: true,
      skipLibCheck: true,
      types: [],
    },
    include: ['apps/*/src/**/*.ts', 'apps/*/test-support/**/*.ts', 'libs/*/src/**/*.ts'],
  }),
  'apps/cli/package.json': '{ "name": "@aoinb/cli", "type": "module" }\n',
  'apps/worker/package.json': '{ "name": "@aoinb/worker", "type": "module", "exports": { ".": "./src/work.ts" } }\n',
  'libs/core/package.json': '{ "name": "@aoinb/core", "type": "module", "exports": { ".": "./src/clean.ts" } }\n',
  'libs/testkit/package.json': '{ "name": "@aoinb/testkit", "type": "module", "exports": { ".": "./src/index.ts" } }\n',
  'apps/worker/src/work.ts': 'export const work = (): number => 1;\n',
  'libs/testkit/src/index.ts': 'export const fixture = 1;\n',
  // Reaches into another app's sources by relative path, and imports it by name.
  'apps/cli/src/by-path.ts': "import { work } from '../../worker/src/work.ts';\nexport const n = work();\n",
  'apps/cli/src/by-name.ts': "import { work } from '@aoinb/worker';\nexport const n = work();\n",
  // A lib importing an app; production code importing a test-only package.
  'libs/core/src/uses-app.ts': "import { work } from '../../../apps/worker/src/work.ts';\nexport const n = work();\n",
  'libs/core/src/uses-testkit.ts': "import { fixture } from '@aoinb/testkit';\nexport const n = fixture;\n",
  // A package's own test helper (test-support/, beside src/): production code importing it, and a helper
  // written under src/ (it needs vitest).
  'apps/worker/test-support/fake-work.ts': 'export const fakeWork = (): number => 0;\n',
  'apps/worker/src/uses-helper.ts':
    "import { fakeWork } from '../test-support/fake-work.ts';\nexport const n = fakeWork();\n",
  'apps/worker/src/helper-in-src.ts':
    "import { expect } from 'vitest';\nexport const isOne = (n: number): void => expect(n).toBe(1);\n",
  // A two-file cycle.
  'libs/core/src/cycle-a.ts': "import { b } from './cycle-b.ts';\nexport const a = (): number => b() + 1;\n",
  'libs/core/src/cycle-b.ts':
    "import { a } from './cycle-a.ts';\nexport const b = (): number => (Math.random() > 2 ? a() : 0);\n",
  // Type-aware rules: a floating promise, a promise where a void callback goes, a switch missing a case.
  'libs/core/src/promises.ts': [
    'async function save(): Promise<void> {}',
    'function onEvent(listener: () => void): void {',
    '  listener();',
    '}',
    'export function run(): void {',
    '  save();',
    '  onEvent(async () => save());',
    '}',
    '',
  ].join('\n'),
  'libs/core/src/switch.ts': [
    "export type State = 'queued' | 'running' | 'done';",
    'export function label(s: State): string {',
    '  switch (s) {',
    "    case 'queued':",
    "      return 'waiting';",
    "    case 'running':",
    "      return 'building';",
    '  }',
    '}',
    '',
  ].join('\n'),
  // A comment and a string too long for a line (Prettier wraps neither): failed in code, warned in a test.
  'libs/core/src/long-lines.ts': [
    `// ${'a comment that goes on '.repeat(6)}`,
    `export const text = '${'a string that goes on '.repeat(5)}';`,
    '',
  ].join('\n'),
  'libs/core/src/long-lines.test.ts': [
    `// ${'a comment that goes on '.repeat(6)}`,
    `export const text = '${'a string that goes on '.repeat(5)}';`,
    '',
  ].join('\n'),
  // Tests may import the test-only package; this file breaks no rule.
  'libs/core/src/clean.test.ts': "import { fixture } from '@aoinb/testkit';\nexport const n = fixture;\n",
  'libs/core/src/clean.ts': "import { work } from './work-free.ts';\nexport const n = work + 1;\n",
  'libs/core/src/work-free.ts': 'export const work = 2;\n',
  // A test uses its package's helper and vitest.
  'apps/worker/src/work.test.ts': [
    "import { expect } from 'vitest';",
    "import { fakeWork } from '../test-support/fake-work.ts';",
    "import { work } from './work.ts';",
    'export const check = (): void => expect(work()).not.toBe(fakeWork());',
    '',
  ].join('\n'),
};

const tmp = useTempDir('aoinb-lint-');
let found: Map<string, string[]>;
let warned: Map<string, Array<{ rule: string | null; line: number }>>;

beforeAll(async () => {
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(tmp.dir, file)), { recursive: true });
    await writeFile(path.join(tmp.dir, file), text);
  }
  // Workspace packages resolve by name as in the repository (node_modules/@aoinb/* links).
  await mkdir(path.join(tmp.dir, 'node_modules/@aoinb'), { recursive: true });
  for (const pkg of ['apps/worker', 'libs/testkit', 'libs/core'])
    await symlink(path.join(tmp.dir, pkg), path.join(tmp.dir, 'node_modules/@aoinb', path.basename(pkg)));
  await symlink(path.join(root, 'node_modules/vitest'), path.join(tmp.dir, 'node_modules/vitest'));
  // The repository's rules, rooted at the fixture tree.
  const config = pathToFileURL(path.join(root, 'eslint.config.js')).href;
  await writeFile(
    path.join(tmp.dir, 'eslint.config.js'),
    [
      `import { aoinbLintConfig } from ${JSON.stringify(config)};`,
      'export default aoinbLintConfig(import.meta.dirname);',
      '',
    ].join('\n'),
  );
  const eslint = new ESLint({ cwd: tmp.dir });
  const results = await eslint.lintFiles(['apps', 'libs']);
  warned = new Map(
    results.map((r) => [
      path.relative(tmp.dir, r.filePath),
      r.messages.filter((m) => m.severity === 1).map((m) => ({ rule: m.ruleId, line: m.line })),
    ]),
  );
  found = new Map(
    results.map((r) => [
      path.relative(tmp.dir, r.filePath),
      r.messages.filter((m) => m.severity === 2).map((m) => m.ruleId ?? m.message),
    ]),
  );
});

describe('eslint.config.js holds the boundaries', () => {
  it.each([
    ['apps/cli/src/by-path.ts', ['import-x/no-restricted-paths', 'import-x/no-relative-packages']],
    ['apps/cli/src/by-name.ts', ['import-x/no-restricted-paths']],
    ['libs/core/src/uses-app.ts', ['import-x/no-restricted-paths', 'import-x/no-relative-packages']],
    ['libs/core/src/uses-testkit.ts', ['import-x/no-restricted-paths']],
    ['apps/worker/src/uses-helper.ts', ['import-x/no-restricted-paths']],
    ['apps/worker/src/helper-in-src.ts', ['no-restricted-imports']],
    ['libs/core/src/cycle-a.ts', ['import-x/no-cycle']],
    ['libs/core/src/cycle-b.ts', ['import-x/no-cycle']],
    [
      'libs/core/src/promises.ts',
      ['@typescript-eslint/no-floating-promises', '@typescript-eslint/no-misused-promises'],
    ],
    ['libs/core/src/switch.ts', ['@typescript-eslint/switch-exhaustiveness-check']],
  ])('%s: %j', (file, rules) => {
    expect([...new Set(found.get(file))].sort()).toEqual([...rules].sort());
  });

  it('fails a comment and a string over 120 characters in code, and warns of them in a test', () => {
    expect(found.get('libs/core/src/long-lines.ts')).toEqual(['max-len', 'max-len']);
    expect(warned.get('libs/core/src/long-lines.test.ts')).toEqual([
      { rule: 'max-len', line: 1 },
      { rule: 'max-len', line: 2 },
    ]);
    expect(found.get('libs/core/src/long-lines.test.ts')).toEqual([]);
    expect(warned.get('libs/core/src/clean.ts')).toEqual([]);
  });

  it('passes the files that break no boundary (tests may use the test-only package and test-support/)', () => {
    const clean = [
      'libs/core/src/clean.ts',
      'libs/core/src/clean.test.ts',
      'libs/core/src/work-free.ts',
      'apps/worker/src/work.test.ts',
      'apps/worker/test-support/fake-work.ts',
    ];
    for (const file of clean) expect(found.get(file), file).toEqual([]);
    expect(found.size).toBe(Object.keys(files).filter((f) => f.endsWith('.ts')).length);
  });
});
