import { describe, expect, it } from '@jest/globals';
import { parseCommands, splitLines } from '../test/harness/commands.js';
import { captureStdout } from './fixtures/stdout.js';
import { fail, foreign, ForeignStream, info, MAX_HELD_CHARS, showUntrusted, streamForeign, warning, withCommandsStopped } from './log.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const Z = '\u200b';

/** The stop token and what was printed between stopping and resuming; throws unless they pair up. */
function stopped(lines: string[]): { token: string; inside: string[]; before: string[]; after: string[] } {
  const start = lines.findIndex((line) => line.startsWith('::stop-commands::'));
  const token = lines[start].slice('::stop-commands::'.length);
  const end = lines.indexOf(`::${token}::`);
  if (start < 0 || end < start) throw new Error(`no stop/resume pair in ${JSON.stringify(lines)}`);
  return { token, inside: lines.slice(start + 1, end), before: lines.slice(0, start), after: lines.slice(end + 1) };
}

/** Each form the runner honours, in both places a line can carry it. */
const HOSTILE: Array<[string, string]> = [
  ['add-mask after \\n', 'x\n::add-mask::pwned'],
  ['set-output after \\r', 'x\r::set-output name=pwned::pwned'],
  ['stop-commands after \\r\\n', 'x\r\n::stop-commands::pwned'],
  ['##[set-output] mid-line', 'x ##[set-output name=pwned;]pwned'],
  ['##[add-mask] at the start', '##[add-mask]pwned'],
  ['###[ (a ##[ inside)', '###[add-mask]pwned'],
  ['leading spaces and tabs', ' \t ::error::pwned'],
  ['Unicode spaces .NET trims', '\u00a0\u2003\u3000\u0085::warning::pwned'],
  ['upper case', '::ADD-MASK::pwned'],
  ['group, endgroup, echo', '::group::pwned\n::endgroup::\n::echo::on'],
  ['set-env, add-path, save-state', '::set-env name=PWNED::x\n::add-path::/pwned\n::save-state name=pwned::x'],
  ['add-matcher, debug, notice', '::add-matcher::pwned.json\n::debug::pwned\n::notice::pwned'],
];

describe('foreign', () => {
  it.each(HOSTILE)('%s: no line is a command', (_case, text) => {
    const out = foreign(text);
    expect(parseCommands(splitLines(out)).commands).toEqual([]);
    // Readable: only the marks were added, and line ends made \n.
    expect(out.replaceAll(Z, '')).toBe(text.replace(/\r\n|\r/g, '\n'));
  });

  it.each([
    ['plain text is unchanged', 'building web\n[1/3] copying', 'building web\n[1/3] copying'],
    ['a :: inside a line is left alone', 'error: a::b', 'error: a::b'],
    ['one # before [ is left alone', '#[derive]', '#[derive]'],
    ['\\r and \\r\\n become \\n', 'a\rb\r\nc', 'a\nb\nc'],
    ['marks go at line starts and inside ##[', '::x\n  ::y\n##[z', `${Z}::x\n${Z}  ::y\n##${Z}[z`],
    ['a secret next to a command stays whole', '::add-mask::cache-1:QUJD+/==', `${Z}::add-mask::cache-1:QUJD+/==`],
  ])('%s', (_case, text, expected) => {
    expect(foreign(text)).toBe(expected);
  });
});

describe('info, warning, fail', () => {
  it.each([
    ['info', () => info('Status: x\r::add-mask::pwned ##[add-mask]pwned')],
    ['warning', () => warning('x\n::stop-commands::pwned')],
    ['fail', () => fail('Deploy failed: \r::error::pwned')],
  ])('%s prints no command from the text', async (_case, print) => {
    const code = process.exitCode;
    const lines = await captureStdout(print);
    process.exitCode = code;
    const { commands } = parseCommands(lines);
    expect(commands.filter((c) => c.name !== 'error' && c.name !== 'warning')).toEqual([]);
    expect(commands.every((c) => !c.data.startsWith('pwned'))).toBe(true);
  });
});

describe('ForeignStream', () => {
  const streamed = (chunks: string[]) => {
    const out: string[] = [];
    const stream = new ForeignStream((text) => out.push(text));
    for (const chunk of chunks) stream.push(chunk);
    stream.end();
    return out.join('');
  };

  it.each([
    ['whole lines', ['a\n', 'b\n'], 'a\nb\n'],
    [':: split across chunks', ['x\n:', ':add-mask::pwned\n'], `x\n${Z}::add-mask::pwned\n`],
    ['##[ split across chunks', ['x #', '#', '[add-mask]pwned\n'], `x ##${Z}[add-mask]pwned\n`],
    ['\\r\\n split across chunks is one line end', ['a\r', '\nb\n'], 'a\nb\n'],
    ['a bare \\r then ::', ['a\r', '::error::pwned'], `a\n${Z}::error::pwned\n`],
    ['a last line without its end is ended', ['a\nb'], 'a\nb\n'],
    ['nothing', [], ''],
  ])('%s', (_case, chunks, expected) => {
    expect(streamed(chunks)).toBe(expected);
  });

  it('prints a line that never ends once it is too long, and neutralises what follows', () => {
    const out = streamed(['x'.repeat(MAX_HELD_CHARS + 1), '::add-mask::pwned\n']);
    expect(splitLines(out)).toEqual(['x'.repeat(MAX_HELD_CHARS + 1), `${Z}::add-mask::pwned`]);
  });
});

describe('streamForeign', () => {
  it('resumes commands on a line of its own though the output did not end its line', async () => {
    const lines = await captureStdout(() => streamForeign(async (push) => push('progress 50%\r::error::pwned')));
    const { inside, before, after } = stopped(lines);
    expect({ inside, before, after }).toEqual({ inside: ['progress 50%', `${Z}::error::pwned`], before: [], after: [] });
    expect(parseCommands(lines).stoppedBy).toBeUndefined();
  });
});

describe('showUntrusted', () => {
  it.each<[string, string, string, { group: string; inside: string[] }]>([
    ['plain output', 'i-0abc (Failed, exit 1)', 'building...\nerror: boom', { group: '::group::i-0abc (Failed, exit 1)', inside: ['building...', 'error: boom'] }],
    [
      'workflow commands in the text stay text',
      'i-1',
      '::add-mask::x\n::error::fake\n::endgroup::\r::set-output name=a::b',
      { group: '::group::i-1', inside: [`${Z}::add-mask::x`, `${Z}::error::fake`, `${Z}::endgroup::`, `${Z}::set-output name=a::b`] },
    ],
    ['a title stays on one line', 'i-1\n::error::x', 'out', { group: `::group::i-1 ${Z}::error::x`, inside: ['out'] }],
  ])('%s', async (_case, title, text, expected) => {
    const lines = await captureStdout(() => showUntrusted(title, text));
    const { token, inside, before, after } = stopped(lines);
    expect(token).toMatch(UUID);
    expect(before).toEqual([expected.group]);
    expect(inside).toEqual(expected.inside);
    expect(after).toEqual(['::endgroup::']);
  });
});

describe('withCommandsStopped', () => {
  it.each<[string, () => Promise<string>, 'resolves' | 'rejects']>([
    ['resumes after success', async () => 'ok', 'resolves'],
    ['resumes after a failure', async () => Promise.reject(new Error('nix build failed')), 'rejects'],
  ])('%s', async (_case, fn, outcome) => {
    let settled: Promise<string> | undefined;
    const lines = await captureStdout(async () => {
      settled = withCommandsStopped(fn);
      await settled.catch(() => undefined);
    });
    await (outcome === 'resolves' ? expect(settled).resolves.toBe('ok') : expect(settled).rejects.toThrow('nix build failed'));
    expect(stopped(lines)).toMatchObject({ inside: [], before: [], after: [] });
  });

  it('uses a new token each time', async () => {
    const lines = await captureStdout(async () => {
      await withCommandsStopped(async () => undefined);
      await withCommandsStopped(async () => undefined);
    });
    expect(new Set(lines).size).toBe(4);
  });
});
