// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.data/', 'coverage/', 'bench-results/', 'console/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
    },
  },
  {
    // Architecture: the domain is pure TypeScript. No AWS SDK, no middy, no Lambda event types.
    files: ['shared/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@aws-sdk/*', 'aws-sdk', 'aws-sdk/*'], message: 'shared/domain must not depend on the AWS SDK: add a port and an adapter.' },
            { group: ['@middy/*'], message: 'shared/domain must not depend on middy: keep HTTP concerns in shared/http.' },
            { group: ['aws-lambda', '@types/aws-lambda'], message: 'shared/domain must not know Lambda event types.' },
            { group: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'], message: 'shared/domain must not depend on the CDK.' },
            { group: ['**/adapters/**', '**/http/**', '**/composition', '**/local/**', '**/cli/**', '**/functions/**'], message: 'shared/domain must not import outer layers.' },
          ],
        },
      ],
    },
  },
  {
    // lib/ is CDK only: it may import shared/config (pure constants), never runtime code.
    files: ['lib/**/*.ts', 'bin/app.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '(^|/)shared/(?!config/)', message: 'lib/ may import only shared/config.' },
            { group: ['**/functions/**'], message: 'Nothing imports functions/.' },
          ],
        },
      ],
    },
  },
  {
    // Nothing imports functions/ (the CDK refers to entries by path, the local gateway imports dynamically).
    files: ['shared/**/*.ts', 'bin/**/*.ts'],
    // Those have their own, stricter lists above (flat config: a later rule entry replaces an earlier one).
    ignores: ['shared/domain/**', 'bin/app.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/functions/**'], message: 'Nothing imports functions/.' }] }],
    },
  },
  {
    files: ['bin/cpctl.ts', 'bin/local.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
