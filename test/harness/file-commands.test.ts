import { describe, expect, it } from '@jest/globals';
import { parseKeyValueFile, parsePathFile } from './file-commands.js';

describe('parseKeyValueFile', () => {
  it.each<[string, string, Record<string, string>]>([
    ['empty', '', {}],
    ['name=value', 'a=1\nb=two words\n', { a: '1', b: 'two words' }],
    ['value with = and <<', 'a=x=y<<z\n', { a: 'x=y<<z' }],
    ['empty value', 'a=\n', { a: '' }],
    ['later wins', 'a=1\na=2\n', { a: '2' }],
    ['heredoc (what @actions/core writes)', 'a<<ghadelimiter_1\nline 1\nline 2\nghadelimiter_1\n', { a: 'line 1\nline 2' }],
    ['empty heredoc', 'a<<D\nD\n', { a: '' }],
    ['heredoc value with = and a near-delimiter', 'a<<D\nx=1\nD2\nD\nb=2\n', { a: 'x=1\nD2', b: '2' }],
    ['CRLF', 'a=1\r\nb<<D\r\nv\r\nD\r\n', { a: '1', b: 'v' }],
  ])('%s', (_case, text, expected) => {
    expect(parseKeyValueFile(text)).toEqual(expected);
  });

  it.each([
    ['no name', '=1', /line 1 has no name/],
    ['heredoc without delimiter', 'a<<\nx\n', /needs a name and a delimiter/],
    ['heredoc never closed', 'a<<D\nx\n', /matching delimiter not found/],
    ['neither form', 'just text', /neither name=value nor name<<delimiter/],
  ])('rejects %s, as the runner does', (_case, text, message) => {
    expect(() => parseKeyValueFile(text)).toThrow(message);
  });
});

describe('parsePathFile', () => {
  it.each([
    ['', []],
    ['/a\n/b\n', ['/a', '/b']],
    ['/a\r\n\n  \n/b', ['/a', '/b']],
  ])('%j', (text, expected) => {
    expect(parsePathFile(text)).toEqual(expected);
  });
});
