import { describe, expect, it } from '@jest/globals';
import { defaultSessionName } from './role-inputs.js';

describe('defaultSessionName', () => {
  it.each([
    [{ GITHUB_RUN_ID: '1', GITHUB_RUN_ATTEMPT: '3' }, 'GitHubActions-1-3'],
    [{}, 'GitHubActions'],
    [{ GITHUB_RUN_ID: 'a b/c', GITHUB_RUN_ATTEMPT: '1' }, 'GitHubActions-a_b_c-1'],
    [{ GITHUB_RUN_ID: '9'.repeat(80) }, `GitHubActions-${'9'.repeat(50)}`],
  ])('%j -> %s', (env, expected) => {
    expect(defaultSessionName(env)).toBe(expected);
  });
});
