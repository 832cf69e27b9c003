import { describe, expect, it } from '@jest/globals';
import { buildCommand, cacheSettings, copyTimeoutMs } from './nix-commands.js';

describe('copyTimeoutMs', () => {
  it.each([
    ['nothing to upload', 120_000, 0, 120_000],
    ['under 1 MiB', 2_000, 160, 3_000],
    ['1 GiB of NAR', 120_000, 1024 ** 3, 120_000 + 1024_000],
  ])('%s: %i ms + %i bytes -> %i ms', (_case, cacheMs, bytes, expected) => {
    expect(copyTimeoutMs(cacheMs, bytes)).toBe(expected);
  });
});

describe('cacheSettings', () => {
  it('turns off both narinfo caches and bounds connections and stalled transfers by the cache timeout', () => {
    expect(cacheSettings(120_000)).toEqual([
      '--option', 'narinfo-cache-positive-ttl', '0',
      '--option', 'narinfo-cache-negative-ttl', '0',
      '--option', 'connect-timeout', '120',
      '--option', 'stalled-download-timeout', '120',
    ]);
  });

  it('rounds a bound under a second up to one', () => {
    expect(cacheSettings(400)).toContain('1');
  });
});

describe('buildCommand', () => {
  it.each<[string[], string[]]>([
    [[], ['build', '--no-link', '--json', '--print-build-logs', '--no-update-lock-file', '.#web']],
    [['--max-jobs', '2'], ['build', '--no-link', '--json', '--print-build-logs', '--no-update-lock-file', '--max-jobs', '2', '.#web']],
  ])('with %j: %j (no input fetched that flake.lock does not pin)', (buildArgs, expected) => {
    expect(buildCommand('.#web', buildArgs)).toEqual(expected);
  });
});
