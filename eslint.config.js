import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '**/node_modules/**', 'apps/dashboard/dist/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@aoinb/coordinator', '@aoinb/worker', '@aoinb/cli', '**/apps/**'],
              message: 'apps never import each other, and libs never import apps',
            },
          ],
        },
      ],
    },
  },
);
