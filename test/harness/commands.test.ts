import { describe, expect, it } from '@jest/globals';
import { parseCommand, parseCommands } from './commands.js';

describe('parseCommand', () => {
  it.each([
    ['plain text', 'hello', undefined],
    ['no closing ::', '::error message', undefined],
    ['no name', ':::: x', undefined],
    ['error', '::error::boom', { name: 'error', properties: {}, data: 'boom' }],
    ['leading spaces', '   ::notice::hi', { name: 'notice', properties: {}, data: 'hi' }],
    ['name case', '::ERROR::x', { name: 'error', properties: {}, data: 'x' }],
    ['data escapes', '::error::a%0Ab%0Dc%25d%3A', { name: 'error', properties: {}, data: 'a\nb\rc%d%3A' }],
    ['%250A is a percent then 0A', '::error::%250A', { name: 'error', properties: {}, data: '%0A' }],
    [
      'properties with escapes',
      '::warning title=A%3A B%2C C,file=src/x.ts,line=3,col=7::msg',
      { name: 'warning', properties: { title: 'A: B, C', file: 'src/x.ts', line: '3', col: '7' }, data: 'msg' },
    ],
    ['data may hold ::', '::error::a::b', { name: 'error', properties: {}, data: 'a::b' }],
    ['add-mask', '::add-mask::s3cr3t', { name: 'add-mask', properties: {}, data: 's3cr3t' }],
  ])('%s', (_case, line, expected) => {
    expect(parseCommand(line)).toEqual(expected);
  });
});

describe('parseCommands', () => {
  it.each([
    [
      'annotations of each level, in order',
      ['::error::e', 'text', '::warning file=a.ts::w', '::notice title=N::n', '::debug::d'],
      {
        annotations: [
          { level: 'error', message: 'e', properties: {} },
          { level: 'warning', message: 'w', properties: { file: 'a.ts' } },
          { level: 'notice', message: 'n', properties: { title: 'N' } },
        ],
        masks: [],
      },
    ],
    ['masks, one a line of the data', ['::add-mask::one', '::add-mask::two%0Athree', '::add-mask::'], { annotations: [], masks: ['one', 'two', 'three'] }],
    [
      'nothing is a command between stop-commands and its token',
      ['::stop-commands::tok', '::add-mask::ignored', '::error::ignored', '::tok::', '::error::seen'],
      { annotations: [{ level: 'error', message: 'seen', properties: {} }], masks: [] },
    ],
  ])('%s', (_case, lines, expected) => {
    expect(parseCommands(lines)).toMatchObject(expected);
  });

  it.each([
    ['keeps every line but add-mask', ['a', '::add-mask::x', '::error::b'], ['a', '::error::b']],
    ['keeps add-mask lines that are not commands', ['::stop-commands::t', '::add-mask::x', '::t::'], ['::stop-commands::t', '::add-mask::x', '::t::']],
  ])('logLines %s', (_case, lines, expected) => {
    expect(parseCommands(lines).logLines).toEqual(expected);
  });
});
