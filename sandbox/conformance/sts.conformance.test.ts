import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Sandbox } from '../server.js';
import { githubTrustPolicy } from '../services/sts/sts.js';
import { awsCli, expectAllOperationsCovered } from './aws-cli.js';

describe('STS through the AWS CLI', () => {
  const sandbox = new Sandbox();
  const seen = new Set<string>();
  let roleArn: string;
  beforeAll(() => sandbox.start());
  afterAll(async () => {
    await sandbox.stop();
  });
  beforeEach(() => {
    record();
    sandbox.reset();
    roleArn = sandbox.sts.addRole({
      name: 'deploy',
      trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/octo-repo:ref:refs/heads/main' }),
    });
  });
  const record = () => sandbox.calls.all().forEach((c) => c.status === 200 && seen.add(c.operation));

  const assumeArgs = (token: string, ...extra: string[]) => [
    'sts',
    'assume-role-with-web-identity',
    '--role-arn',
    roleArn,
    '--role-session-name',
    'cli-session',
    '--web-identity-token',
    token,
    ...extra,
  ];

  it('get-caller-identity', async () => {
    const result = await awsCli(sandbox, ['sts', 'get-caller-identity']);
    expect(result).toMatchObject({ code: 0, json: { Account: '123456789012' } });
  });

  it('assume-role-with-web-identity, then get-caller-identity with the credentials', async () => {
    const token = sandbox.oidc.mint({ aud: 'sts.amazonaws.com' });
    const before = sandbox.clock.nowMs();
    const assumed = await awsCli(sandbox, assumeArgs(token, '--duration-seconds', '900'));
    const after = sandbox.clock.nowMs();
    expect(assumed).toMatchObject({
      code: 0,
      json: {
        Credentials: {
          AccessKeyId: expect.stringMatching(/^ASIA/),
          SecretAccessKey: expect.any(String),
          SessionToken: expect.any(String),
          Expiration: expect.any(String),
        },
        SubjectFromWebIdentityToken: 'repo:octo-org/octo-repo:ref:refs/heads/main',
        AssumedRoleUser: {
          AssumedRoleId: expect.stringMatching(/^AROA\w+:cli-session$/),
          Arn: 'arn:aws:sts::123456789012:assumed-role/deploy/cli-session',
        },
        Provider: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com',
        Audience: 'sts.amazonaws.com',
      },
    });
    const expiresAt = Date.parse(assumed.json.Credentials.Expiration);
    // 900 s from when the call was answered: between the clock reads taken around the CLI's run, however slow the
    // machine. The CLI may print the time to the second, so the lower bound is the second it would be cut to.
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor((before + 900_000) / 1000) * 1000);
    expect(expiresAt).toBeLessThanOrEqual(after + 900_000);

    const { AccessKeyId, SecretAccessKey, SessionToken } = assumed.json.Credentials;
    const credentials = { accessKeyId: AccessKeyId, secretAccessKey: SecretAccessKey, sessionToken: SessionToken };
    const identity = await awsCli(sandbox, ['sts', 'get-caller-identity'], credentials);
    expect(identity).toMatchObject({
      code: 0,
      json: { Arn: assumed.json.AssumedRoleUser.Arn, UserId: assumed.json.AssumedRoleUser.AssumedRoleId },
    });

    sandbox.clock.advance(900_000);
    const expired = await awsCli(sandbox, ['sts', 'get-caller-identity'], credentials);
    expect(expired.code).not.toBe(0);
    expect(expired.stderr).toMatch(/\(ExpiredToken\) when calling the GetCallerIdentity operation \(reached max retries: 0\): The security token included in the request is expired/);
  });

  it('reports a packed size for session policies', async () => {
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
    const token = sandbox.oidc.mint({ aud: 'sts.amazonaws.com' });
    const assumed = await awsCli(sandbox, assumeArgs(token, '--policy', policy, '--policy-arns', 'arn=arn:aws:iam::aws:policy/ReadOnlyAccess'));
    expect(assumed).toMatchObject({ code: 0, json: { PackedPolicySize: expect.any(Number) } });
  });

  it.each([
    ['the wrong audience', { aud: 'https://github.com/octo-org' }, {}, 'InvalidIdentityToken', 'Incorrect token audience'],
    ['another branch', { aud: 'sts.amazonaws.com', ref: 'refs/heads/dev' }, {}, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity'],
    ['an expired token', { aud: 'sts.amazonaws.com' }, { expiresInSeconds: -5 }, 'ExpiredTokenException', 'Token expired: current date/time'],
  ])('assume-role-with-web-identity with %s fails', async (_name, claims, options, code, message) => {
    const result = await awsCli(sandbox, assumeArgs(sandbox.oidc.mint(claims, options)));
    expect(result.code).not.toBe(0);
    // AWS_MAX_ATTEMPTS=1: the CLI notes that it gave up retrying.
    expect(result.stderr).toMatch(new RegExp(`\\(${code}\\) when calling the AssumeRoleWithWebIdentity operation \\(reached max retries: 0\\): ${message}`));
  });

  it('covers every STS operation the sandbox implements', () => {
    record();
    expectAllOperationsCovered(sandbox, 'sts', seen);
  });
});
