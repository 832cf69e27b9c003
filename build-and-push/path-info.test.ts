import { describe, expect, it } from '@jest/globals';
import { byPath, closureOf, keyName, narSize, parsePathInfo, unsignedBy } from './path-info.js';

const P = (name: string) => `/nix/store/${name.padEnd(32, '0')}-${name}`;
const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(P);

describe('parsePathInfo', () => {
  it.each<[string, string]>([
    [
      'Nix before 2.19: an array, missing paths marked invalid',
      JSON.stringify([
        { path: c, narSize: 300, references: [a, b, c], signatures: ['k-1:x'] },
        { path: d, valid: false },
      ]),
    ],
    [
      'Nix 2.19 and later: an object by path, missing paths null',
      JSON.stringify({ [c]: { narSize: 300, references: [a, b, c], signatures: ['k-1:x'] }, [d]: null }),
    ],
  ])('reads %s', (_case, json) => {
    expect(parsePathInfo(json)).toEqual([{ path: c, narSize: 300, references: [a, b, c], signatures: ['k-1:x'] }]);
  });

  it('takes an absent signature list as no signature', () => {
    expect(parsePathInfo(JSON.stringify([{ path: a, narSize: 1, references: [] }]))[0].signatures).toEqual([]);
  });
});

describe('closures', () => {
  const infos = byPath([
    { path: a, narSize: 100, references: [], signatures: ['k-1:s', 'other-1:s'] },
    { path: b, narSize: 200, references: [a, b], signatures: ['other-1:s'] },
    { path: c, narSize: 300, references: [b], signatures: [] },
    { path: d, narSize: 400, references: [a], signatures: ['k-2:s'] },
  ]);

  it.each<[string[], string[], number]>([
    [[a], [a], 100],
    [[c], [c, b, a], 600],
    [[c, d], [c, d, b, a], 1000],
  ])('of %j is %j, %i bytes', (roots, closure, bytes) => {
    expect(closureOf(roots, infos)).toEqual(closure);
    expect(narSize(closureOf(roots, infos), infos)).toBe(bytes);
  });

  it('fails on a path Nix did not describe', () => {
    expect(() => closureOf([P('e')], infos)).toThrow(/did not describe/);
  });

  it.each<[string, string[]]>([
    ['k-1', [b, c, d]],
    ['k-2', [a, b, c]],
    ['other-1', [c, d]],
  ])('unsigned by %s: %j', (name, unsigned) => {
    expect(unsignedBy(name, [a, b, c, d], infos)).toEqual(unsigned);
  });

  it.each([
    [`cache.example.org-1:${'A'.repeat(86)}==`, 'cache.example.org-1'],
    ['k-1:c2ln', 'k-1'],
  ])('the key name of %s is %s', (keyOrSignature, name) => {
    expect(keyName(keyOrSignature)).toBe(name);
  });
});
