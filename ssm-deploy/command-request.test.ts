import { describe, expect, it } from '@jest/globals';
import { commandComment, describeTargets, MAX_COMMENT, runContext } from './command-request.js';

describe('command request', () => {
  it.each<[string, Record<string, string>, string]>([
    ['a run', { GITHUB_REPOSITORY: 'octo-org/octo-repo', GITHUB_SHA: 'a1b2c3d4e5f6', GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '2' }, 'octo-org/octo-repo@a1b2c3d run 42/2'],
    ['outside a runner', {}, 'nixos-aws'],
  ])('comments %s', (_case, env, comment) => {
    expect(commandComment(runContext(env))).toBe(comment);
  });

  it('cuts a long comment to what SendCommand takes', () => {
    const comment = commandComment(runContext({ GITHUB_REPOSITORY: `org/${'r'.repeat(120)}`, GITHUB_RUN_ID: '1' }));
    expect(comment).toHaveLength(MAX_COMMENT);
    expect(comment.endsWith('...')).toBe(true);
  });

  it('describes tag targets as selectors ANDed', () => {
    expect(describeTargets([{ Key: 'tag:Role', Values: ['web', 'api'] }, { Key: 'tag:Env', Values: ['prod'] }])).toBe(
      'tag:Role=web,api AND tag:Env=prod',
    );
  });
});
