import { describe, expect, it } from '@jest/globals';
import { githubTrustPolicy, oidcProviderArn, parseTrustPolicy, trustPolicyAllows, type PolicyStatement } from './trust-policy.js';

const ACCOUNT = '123456789012';
const PROVIDER = 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com';
const SUB = 'token.actions.githubusercontent.com:sub';
const AUD = 'token.actions.githubusercontent.com:aud';
const request = (context: Record<string, string>, overrides: { principal?: string; action?: string } = {}) => ({
  federatedPrincipal: overrides.principal ?? PROVIDER,
  action: overrides.action ?? 'sts:AssumeRoleWithWebIdentity',
  context,
});
const allow = (condition?: PolicyStatement['Condition'], extra: Partial<PolicyStatement> = {}): PolicyStatement => ({
  Effect: 'Allow',
  Principal: { Federated: PROVIDER },
  Action: 'sts:AssumeRoleWithWebIdentity',
  ...(condition ? { Condition: condition } : {}),
  ...extra,
});
const main = { [SUB]: 'repo:octo-org/octo-repo:ref:refs/heads/main', [AUD]: 'sts.amazonaws.com' };

describe('trustPolicyAllows', () => {
  it.each<[string, PolicyStatement[], ReturnType<typeof request>, boolean]>([
    ['no condition', [allow()], request(main), true],
    ['StringEquals, equal', [allow({ StringEquals: { [AUD]: 'sts.amazonaws.com' } })], request(main), true],
    ['StringEquals is case-sensitive in values', [allow({ StringEquals: { [AUD]: 'STS.amazonaws.com' } })], request(main), false],
    ['StringEquals, key absent', [allow({ StringEquals: { [AUD]: 'sts.amazonaws.com' } })], request({}), false],
    ['condition keys in any case', [allow({ StringEquals: { [AUD.toUpperCase()]: 'sts.amazonaws.com' } })], request(main), true],
    ['StringLike with *', [allow({ StringLike: { [SUB]: 'repo:octo-org/octo-repo:*' } })], request(main), true],
    ['StringLike * crosses colons', [allow({ StringLike: { [SUB]: 'repo:octo-org/*' } })], request(main), true],
    ['StringLike with ?', [allow({ StringLike: { [SUB]: 'repo:octo-org/octo-rep?:ref:refs/heads/main' } })], request(main), true],
    ['StringLike ? is one character', [allow({ StringLike: { [SUB]: 'repo:octo-org/octo-re?:ref:refs/heads/main' } })], request(main), false],
    ['StringLike treats regex characters literally', [allow({ StringLike: { [SUB]: 'repo:octo-org/octo.repo:*' } })], request(main), false],
    ['StringLike, other repository', [allow({ StringLike: { [SUB]: 'repo:octo-org/other:*' } })], request(main), false],
    ['values within a key are ORed', [allow({ StringLike: { [SUB]: ['repo:x/y:*', 'repo:octo-org/octo-repo:ref:*'] } })], request(main), true],
    ['keys are ANDed', [allow({ StringEquals: { [AUD]: 'sts.amazonaws.com', [SUB]: 'repo:x/y:ref:refs/heads/main' } })], request(main), false],
    [
      'operators are ANDed',
      [allow({ StringEquals: { [AUD]: 'sts.amazonaws.com' }, StringNotLike: { [SUB]: '*:ref:refs/heads/main' } })],
      request(main),
      false,
    ],
    ['StringNotEquals, different', [allow({ StringNotEquals: { [SUB]: 'repo:x/y:pull_request' } })], request(main), true],
    ['StringNotEquals, equal', [allow({ StringNotEquals: { [AUD]: 'sts.amazonaws.com' } })], request(main), false],
    ['StringNotEquals, key absent', [allow({ StringNotEquals: { [SUB]: 'anything' } })], request({}), true],
    ['StringNotLike, matching', [allow({ StringNotLike: { [SUB]: '*:pull_request' } })], request({ [SUB]: 'repo:a/b:pull_request' }), false],
    ['StringNotLike, key absent', [allow({ StringNotLike: { [SUB]: '*' } })], request({}), true],
    [
      'a matching Deny wins over an Allow',
      [allow(), { Effect: 'Deny', Principal: '*', Action: 'sts:*', Condition: { StringLike: { [SUB]: '*:pull_request' } } }],
      request({ [SUB]: 'repo:a/b:pull_request' }),
      false,
    ],
    [
      'a Deny whose condition fails does not apply',
      [allow(), { Effect: 'Deny', Principal: '*', Action: 'sts:*', Condition: { StringLike: { [SUB]: '*:pull_request' } } }],
      request(main),
      true,
    ],
    ['only a Deny', [{ ...allow(), Effect: 'Deny' }], request(main), false],
    ['another provider as principal', [allow()], request(main, { principal: oidcProviderArn(ACCOUNT, 'https://gitlab.com') }), false],
    ['Principal "*"', [allow(undefined, { Principal: '*' })], request(main), true],
    ['a list of principals', [allow(undefined, { Principal: { Federated: ['arn:aws:iam::1:oidc-provider/x', PROVIDER] } })], request(main), true],
    ['an AWS principal only', [allow(undefined, { Principal: { AWS: 'arn:aws:iam::123456789012:root' } })], request(main), false],
    ['another action', [allow(undefined, { Action: 'sts:AssumeRole' })], request(main), false],
    ['action wildcard', [allow(undefined, { Action: 'sts:Assume*' })], request(main), true],
    ['actions in any case', [allow(undefined, { Action: ['STS:assumerolewithwebidentity'] })], request(main), true],
  ])('%s', (_name, statements, req, expected) => {
    expect(trustPolicyAllows({ Version: '2012-10-17', Statement: statements }, req)).toBe(expected);
  });
});

describe('githubTrustPolicy', () => {
  it('builds the documented GitHub trust policy', () => {
    expect(githubTrustPolicy(ACCOUNT, { sub: ['repo:o/r:ref:refs/heads/main', 'repo:o/r:environment:prod'] })).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: PROVIDER },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: { [AUD]: 'sts.amazonaws.com' },
            StringLike: { [SUB]: ['repo:o/r:ref:refs/heads/main', 'repo:o/r:environment:prod'] },
          },
        },
      ],
    });
  });

  it.each([
    ['repo:octo-org/octo-repo:*', undefined, main, true],
    ['repo:octo-org/octo-repo:environment:prod', undefined, main, false],
    ['repo:octo-org/octo-repo:*', 'my-audience', main, false],
    ['repo:octo-org/octo-repo:*', 'my-audience', { ...main, [AUD]: 'my-audience' }, true],
  ])('sub %s, aud %s', (sub, aud, context, expected) => {
    expect(trustPolicyAllows(githubTrustPolicy(ACCOUNT, { sub, aud }), request(context))).toBe(expected);
  });
});

describe('parseTrustPolicy', () => {
  it('accepts the JSON text IAM stores', () => {
    const policy = githubTrustPolicy(ACCOUNT, { sub: 'repo:o/r:*' });
    expect(parseTrustPolicy(JSON.stringify(policy))).toEqual(policy);
  });

  it.each([
    ['an unsupported operator', { Statement: allow({ StringEqualsIgnoreCase: { [SUB]: 'x' } }) }, /StringEqualsIgnoreCase is not supported/],
    ['a set operator', { Statement: allow({ 'ForAnyValue:StringLike': { [SUB]: 'x' } }) }, /ForAnyValue:StringLike is not supported/],
    ['NotPrincipal', { Statement: { ...allow(), NotPrincipal: { AWS: '*' } } }, /unsupported elements NotPrincipal/],
    ['a bad Effect', { Statement: { ...allow(), Effect: 'Maybe' } }, /Effect must be Allow or Deny/],
    ['no Action', { Statement: { Effect: 'Allow', Principal: '*' } }, /needs Principal and Action/],
  ])('refuses %s', (_name, policy, message) => {
    expect(() => parseTrustPolicy(policy as never)).toThrow(message);
  });
});
