// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import jest from 'eslint-plugin-jest';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'coverage/**',
      'reports/**',
      '.local-data/**',
      'node_modules/**',
      'cdk.out/**',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { ...globals.node },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-console': 'off' },
  },
  {
    // The core knows no framework: no Nest, no Lambda, no AWS SDK, no adapters.
    files: ['src/activation/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*'], message: 'src/activation is framework-free: no Nest.' },
            {
              group: ['aws-lambda', '@types/aws-lambda', '@aws-lambda-powertools/*'],
              message: 'src/activation is framework-free: no Lambda.',
            },
            {
              group: ['@aws-sdk/*'],
              message: 'src/activation talks to AWS only through its ports.',
            },
            {
              group: ['express', 'class-validator', 'class-transformer'],
              message: 'src/activation is framework-free.',
            },
            {
              group: ['../*', '!../activation', '!../activation/*'],
              message: 'src/activation imports nothing outside itself.',
            },
          ],
        },
      ],
    },
  },
  {
    // Lambdas stay thin: the core, the framework-free DynamoDB adapter, the AWS clients
    // and each other.
    // Never Nest, never the API's modules, never the local stand-ins.
    files: ['lambdas/**/*.ts'],
    ignores: ['lambdas/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*'], message: 'lambdas/ never loads Nest.' },
            {
              regex: String.raw`^(\.\./)+src/(?!activation(/|$)|users/persistence/|platform/aws/)`,
              message:
                'lambdas/ imports only src/activation, src/users/persistence and src/platform/aws.',
            },
          ],
        },
      ],
    },
  },
  {
    // The DynamoDB adapter and the AWS clients are shared with the Lambdas, so they stay
    // framework-free too.
    files: ['src/users/persistence/**/*.ts', 'src/platform/aws/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*'], message: 'The persistence adapter is framework-free.' },
            {
              group: ['class-validator', 'class-transformer', 'express'],
              message: 'The persistence adapter is framework-free.',
            },
          ],
        },
      ],
    },
  },
  {
    // The CDK app deploys what the rest defines: it reads lambdas/ (entries, the state
    // machine, the stream settings) and the table and mail facts of the core, and never
    // the Nest app, which it bundles from the build by path.
    files: ['infra/**/*.ts'],
    ignores: ['infra/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*'], message: 'infra/ never loads Nest.' },
            {
              regex: String.raw`^(\.\./)+src/(?!activation/|users/persistence/|platform/aws/)`,
              message:
                'infra/ imports only lambdas/, src/activation, src/users/persistence and src/platform/aws.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    ...jest.configs['flat/recommended'],
    rules: {
      ...jest.configs['flat/recommended'].rules,
      'jest/no-focused-tests': 'error',
      'jest/no-disabled-tests': 'error',
      'jest/expect-expect': [
        'error',
        {
          assertFunctionNames: ['expect', 'request.**.expect', 'expect*', 'template.has*'],
        },
      ],
    },
  },
  prettier,
);
