import { describe, expect, it } from '@jest/globals';
import { parseCommand, parseCommands, splitLines } from './commands.js';

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
    ['an unknown name', '::pwned::x', undefined],
    ['escapes are case-sensitive', '::error::a%0ab', { name: 'error', properties: {}, data: 'a%0ab' }],
    ['tab and Unicode spaces before ::', '\t\u00a0\u3000::error::x', { name: 'error', properties: {}, data: 'x' }],
    ['a zero-width space before :: is not space', '\u200b::error::x', undefined],
    ['##[ form', '##[add-mask]s3cr3t', { name: 'add-mask', properties: {}, data: 's3cr3t' }],
    ['##[ anywhere in the line', 'build> ##[set-output name=x;]y', { name: 'set-output', properties: { name: 'x' }, data: 'y' }],
    ['##[ properties and escapes', '##[warning file=a.ts;line=3]a%3Bb%5D', { name: 'warning', properties: { file: 'a.ts', line: '3' }, data: 'a;b]' }],
    ['##[ name case', '##[ADD-MASK]x', { name: 'add-mask', properties: {}, data: 'x' }],
    ['only the first ##[ counts', '##[pwned]x ##[add-mask]y', undefined],
    ['##[ without ]', '##[add-mask x', undefined],
    [':: first, so ##[ in its data is inert', '::error::x ##[add-mask]y', { name: 'error', properties: {}, data: 'x ##[add-mask]y' }],
    ['an unregistered :: name falls back to ##[', '::pwned::##[add-mask]y', { name: 'add-mask', properties: {}, data: 'y' }],
    ['properties without a value are dropped', '::set-output name=,x=1::v', { name: 'set-output', properties: { x: '1' }, data: 'v' }],
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
    [
      'the ##[token] form resumes, in any case',
      ['::stop-commands::Tok', '::error::ignored', 'x ##[tok]', '::error::seen'],
      { annotations: [{ level: 'error', message: 'seen', properties: {} }] },
    ],
    [
      'an unresumed stop hides the step\'s own error',
      ['::stop-commands::pwned', '::error::the step failed'],
      { annotations: [], stoppedBy: 'pwned' },
    ],
    ['an empty stop token never resumes', ['::stop-commands::', '::::', '::error::lost'], { annotations: [], stoppedBy: '' }],
  ])('%s', (_case, lines, expected) => {
    const parsed = parseCommands(lines);
    expect(parsed).toMatchObject(expected);
    expect(parsed.stoppedBy).toBe((expected as { stoppedBy?: string }).stoppedBy);
  });

  it.each([
    ['keeps every line but add-mask', ['a', '::add-mask::x', '::error::b'], ['a', '::error::b']],
    ['keeps add-mask lines that are not commands', ['::stop-commands::t', '::add-mask::x', '::t::'], ['::stop-commands::t', '::add-mask::x', '::t::']],
  ])('logLines %s', (_case, lines, expected) => {
    expect(parseCommands(lines).logLines).toEqual(expected);
  });
});

describe('commands run', () => {
  it('lists each command with its line, resumes included', () => {
    const lines = ['a', '::group::g', '::stop-commands::t', '::set-output name=x::y', '::t::', '##[add-mask]m', 'x ##[set-env name=A;]b'];
    expect(parseCommands(lines).commands).toEqual([
      { name: 'group', properties: {}, data: 'g', line: 1 },
      { name: 'stop-commands', properties: {}, data: 't', line: 2 },
      { name: 't', properties: {}, data: '', line: 4 },
      { name: 'add-mask', properties: {}, data: 'm', line: 5 },
      { name: 'set-env', properties: { name: 'A' }, data: 'b', line: 6 },
    ]);
  });
});

describe('splitLines', () => {
  it.each([
    ['nothing', '', []],
    ['\\n, \\r\\n and a bare \\r end lines', 'a\nb\r\nc\rd', ['a', 'b', 'c', 'd']],
    ['a final line end ends the last line', 'a\r', ['a']],
    ['\\r\\r is an empty line', 'a\r\rb', ['a', '', 'b']],
  ])('%s', (_case, text, expected) => {
    expect(splitLines(text)).toEqual(expected);
  });
});
