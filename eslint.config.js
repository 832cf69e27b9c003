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
  {
    // Text from outside is never a workflow command: the actions print only through shared/log.ts.
    files: ['{assume-role,build-and-push,instance-refresh,ssm-deploy,shared}/**/*.ts'],
    // shared/actions-core.ts is the command protocol itself, under shared/log.ts.
    ignores: ['shared/log.ts', 'shared/actions-core.ts', '**/*.test.ts', '**/fixtures/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        ...['info', 'warning', 'error', 'notice', 'setFailed', 'group', 'startGroup'].map((property) => ({
          object: 'core',
          property,
          message: 'Print through shared/log.ts, which neutralises workflow commands in foreign text.',
        })),
        { object: 'console', message: 'Print through shared/log.ts.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.object.name='process'][object.property.name=/^std(out|err)$/]",
          message: 'Print through shared/log.ts.',
        },
      ],
    },
  },
  {
    // The sandbox reads as named steps: no function longer than a screen (tests' describe blocks excepted).
    files: ['sandbox/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }] },
  },
);
