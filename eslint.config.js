// Flat config: ESLint's and typescript-eslint's recommended rules over the whole tree but what is generated.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** What plain JavaScript files (scripts, configs, test fixtures) may use without importing; TypeScript checks its own. */
const NODE_GLOBALS = ['process', 'console', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.build/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: Object.fromEntries(NODE_GLOBALS.map((name) => [name, 'readonly'])) },
  },
  {
    rules: {
      // `_name` marks what is unused on purpose: a destructured field left out, a callback's unused argument.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
);
