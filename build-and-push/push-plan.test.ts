import { describe, expect, it } from '@jest/globals';
import { planPush } from './push-plan.js';

describe('planPush', () => {
  it.each<[string, string[][], string[], { uploads: string[][]; pushed: number; skipped: number }]>([
    ['an empty cache', [['c', 'b', 'a']], [], { uploads: [['c', 'b', 'a']], pushed: 3, skipped: 0 }],
    ['a cache with all of it', [['c', 'b', 'a']], ['a', 'b', 'c'], { uploads: [[]], pushed: 0, skipped: 3 }],
    ['a cache with part of it', [['c', 'b', 'a']], ['a'], { uploads: [['c', 'b']], pushed: 2, skipped: 1 }],
    [
      'two closures sharing paths: the first uploads them, each counted once',
      [['c', 'b', 'a'], ['d', 'b', 'a']],
      ['a'],
      { uploads: [['c', 'b'], ['d']], pushed: 3, skipped: 1 },
    ],
    ['the same installable twice', [['b', 'a'], ['b', 'a']], [], { uploads: [['b', 'a'], []], pushed: 2, skipped: 0 }],
  ])('%s', (_case, closures, inCache, plan) => {
    expect(planPush(closures, new Set(inCache))).toEqual(plan);
  });
});
