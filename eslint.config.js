// The boundaries of docs/contributing.md ("Lint"), held by lint: import zones by path, no
// import cycles, type-aware promise and switch rules, size limits as warnings.
// scripts/lint-rules.test.ts runs the same config over a small tree that breaks each rule.
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const apps = ['cli', 'coordinator', 'dashboard', 'worker'];

// Resolved paths, so `@aoinb/worker` and `../../worker/src/x.ts` are caught alike.
const zones = [
  ...apps.map((app) => ({
    target: `apps/${app}`,
    from: apps.filter((other) => other !== app).map((other) => `apps/${other}`),
    message: 'apps never import another app: share the code through a package in libs/',
  })),
  { target: 'libs', from: 'apps', message: 'libs never import apps' },
];

// Test-only code: the test packages and each package's test helpers (test-support/, beside src/),
// which production code never imports.
const testOnly = [
  'libs/testkit/**',
  'libs/farm-harness/**',
  'apps/*/test-support/**',
  'libs/*/test-support/**',
  // The real-package tests' support (AOSC's tree, Debian sources), not part of the coordinator.
  'apps/coordinator/src/real-packages/**',
  // The fault tests' shared checks (vitest's expect) and crash hook, beside the tests.
  'apps/coordinator/src/faults/**',
];
const testFiles = ['**/*.test.ts', ...testOnly];
/** Lines over 120 characters, comments and strings included (Prettier wraps neither). */
const maxLen = {
  code: 120,
  ignoreComments: false,
  ignoreStrings: false,
  ignoreTemplateLiterals: false,
  ignoreUrls: true,
  ignoreRegExpLiterals: true,
};

const ignores = [
  '**/node_modules/**',
  'apps/*/dist/**',
  'apps/*/dist.tmp-*/**',
  'apps/*/test-support/dist/**',
  'apps/*/test-support/dist.tmp-*/**',
  'coverage/**',
  '.stryker-tmp/**',
  'reports/**',
];

/** The rules every file is held to: types, promises, switches, boundaries and sizes. */
const sharedRules = (root) => ({
  '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
  '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
  // A caught `unknown` may be passed on as it came.
  '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
  '@typescript-eslint/restrict-template-expressions': [
    'error',
    {
      allow: [
        { from: 'lib', name: ['Error', 'URL', 'URLSearchParams'] },
        { from: 'package', package: '@types/node', name: ['URL', 'URLSearchParams'] },
      ],
    },
  ],
  // Of recommendedTypeChecked, these found no bug here: callbacks are declared in method
  // syntax and never use `this` (unbound-method), async functions without await keep an
  // interface's shape (require-await), `'all' | string` unions are hints (redundant constituents).
  '@typescript-eslint/unbound-method': 'off',
  '@typescript-eslint/require-await': 'off',
  '@typescript-eslint/no-redundant-type-constituents': 'off',
  'import-x/no-cycle': ['error', { ignoreExternal: true }],
  'import-x/no-relative-packages': 'error',
  'import-x/no-restricted-paths': ['error', { basePath: root, zones }],
  'max-lines': ['warn', { max: 300, skipBlankLines: true, skipComments: true }],
  'max-lines-per-function': ['warn', { max: 50, skipBlankLines: true, skipComments: true }],
  // Prettier wraps code at 120; what it cannot wrap (long strings, comments) is left to us, so both count.
  'max-len': ['error', maxLen],
});

/** Production code (src/ of apps and libs): never test-only code, never vitest. */
const productionOnly = (root) => ({
  files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
  ignores: testFiles,
  rules: {
    'import-x/no-restricted-paths': [
      'error',
      {
        basePath: root,
        zones: [
          ...zones,
          { target: ['apps', 'libs'], from: testOnly, message: 'production code never imports test-only code' },
        ],
      },
    ],
    // A file under src/ that needs vitest is a test helper: it belongs in the package's test-support/.
    'no-restricted-imports': [
      'error',
      { patterns: [{ regex: '^vitest(/|$)', message: "test helpers live in the package's test-support/, not src/" }] },
    ],
  },
});

/** Tests and their support: long names shown, not failing; JSON answers read loosely. */
const testsLoosened = {
  files: testFiles,
  rules: {
    // Tests still hold long lines (names of cases, fixtures): shown, not failing.
    'max-len': ['warn', maxLen],
    // A test is a few long describe() callbacks by nature.
    'max-lines-per-function': 'off',
    // Tests read JSON answers loosely (the contract's schemas check the real ones).
    '@typescript-eslint/no-unsafe-assignment': 'off',
    '@typescript-eslint/no-unsafe-member-access': 'off',
    '@typescript-eslint/no-unsafe-call': 'off',
    '@typescript-eslint/no-unsafe-argument': 'off',
    '@typescript-eslint/no-unsafe-return': 'off',
  },
};

/** The config for a tree laid out like this repository's, at `root`. */
export function aoinbLintConfig(root) {
  return tseslint.config(
    { ignores },
    ...tseslint.configs.recommendedTypeChecked,
    {
      languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: root } },
      plugins: { 'import-x': importX },
      settings: {
        'import-x/resolver-next': [createNodeResolver()],
        'import-x/extensions': ['.ts', '.js', '.mjs'],
        'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      },
      rules: sharedRules(root),
    },
    productionOnly(root),
    testsLoosened,
    { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  );
}

export default aoinbLintConfig(import.meta.dirname);
