import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { parseFileCommands, tempFile } from './fixtures/runner-files.js';
import { formatOutput, setOutputs, type OutputValue } from './outputs.js';

describe('formatOutput', () => {
  it.each<[string, OutputValue, string | undefined]>([
    ['a string as is', 'i-0123', 'i-0123'],
    ['an empty string as is', '', ''],
    ['a number', 42, '42'],
    ['a boolean', false, 'false'],
    ['a date as ISO 8601', new Date('2026-01-02T03:04:05Z'), '2026-01-02T03:04:05.000Z'],
    ['an array as JSON', [{ instanceId: 'i-1', status: 'Success' }], '[{"instanceId":"i-1","status":"Success"}]'],
    ['an object as JSON', { a: 1 }, '{"a":1}'],
    ['undefined: no output', undefined, undefined],
    ['null: no output', null, undefined],
  ])('%s', (_case, value, expected) => {
    expect(formatOutput(value)).toBe(expected);
  });
});

describe('setOutputs writes GITHUB_OUTPUT', () => {
  const file = tempFile('output');
  const saved = process.env.GITHUB_OUTPUT;
  beforeAll(() => {
    process.env.GITHUB_OUTPUT = file.path;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.GITHUB_OUTPUT;
    else process.env.GITHUB_OUTPUT = saved;
    file.remove();
  });
  beforeEach(() => file.clear());

  interface RefreshOutputs {
    'instance-refresh-id': string;
    'launch-template-version': number;
    status: string;
    'status-reason'?: string;
    instances: Array<{ instanceId: string }>;
  }

  it.each<[string, RefreshOutputs, Record<string, string>]>([
    [
      'every kind of value',
      { 'instance-refresh-id': 'abc', 'launch-template-version': 7, status: 'Successful', instances: [{ instanceId: 'i-1' }] },
      { 'instance-refresh-id': 'abc', 'launch-template-version': '7', status: 'Successful', instances: '[{"instanceId":"i-1"}]' },
    ],
    [
      'a multi-line value survives',
      { 'instance-refresh-id': 'abc', 'launch-template-version': 1, status: 'Failed', 'status-reason': 'line 1\nline 2', instances: [] },
      { 'instance-refresh-id': 'abc', 'launch-template-version': '1', status: 'Failed', 'status-reason': 'line 1\nline 2', instances: '[]' },
    ],
    [
      'an absent value is not written',
      { 'instance-refresh-id': 'abc', 'launch-template-version': 1, status: 'Pending', 'status-reason': undefined, instances: [] },
      { 'instance-refresh-id': 'abc', 'launch-template-version': '1', status: 'Pending', instances: '[]' },
    ],
  ])('%s', (_case, outputs, expected) => {
    setOutputs(outputs);
    expect(parseFileCommands(file.read())).toEqual(expected);
  });
});
