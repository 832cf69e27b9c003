/**
 * Typed, validated action inputs. Every action reads all of its inputs through `parseInputs` before its first AWS
 * call, so a bad input fails the step with a message that names the input and the accepted form, and changes nothing.
 */
import * as core from './actions-core.js';

export class InputError extends Error {
  /** Every input that was rejected, in the order read. */
  readonly inputs: string[];

  constructor(readonly problems: Array<{ input: string; message: string }>) {
    super(problems.map((p) => p.message).join('\n'));
    this.name = 'InputError';
    this.inputs = problems.map((p) => p.input);
  }

  get input(): string {
    return this.inputs[0];
  }
}

export interface StringOptions {
  required?: boolean;
  default?: string;
  pattern?: RegExp;
  /** The accepted form, for the message when `pattern` does not match. */
  form?: string;
  /** Never repeat the value in an error message. */
  secret?: boolean;
}

export type ListSeparator = 'lines' | 'comma-or-lines' | 'whitespace';

export interface ListOptions {
  separator?: ListSeparator;
  required?: boolean;
  max?: number;
  pattern?: RegExp;
  form?: string;
  /** Why `item` does not match `pattern`, appended to the message: `' (it sets trusted)'`, or `''`. */
  why?: (item: string) => string;
}

export interface InputReader {
  /** The trimmed value; `''` when absent and optional without a default. */
  string(name: string, opts?: StringOptions): string;
  /** One of `values`, matched without regard to case and returned as written in `values`. */
  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T;
  integer(name: string, opts: { min: number; max: number; default?: number; required?: boolean }): number | undefined;
  /** The YAML 1.2 core schema booleans, as `core.getBooleanInput` reads them. */
  boolean(name: string, fallback: boolean): boolean;
  /** A duration in seconds: `90`, `90s`, `15m`, `1h`, `1h30m`. */
  seconds(name: string, opts: { min: number; max: number; default?: number; required?: boolean }): number | undefined;
  list(name: string, opts?: ListOptions): string[];
  /** `Key=Value`, one a line; split at the first `=`; keys unique. */
  keyValues(name: string, opts?: { keyPattern?: RegExp; form?: string; required?: boolean }): Array<{ key: string; value: string }>;
}

export type InputSource = (name: string) => string;

const fromRunner: InputSource = (name) => core.getInput(name);

/** What the user gave, quoted and cut short so that a pasted file cannot flood the log. */
export function shown(value: string): string {
  const cut = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return JSON.stringify(cut);
}

const SEPARATORS: Record<ListSeparator, RegExp> = {
  lines: /\r?\n/,
  'comma-or-lines': /[,\r\n]/,
  whitespace: /\s+/,
};

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$/;
const BOOLEAN: Record<string, boolean> = {
  true: true,
  True: true,
  TRUE: true,
  false: false,
  False: false,
  FALSE: false,
};

/** Reads every input through `build`, collecting every invalid one; throws one InputError listing all of them. */
export function parseInputs<T>(build: (read: InputReader) => T, source: InputSource = fromRunner): T {
  const problems: Array<{ input: string; message: string }> = [];
  const reject = (input: string, message: string): void => {
    problems.push({ input, message: `Input '${input}' ${message}` });
  };
  const raw = (name: string): string => (source(name) ?? '').trim();
  const missing = (name: string, required: boolean | undefined): void => {
    if (required) reject(name, 'is required');
  };

  const reader: InputReader = {
    string(name, opts = {}) {
      const value = raw(name);
      if (value === '') {
        if (opts.default !== undefined) return opts.default;
        missing(name, opts.required);
        return '';
      }
      if (opts.pattern && !opts.pattern.test(value)) {
        const got = opts.secret ? `a value of ${value.length} characters` : shown(value);
        reject(name, `must be ${opts.form ?? `a value matching ${opts.pattern}`}, got ${got}`);
      }
      return value;
    },

    oneOf(name, values, fallback) {
      const value = raw(name);
      if (value === '') return fallback;
      const match = values.find((v) => v.toLowerCase() === value.toLowerCase());
      if (match === undefined) reject(name, `must be one of ${values.join(', ')}; got ${shown(value)}`);
      return match ?? fallback;
    },

    integer(name, opts) {
      const value = raw(name);
      if (value === '') {
        if (opts.default !== undefined) return opts.default;
        missing(name, opts.required);
        return undefined;
      }
      const number = /^[+-]?\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(number) || number < opts.min || number > opts.max) {
        reject(name, `must be an integer ${opts.min}-${opts.max}, got ${shown(value)}`);
        return opts.default;
      }
      return number;
    },

    boolean(name, fallback) {
      const value = raw(name);
      if (value === '') return fallback;
      if (!(value in BOOLEAN)) {
        reject(name, `must be true or false, got ${shown(value)}`);
        return fallback;
      }
      return BOOLEAN[value];
    },

    seconds(name, opts) {
      const value = raw(name);
      if (value === '') {
        if (opts.default !== undefined) return opts.default;
        missing(name, opts.required);
        return undefined;
      }
      const match = DURATION.exec(value);
      const total = match ? Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0) : Number.NaN;
      if (!Number.isSafeInteger(total) || total < opts.min || total > opts.max) {
        reject(
          name,
          `must be a duration of ${opts.min}-${opts.max} seconds (such as 90, 90s, 15m, 1h), got ${shown(value)}`,
        );
        return opts.default;
      }
      return total;
    },

    list(name, opts = {}) {
      const items = raw(name)
        .split(SEPARATORS[opts.separator ?? 'lines'])
        .map((item) => item.trim())
        .filter((item) => item !== '');
      if (items.length === 0) {
        missing(name, opts.required);
        return [];
      }
      if (opts.max !== undefined && items.length > opts.max) {
        reject(name, `takes at most ${opts.max} items, got ${items.length}`);
      }
      for (const item of opts.pattern ? items : []) {
        if (!opts.pattern!.test(item)) {
          const why = opts.why?.(item) ?? '';
          reject(name, `items must each be ${opts.form ?? `a value matching ${opts.pattern}`}, got ${shown(item)}${why}`);
        }
      }
      return items;
    },

    keyValues(name, opts = {}) {
      const pairs: Array<{ key: string; value: string }> = [];
      const lines = raw(name)
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== '');
      if (lines.length === 0) missing(name, opts.required);
      for (const line of lines) {
        const at = line.indexOf('=');
        const key = at > 0 ? line.slice(0, at).trim() : '';
        if (!key || (opts.keyPattern && !opts.keyPattern.test(key))) {
          reject(name, `lines must each be ${opts.form ?? 'Key=Value'}, got ${shown(line)}`);
          continue;
        }
        if (pairs.some((p) => p.key === key)) {
          reject(name, `sets the key ${shown(key)} twice`);
          continue;
        }
        pairs.push({ key, value: line.slice(at + 1).trim() });
      }
      return pairs;
    },
  };

  const result = build(reader);
  if (problems.length > 0) throw new InputError(problems);
  return result;
}
