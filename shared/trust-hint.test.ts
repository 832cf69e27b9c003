import { describe, expect, it } from '@jest/globals';
import { conditionKeyPrefix, explainAccessDenied, explainBadAudience } from './trust-hint.js';

describe('conditionKeyPrefix', () => {
  it.each([
    [undefined, 'token.actions.githubusercontent.com'],
    ['https://token.actions.githubusercontent.com', 'token.actions.githubusercontent.com'],
    ['https://token.actions.githubusercontent.com/octo-enterprise/', 'token.actions.githubusercontent.com/octo-enterprise'],
  ])('%s -> %s', (issuer, expected) => {
    expect(conditionKeyPrefix(issuer)).toBe(expected);
  });
});

describe('explainAccessDenied', () => {
  const role = 'arn:aws:iam::123456789012:role/deploy';
  it.each<[string, Record<string, string>, string[]]>([
    [
      'a pull request token',
      { sub: 'repo:o/r:pull_request', aud: 'sts.amazonaws.com', iss: 'https://token.actions.githubusercontent.com' },
      [
        '  sub: repo:o/r:pull_request',
        '  aud: sts.amazonaws.com',
        '  "Condition": {"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":"repo:o/r:pull_request"}}',
      ],
    ],
    [
      'an environment token says why sub names the environment',
      { sub: 'repo:o/r:environment:production', environment: 'production', job_workflow_ref: 'o/r/.github/workflows/d.yml@refs/heads/main' },
      [
        '  job_workflow_ref: o/r/.github/workflows/d.yml@refs/heads/main',
        "The job runs in the environment 'production', so its sub names the environment, not the branch.",
      ],
    ],
  ])('%s', (_case, claims, expectedLines) => {
    const lines = explainAccessDenied(role, claims).split('\n');
    expect(lines[0]).toContain(role);
    for (const line of expectedLines) expect(lines).toContain(line);
  });
});

describe('explainBadAudience', () => {
  it('names the audience and the input to change', () => {
    expect(explainBadAudience({ aud: 'https://github.com/o', iss: 'https://token.actions.githubusercontent.com' })).toMatch(
      /aud: https:\/\/github.com\/o.*'audience' input/,
    );
  });
});
