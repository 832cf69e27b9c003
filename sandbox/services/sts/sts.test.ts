import {
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  STSClient,
  type AssumeRoleWithWebIdentityCommandInput,
} from '@aws-sdk/client-sts';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Sandbox } from '../../server.js';
import type { ClaimOverrides, MintOptions } from '../oidc/oidc.js';
import { githubTrustPolicy } from './sts.js';

const ACCOUNT = '123456789012';
const SUB = 'token.actions.githubusercontent.com:sub';
const PROVIDER_ARN = 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com';

describe('STS', () => {
  const sandbox = new Sandbox();
  /** No credentials at all: AssumeRoleWithWebIdentity is an unsigned call. */
  let anonymous: STSClient;
  const stsWith = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
    new STSClient({ region: sandbox.region, endpoint: sandbox.url, credentials, maxAttempts: 1 });
  let roleArn: string;

  beforeAll(async () => {
    await sandbox.start();
    anonymous = new STSClient({
      region: sandbox.region,
      endpoint: sandbox.url,
      maxAttempts: 1,
      credentials: () => Promise.reject(new Error('AssumeRoleWithWebIdentity must not need credentials')),
    });
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => {
    sandbox.reset();
    roleArn = sandbox.sts.addRole({ name: 'deploy', trustPolicy: githubTrustPolicy(ACCOUNT, { sub: 'repo:octo-org/octo-repo:*' }) });
  });

  const token = (claims: ClaimOverrides = {}, options?: MintOptions) =>
    sandbox.oidc.mint({ aud: 'sts.amazonaws.com', ...claims }, options);
  const assume = (input: Partial<AssumeRoleWithWebIdentityCommandInput> = {}) =>
    anonymous.send(
      new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: 'gha-run', WebIdentityToken: token(), ...input }),
    );

  describe('AssumeRoleWithWebIdentity succeeds', () => {
    it('with credentials GetCallerIdentity attributes to the role', async () => {
      const before = sandbox.clock.nowMs();
      const answer = await assume();
      const after = sandbox.clock.nowMs();
      expect(answer).toMatchObject({
        SubjectFromWebIdentityToken: 'repo:octo-org/octo-repo:ref:refs/heads/main',
        AssumedRoleUser: {
          Arn: 'arn:aws:sts::123456789012:assumed-role/deploy/gha-run',
          AssumedRoleId: expect.stringMatching(/^AROA[A-Z2-7]{17}:gha-run$/),
        },
        Provider: PROVIDER_ARN,
        Audience: 'sts.amazonaws.com',
      });
      expect(answer.PackedPolicySize).toBeUndefined();
      // An hour from when the call was answered: between the clock reads taken around it, however slow the machine.
      const expiresAt = answer.Credentials!.Expiration!.getTime();
      expect(expiresAt).toBeGreaterThanOrEqual(before + 3600_000);
      expect(expiresAt).toBeLessThanOrEqual(after + 3600_000);

      const { AccessKeyId, SecretAccessKey, SessionToken } = answer.Credentials!;
      const identity = await stsWith({ accessKeyId: AccessKeyId!, secretAccessKey: SecretAccessKey!, sessionToken: SessionToken! }).send(
        new GetCallerIdentityCommand({}),
      );
      expect(identity).toMatchObject({
        Account: ACCOUNT,
        Arn: answer.AssumedRoleUser!.Arn,
        UserId: answer.AssumedRoleUser!.AssumedRoleId,
      });
      expect(sandbox.calls.all().map((c) => [c.operation, c.caller])).toEqual([
        ['AssumeRoleWithWebIdentity', 'anonymous'],
        ['GetCallerIdentity', answer.AssumedRoleUser!.Arn],
      ]);
    });

    it.each<[string, () => Partial<AssumeRoleWithWebIdentityCommandInput>, Record<string, unknown>]>([
      [
        'an environment subject allowed by a list of patterns',
        () => {
          sandbox.oidc.setClaims({ environment: 'production' });
          return {
            RoleArn: sandbox.sts.addRole({
              name: 'prod',
              trustPolicy: githubTrustPolicy(ACCOUNT, { sub: ['repo:octo-org/octo-repo:ref:refs/tags/*', 'repo:octo-org/octo-repo:environment:production'] }),
            }),
          };
        },
        { SubjectFromWebIdentityToken: 'repo:octo-org/octo-repo:environment:production' },
      ],
      [
        'a role with a path (not part of the assumed-role ARN)',
        () => ({
          RoleArn: sandbox.sts.addRole({ name: 'ci', path: '/github/', trustPolicy: githubTrustPolicy(ACCOUNT, { sub: 'repo:octo-org/*' }) }),
        }),
        { AssumedRoleUser: { Arn: 'arn:aws:sts::123456789012:assumed-role/ci/gha-run', AssumedRoleId: expect.any(String) } },
      ],
      [
        'the trust policy as JSON text and a custom audience',
        () => {
          sandbox.sts.setProviderAudiences(['sts.amazonaws.com', 'my-aud']);
          const policy = JSON.stringify(githubTrustPolicy(ACCOUNT, { sub: 'repo:octo-org/octo-repo:*', aud: 'my-aud' }));
          return { RoleArn: sandbox.sts.addRole({ name: 'custom', trustPolicy: policy }), WebIdentityToken: token({ aud: 'my-aud' }) };
        },
        { Audience: 'my-aud' },
      ],
      ['the shortest duration', () => ({ DurationSeconds: 900 }), {}],
      [
        "the role's longest duration",
        () => ({
          DurationSeconds: 43200,
          RoleArn: sandbox.sts.addRole({ name: 'long', maxSessionDuration: 43200, trustPolicy: githubTrustPolicy(ACCOUNT, { sub: '*' }) }),
        }),
        {},
      ],
      [
        'session policies, reporting their packed size',
        () => ({
          Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }] }),
          PolicyArns: [{ arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
        }),
        { PackedPolicySize: expect.any(Number) },
      ],
    ])('%s', async (_name, setup, expected) => {
      const input = setup();
      const before = sandbox.clock.nowMs();
      const answer = await assume(input);
      const after = sandbox.clock.nowMs();
      expect(answer).toMatchObject(expected);
      const duration = input.DurationSeconds ?? 3600;
      const expiresAt = answer.Credentials!.Expiration!.getTime();
      expect(expiresAt).toBeGreaterThanOrEqual(before + duration * 1000);
      expect(expiresAt).toBeLessThanOrEqual(after + duration * 1000);
    });

    it('reports a packed size between 1 and 100 percent that grows with the policy', async () => {
      const policy = (n: number) =>
        JSON.stringify({ Statement: Array.from({ length: n }, (_, i) => ({ Effect: 'Allow', Action: `svc${i}:Get*`, Resource: '*' })) });
      const small = (await assume({ Policy: policy(1) })).PackedPolicySize!;
      const large = (await assume({ Policy: policy(30) })).PackedPolicySize!;
      expect(small).toBeGreaterThanOrEqual(1);
      expect(large).toBeGreaterThan(small);
      expect(large).toBeLessThanOrEqual(100);
    });
  });

  describe('AssumeRoleWithWebIdentity fails as AWS does', () => {
    const deniedRole = () =>
      sandbox.sts.addRole({
        name: 'guarded',
        trustPolicy: {
          Statement: [
            ...(githubTrustPolicy(ACCOUNT, { sub: 'repo:octo-org/octo-repo:*' }).Statement as never[]),
            { Effect: 'Deny', Principal: '*', Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringLike: { [SUB]: '*:ref:refs/heads/main' } } },
          ],
        },
      });

    const rejections: [string, () => Partial<AssumeRoleWithWebIdentityCommandInput>, string, string | RegExp][] = [
      [
        'a token that is not a JWT',
        () => ({ WebIdentityToken: 'gho_opaque-access-token' }),
        'InvalidIdentityTokenException',
        'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)',
      ],
      ['a token signed with another key', () => ({ WebIdentityToken: token({}, { foreignKey: true }) }), 'InvalidIdentityTokenException', /signature/],
      ['a tampered signature', () => ({ WebIdentityToken: token({}, { tamperSignature: true }) }), 'InvalidIdentityTokenException', /signature/],
      ['a kid the issuer does not publish', () => ({ WebIdentityToken: token({}, { header: { kid: 'rotated-away' } }) }), 'InvalidIdentityTokenException', /signature/],
      ['an algorithm other than RS256', () => ({ WebIdentityToken: token({}, { header: { alg: 'HS256' } }) }), 'InvalidIdentityTokenException', /signature/],
      [
        'an issuer without a provider in the account',
        () => ({ WebIdentityToken: token({ iss: 'https://gitlab.example.com' }) }),
        'InvalidIdentityTokenException',
        'No OpenIDConnect provider found in your account for https://gitlab.example.com',
      ],
      [
        'an account without the GitHub provider',
        () => {
          sandbox.sts.removeProvider();
          return {};
        },
        'InvalidIdentityTokenException',
        'No OpenIDConnect provider found in your account for https://token.actions.githubusercontent.com',
      ],
      [
        "GitHub's default audience",
        () => ({ WebIdentityToken: sandbox.oidc.mint() }),
        'InvalidIdentityTokenException',
        'Incorrect token audience',
      ],
      [
        'an audience the provider does not list',
        () => {
          sandbox.sts.setProviderAudiences(['my-aud']);
          return {};
        },
        'InvalidIdentityTokenException',
        'Incorrect token audience',
      ],
      [
        'an expired token',
        () => ({ WebIdentityToken: token({}, { expiresInSeconds: -1 }) }),
        'ExpiredTokenException',
        /^Token expired: current date\/time \d+ must be before the expiration date\/time\d+$/,
      ],
      [
        'a token that expired on the sandbox clock',
        () => {
          const stale = token();
          sandbox.clock.advance(301_000);
          return { WebIdentityToken: stale };
        },
        'ExpiredTokenException',
        /^Token expired/,
      ],
      [
        'a subject from another repository',
        () => ({ WebIdentityToken: token({ repository: 'evil-org/octo-repo' }) }),
        'AccessDenied',
        'Not authorized to perform sts:AssumeRoleWithWebIdentity',
      ],
      [
        'an environment subject where the policy wants a branch',
        () => {
          sandbox.oidc.setClaims({ environment: 'staging' });
          return {
            RoleArn: sandbox.sts.addRole({ name: 'main-only', trustPolicy: githubTrustPolicy(ACCOUNT, { sub: 'repo:octo-org/octo-repo:ref:refs/heads/main' }) }),
          };
        },
        'AccessDenied',
        'Not authorized to perform sts:AssumeRoleWithWebIdentity',
      ],
      [
        'a trust policy that wants another audience',
        () => ({ RoleArn: sandbox.sts.addRole({ name: 'aud', trustPolicy: githubTrustPolicy(ACCOUNT, { sub: '*', aud: 'other' }) }) }),
        'AccessDenied',
        'Not authorized to perform sts:AssumeRoleWithWebIdentity',
      ],
      ['a matching Deny statement', () => ({ RoleArn: deniedRole() }), 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity'],
      [
        'a role that does not exist',
        () => ({ RoleArn: 'arn:aws:iam::123456789012:role/nope' }),
        'AccessDenied',
        'Not authorized to perform sts:AssumeRoleWithWebIdentity',
      ],
      [
        'a role in another account',
        () => ({ RoleArn: 'arn:aws:iam::210987654321:role/deploy' }),
        'AccessDenied',
        'Not authorized to perform sts:AssumeRoleWithWebIdentity',
      ],
      [
        'a session name with a slash',
        () => ({ RoleSessionName: 'octo-org/octo-repo' }),
        'ValidationError',
        "1 validation error detected: Value 'octo-org/octo-repo' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
      ],
      [
        'a one-character session name',
        () => ({ RoleSessionName: 'a' }),
        'ValidationError',
        "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
      ],
      [
        'a 65-character session name with a bracket',
        () => ({ RoleSessionName: `dependabot[bot]${'x'.repeat(50)}` }),
        'ValidationError',
        /^2 validation errors detected: .*length less than or equal to 64; .*regular expression pattern/,
      ],
      [
        'a duration under 15 minutes',
        () => ({ DurationSeconds: 899 }),
        'ValidationError',
        "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
      ],
      [
        'a duration over 12 hours',
        () => ({ DurationSeconds: 43201 }),
        'ValidationError',
        "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200",
      ],
      [
        "a duration over the role's maximum",
        () => ({ DurationSeconds: 3601 }),
        'ValidationError',
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      ],
      ['a user ARN as role', () => ({ RoleArn: 'arn:aws:iam::123456789012:user/deploy' }), 'ValidationError', 'Request ARN is invalid'],
      [
        'a role name instead of an ARN',
        () => ({ RoleArn: 'deploy' }),
        'ValidationError',
        "1 validation error detected: Value 'deploy' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20",
      ],
      ['a session policy that is not JSON', () => ({ Policy: '{"Statement": [' }), 'MalformedPolicyDocumentException', 'This policy contains invalid Json'],
      ['a session policy without statements', () => ({ Policy: '{"Version": "2012-10-17"}' }), 'MalformedPolicyDocumentException', 'Syntax errors in policy.'],
      [
        'eleven managed session policies',
        () => ({ PolicyArns: Array.from({ length: 11 }, (_, i) => ({ arn: `arn:aws:iam::aws:policy/P${i}` })) }),
        'ValidationError',
        /^1 validation error detected: Value '\[.*P10\}\]' at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to 10$/,
      ],
    ];
    it.each(rejections.map(([name, setup, code, message]) => ({ name, setup, code, message })))(
      '$name: $code',
      async ({ setup, code, message }) => {
      const error = await assume(setup()).then(
        () => undefined,
        (e: unknown) => e as { name: string; message: string; $metadata: { httpStatusCode: number } },
      );
      expect(error?.name).toBe(code);
      if (typeof message === 'string') expect(error?.message).toBe(message);
      else expect(error?.message).toMatch(message);
      expect(error?.$metadata.httpStatusCode).toBe(code === 'AccessDenied' ? 403 : 400);
      expect(sandbox.sts.issuedSecrets()).toEqual([]);
      },
    );

    it('never echoes the web identity token in an error', async () => {
      const error = (await assume({ RoleSessionName: 'x' }).catch((e: unknown) => e)) as Error;
      expect(error.message).not.toContain(sandbox.oidc.issuedTokens()[0]);
      expect(error.message).toMatch(/roleSessionName/);
    });
  });

  describe('issued credentials', () => {
    it('expire on the sandbox clock with ExpiredToken', async () => {
      const { Credentials } = await assume({ DurationSeconds: 900 });
      const sts = stsWith({ accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! });
      await expect(sts.send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({ Arn: expect.stringContaining('assumed-role') });
      sandbox.clock.advance(900_000);
      await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
        name: 'ExpiredToken',
        message: 'The security token included in the request is expired',
        $metadata: { httpStatusCode: 400 },
      });
      expect(sandbox.calls.all().at(-1)).toMatchObject({ operation: 'GetCallerIdentity', status: 400, errorCode: 'ExpiredToken' });
    });

    it('expire for awsJson services with ExpiredTokenException', async () => {
      const { Credentials } = await assume({ DurationSeconds: 900 });
      const ssm = new SSMClient({
        region: 'us-east-1',
        endpoint: sandbox.url,
        maxAttempts: 1,
        credentials: { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! },
      });
      sandbox.clock.advance(900_000);
      await expect(ssm.send(new GetParameterCommand({ Name: 'x' }))).rejects.toMatchObject({ name: 'ExpiredTokenException' });
    });

    it('are all listed by issuedSecrets', async () => {
      const first = (await assume()).Credentials!;
      const second = (await assume({ RoleSessionName: 'other' })).Credentials!;
      expect(sandbox.sts.issuedSecrets().sort()).toEqual(
        [first, second].flatMap((c) => [c.AccessKeyId, c.SecretAccessKey, c.SessionToken]).sort(),
      );
    });
  });

  describe("GitHub's claims as condition keys", () => {
    /** A trust policy that also conditions `key` (`token.actions.githubusercontent.com:<key>`) with `operator`. */
    const conditioned = (operator: string, key: string, value: string) => {
      const policy = githubTrustPolicy(ACCOUNT, { sub: 'repo:octo-org/octo-repo:*' });
      const statement = (Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement])[0];
      const condition = statement.Condition!;
      condition[operator] = { ...condition[operator], [`token.actions.githubusercontent.com:${key}`]: value };
      return policy;
    };
    const STAGING_PR = { environment: 'staging', event_name: 'pull_request', ref: 'refs/pull/7/merge' };

    it.each<[string, string, string, string, ClaimOverrides, boolean]>([
      ['ref matches a push to main', 'StringEquals', 'ref', 'refs/heads/main', {}, true],
      ['ref refuses a pull request in an environment', 'StringEquals', 'ref', 'refs/heads/main', STAGING_PR, false],
      ['environment matches the job environment', 'StringEquals', 'environment', 'staging', STAGING_PR, true],
      ['environment is absent without one', 'StringEquals', 'environment', 'staging', { environment: undefined }, false],
      ['a negated operator holds on an absent environment', 'StringNotEquals', 'environment', 'production', { environment: undefined }, true],
      ['job_workflow_ref with a wildcard', 'StringLike', 'job_workflow_ref', 'octo-org/nixos-aws/.github/workflows/ssm-deploy.yml@*', { job_workflow_ref: 'octo-org/nixos-aws/.github/workflows/ssm-deploy.yml@refs/tags/v1' }, true],
      ['job_workflow_ref of another workflow', 'StringLike', 'job_workflow_ref', 'octo-org/nixos-aws/.github/workflows/ssm-deploy.yml@*', { job_workflow_ref: 'octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main' }, false],
      ['repository_id', 'StringEquals', 'repository_id', '74', {}, true],
      ['event_name is not a condition key, so it never matches', 'StringEquals', 'event_name', 'push', {}, false],
    ])('%s', async (_name, operator, key, value, claims, admitted) => {
      roleArn = sandbox.sts.addRole({ name: 'claims', trustPolicy: conditioned(operator, key, value) });
      const outcome = await assume({ WebIdentityToken: token(claims) }).then(
        () => 'admitted',
        (error: Error) => error.name,
      );
      expect(outcome).toBe(admitted ? 'admitted' : 'AccessDenied');
    });
  });

  describe('addRole', () => {
    it.each([
      ['a name with a slash', { name: 'a/b' }, /invalid role name/],
      ['a path without a trailing slash', { name: 'r', path: '/github' }, /invalid role path/],
      ['a max session under an hour', { name: 'r', maxSessionDuration: 900 }, /maxSessionDuration/],
      ['a max session over 12 hours', { name: 'r', maxSessionDuration: 43201 }, /maxSessionDuration/],
    ])('refuses %s', (_name, spec, message) => {
      expect(() => sandbox.sts.addRole({ trustPolicy: githubTrustPolicy(ACCOUNT, { sub: '*' }), ...spec })).toThrow(message);
    });

    it('returns the role ARN with its path', () => {
      expect(sandbox.sts.addRole({ name: 'r', path: '/a/b/', trustPolicy: githubTrustPolicy(ACCOUNT, { sub: '*' }) })).toBe(
        'arn:aws:iam::123456789012:role/a/b/r',
      );
    });
  });
});
