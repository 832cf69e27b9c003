import { describe, expect, it } from '@jest/globals';
import { InputError, parseInputs, type InputReader } from './inputs.js';

const from = (values: Record<string, string>) => (name: string) => values[name] ?? '';

/** Runs one reader call against one input value; returns the value or the error message. */
function read<T>(value: string | undefined, call: (r: InputReader) => T): T | string {
  try {
    return parseInputs(call, from(value === undefined ? {} : { x: value }));
  } catch (error) {
    if (error instanceof InputError) return error.message;
    throw error;
  }
}

describe('string', () => {
  const storePath = /^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]+$/;
  it.each<[string, string | undefined, Parameters<InputReader['string']>[1], string]>([
    ['absent, optional', undefined, {}, ''],
    ['absent, default', undefined, { default: 'd' }, 'd'],
    ['absent, required', undefined, { required: true }, "Input 'x' is required"],
    ['blank counts as absent', '   ', { required: true }, "Input 'x' is required"],
    ['trimmed', '  v  ', {}, 'v'],
    ['pattern ok', '/nix/store/' + 'a'.repeat(32) + '-hello', { pattern: storePath }, '/nix/store/' + 'a'.repeat(32) + '-hello'],
    [
      'pattern rejected, with the form',
      '/nix/store/xyz',
      { pattern: storePath, form: 'a store path /nix/store/<hash>-<name>' },
      `Input 'x' must be a store path /nix/store/<hash>-<name>, got "/nix/store/xyz"`,
    ],
    ['a secret is never repeated', 'hunter2', { pattern: /^k:/, form: 'name:base64', secret: true }, "Input 'x' must be name:base64, got a value of 7 characters"],
    ['long values are cut', 'y'.repeat(200), { pattern: /^x$/, form: 'x' }, `Input 'x' must be x, got "${'y'.repeat(77)}..."`],
  ])('%s', (_case, value, opts, expected) => {
    expect(read(value, (r) => r.string('x', opts))).toBe(expected);
  });
});

describe('oneOf', () => {
  const values = ['wait', 'cancel', 'fail'] as const;
  it.each<[string | undefined, string]>([
    [undefined, 'wait'],
    ['cancel', 'cancel'],
    ['CANCEL', 'cancel'],
    ['stop', `Input 'x' must be one of wait, cancel, fail; got "stop"`],
  ])('%s -> %s', (value, expected) => {
    expect(read(value, (r) => r.oneOf('x', values, 'wait'))).toBe(expected);
  });
});

describe('integer', () => {
  it.each<[string | undefined, { min: number; max: number; default?: number; required?: boolean }, number | undefined | string]>([
    [undefined, { min: 0, max: 100, default: 90 }, 90],
    [undefined, { min: 0, max: 100 }, undefined],
    [undefined, { min: 0, max: 100, required: true }, "Input 'x' is required"],
    ['0', { min: 0, max: 100 }, 0],
    ['100', { min: 0, max: 100 }, 100],
    ['+7', { min: 0, max: 100 }, 7],
    ['101', { min: 0, max: 100 }, `Input 'x' must be an integer 0-100, got "101"`],
    ['-1', { min: 0, max: 100 }, `Input 'x' must be an integer 0-100, got "-1"`],
    ['abc', { min: 0, max: 100 }, `Input 'x' must be an integer 0-100, got "abc"`],
    ['1.5', { min: 0, max: 100 }, `Input 'x' must be an integer 0-100, got "1.5"`],
    ['1e2', { min: 0, max: 100 }, `Input 'x' must be an integer 0-100, got "1e2"`],
    ['99999999999999999999', { min: 0, max: Number.MAX_SAFE_INTEGER }, `Input 'x' must be an integer 0-9007199254740991, got "99999999999999999999"`],
  ])('%s with %j -> %s', (value, opts, expected) => {
    expect(read(value, (r) => r.integer('x', opts))).toBe(expected);
  });
});

describe('boolean', () => {
  it.each<[string | undefined, boolean, boolean | string]>([
    [undefined, true, true],
    [undefined, false, false],
    ['true', false, true],
    ['True', false, true],
    ['TRUE', false, true],
    ['false', true, false],
    ['False', true, false],
    ['FALSE', true, false],
    ['yes', true, `Input 'x' must be true or false, got "yes"`],
    ['1', true, `Input 'x' must be true or false, got "1"`],
  ])('%s (fallback %s) -> %s', (value, fallback, expected) => {
    expect(read(value, (r) => r.boolean('x', fallback))).toBe(expected);
  });
});

describe('seconds', () => {
  const range = { min: 0, max: 172800 };
  it.each<[string | undefined, number | undefined | string]>([
    [undefined, undefined],
    ['90', 90],
    ['90s', 90],
    ['15m', 900],
    ['1h', 3600],
    ['1h30m', 5400],
    ['2h0m5s', 7205],
    ['48h', 172800],
    ['49h', `Input 'x' must be a duration of 0-172800 seconds (such as 90, 90s, 15m, 1h), got "49h"`],
    ['5 minutes', `Input 'x' must be a duration of 0-172800 seconds (such as 90, 90s, 15m, 1h), got "5 minutes"`],
    ['-5', `Input 'x' must be a duration of 0-172800 seconds (such as 90, 90s, 15m, 1h), got "-5"`],
  ])('%s -> %s', (value, expected) => {
    expect(read(value, (r) => r.seconds('x', range))).toBe(expected);
  });
});

describe('list', () => {
  it.each<[string | undefined, Parameters<InputReader['list']>[1], string[] | string]>([
    [undefined, {}, []],
    [undefined, { required: true }, "Input 'x' is required"],
    ['a\n\n b \r\nc', {}, ['a', 'b', 'c']],
    ['a, b\nc,', { separator: 'comma-or-lines' }, ['a', 'b', 'c']],
    ['a  b\tc\nd', { separator: 'whitespace' }, ['a', 'b', 'c', 'd']],
    ['a,b,c', { separator: 'comma-or-lines', max: 2 }, "Input 'x' takes at most 2 items, got 3"],
    ['i-0123456789abcdef0,i-zz', { separator: 'comma-or-lines', pattern: /^i-[0-9a-f]{8,17}$/, form: 'an instance ID (i-0123...)' }, `Input 'x' items must each be an instance ID (i-0123...), got "i-zz"`],
  ])('%j with %j -> %j', (value, opts, expected) => {
    expect(read(value, (r) => r.list('x', opts))).toEqual(expected);
  });
});

describe('keyValues', () => {
  it.each<[string | undefined, { keyPattern?: RegExp; form?: string; required?: boolean } | undefined, unknown]>([
    [undefined, undefined, []],
    [undefined, { required: true }, "Input 'x' is required"],
    ['Substituters=s3://cache?region=eu-west-1\n Env = prod ', undefined, [
      { key: 'Substituters', value: 's3://cache?region=eu-west-1' },
      { key: 'Env', value: 'prod' },
    ]],
    ['Empty=', undefined, [{ key: 'Empty', value: '' }]],
    ['novalue', undefined, `Input 'x' lines must each be Key=Value, got "novalue"`],
    ['=v', undefined, `Input 'x' lines must each be Key=Value, got "=v"`],
    ['A=1\nA=2', undefined, `Input 'x' sets the key "A" twice`],
    ['bad/key=v', { keyPattern: /^[A-Za-z0-9 +\-=.,_:@]+$/, form: 'Key=Value with keys of A-Za-z0-9 +-=.,_:@' }, `Input 'x' lines must each be Key=Value with keys of A-Za-z0-9 +-=.,_:@, got "bad/key=v"`],
  ])('%j -> %j', (value, opts, expected) => {
    expect(read(value, (r) => r.keyValues('x', opts))).toEqual(expected);
  });
});

describe('parseInputs', () => {
  it('reports every invalid input at once, in order, and names them', () => {
    const source = from({ a: 'x', b: '7', c: 'maybe' });
    let caught: InputError | undefined;
    try {
      parseInputs((r) => ({ a: r.integer('a', { min: 0, max: 1 }), b: r.integer('b', { min: 0, max: 9 }), c: r.boolean('c', true), d: r.string('d', { required: true }) }), source);
    } catch (error) {
      caught = error as InputError;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect(caught?.inputs).toEqual(['a', 'c', 'd']);
    expect(caught?.input).toBe('a');
    expect(caught?.message.split('\n')).toEqual([
      `Input 'a' must be an integer 0-1, got "x"`,
      `Input 'c' must be true or false, got "maybe"`,
      "Input 'd' is required",
    ]);
  });

  it('returns the typed object when everything is valid', () => {
    const parsed = parseInputs((r) => ({ n: r.integer('n', { min: 0, max: 9 }), w: r.boolean('w', false) }), from({ n: '3', w: 'true' }));
    expect(parsed).toEqual({ n: 3, w: true });
  });

  it('reads INPUT_ variables the way the runner sets them by default', () => {
    process.env['INPUT_MIN-HEALTHY-PERCENTAGE'] = ' 75 ';
    try {
      expect(parseInputs((r) => r.integer('min-healthy-percentage', { min: 0, max: 100 }))).toBe(75);
    } finally {
      delete process.env['INPUT_MIN-HEALTHY-PERCENTAGE'];
    }
  });
});
