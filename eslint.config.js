// @ts-check
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = [
  'fs', 'path', 'os', 'child_process', 'crypto', 'http', 'https', 'net', 'url', 'util', 'stream', 'events', 'worker_threads', 'readline', 'buffer',
];

const NO_ELECTRON = { name: 'electron', message: 'The engine must not import electron (only src/main/index.ts and src/main/electron/).' };
/** Tests, and the test-only helpers they share. */
const TEST_FILES = ['src/**/*.test.ts', 'src/**/*.test.tsx', 'src/main/test/**', 'src/main/**/test/**'];
const ENGINE_INTERNALS = [
  { group: ['**/test/engine'], message: 'createEngineForTests is for tests: hosts use the Engine (api, events, media).' },
  { group: ['**/engine'], importNames: ['assembleEngine'], message: 'Hosts use createEngine: the Engine is the contract and media only.' },
];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'python/**', 'test-results/**', 'playwright-report/**', 'bench/.cache/**', 'bench/.venv-peers/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // The engine never imports Electron: only the Electron host (index.ts, electron/) may.
    // Hosts get the Engine (the contract and media) only: the engine's internals are for tests.
    files: ['src/main/**/*.ts'],
    ignores: ['src/main/index.ts', 'src/main/electron/**', ...TEST_FILES],
    rules: { 'no-restricted-imports': ['error', { paths: [NO_ELECTRON], patterns: ENGINE_INTERNALS }] },
  },
  {
    files: ['src/main/index.ts', 'src/main/electron/**/*.ts'],
    ignores: TEST_FILES,
    rules: { 'no-restricted-imports': ['error', { patterns: ENGINE_INTERNALS }] },
  },
  {
    files: TEST_FILES,
    ignores: ['src/main/electron/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [NO_ELECTRON] }] },
  },
  {
    // The contract is pure TypeScript: no Node, no DOM, no Electron.
    files: ['src/shared/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron', ...NODE_BUILTINS].map((name) => ({ name, message: 'src/shared must stay pure TypeScript.' })),
          patterns: [{ group: ['node:*'], message: 'src/shared must stay pure TypeScript (no node: modules).' }],
        },
      ],
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'process', 'Buffer', 'require'],
    },
  },
  {
    // The preload is the one renderer-side file that talks to Electron (contextBridge, ipcRenderer).
    files: ['src/preload/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The renderer talks to the engine only through the api client.' }],
          patterns: [{ group: ['node:*'], message: 'The renderer runs in a browser sandbox: no Node modules.' }],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
);
