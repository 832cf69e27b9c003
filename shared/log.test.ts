import { describe, expect, it } from '@jest/globals';
import { captureStdout } from './fixtures/stdout.js';
import { showUntrusted, withCommandsStopped } from './log.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The stop token and what was printed between stopping and resuming; throws unless they pair up. */
function stopped(lines: string[]): { token: string; inside: string[]; before: string[]; after: string[] } {
  const start = lines.findIndex((line) => line.startsWith('::stop-commands::'));
  const token = lines[start].slice('::stop-commands::'.length);
  const end = lines.indexOf(`::${token}::`);
  if (start < 0 || end < start) throw new Error(`no stop/resume pair in ${JSON.stringify(lines)}`);
  return { token, inside: lines.slice(start + 1, end), before: lines.slice(0, start), after: lines.slice(end + 1) };
}

describe('showUntrusted', () => {
  it.each<[string, string, string, { group: string; inside: string[] }]>([
    ['plain output', 'i-0abc (Failed, exit 1)', 'building...\nerror: boom', { group: '::group::i-0abc (Failed, exit 1)', inside: ['building...', 'error: boom'] }],
    [
      'workflow commands in the text stay text',
      'i-1',
      '::add-mask::x\n::error::fake\n::endgroup::\n::set-output name=a::b',
      { group: '::group::i-1', inside: ['::add-mask::x', '::error::fake', '::endgroup::', '::set-output name=a::b'] },
    ],
    ['a title stays on one line', 'i-1\n::error::x', 'out', { group: '::group::i-1 ::error::x', inside: ['out'] }],
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
