import { beforeEach, describe, expect, it } from '@jest/globals';
import { sandboxInEnv } from '../test/sandbox-env.js';
import { githubTrustPolicy } from '../sandbox/services/sts/sts.js';
import { assumeRoleWithOidc, type RoleRequest } from './assume-role-with-oidc.js';
import { captureStdout } from './fixtures/stdout.js';
import { NO_ID_TOKEN_HELP } from './id-token.js';

/** Against the sandbox over HTTP: the real `getIDToken`, the real STS client, the real retry policy. */
describe('assumeRoleWithOidc', () => {
  const sandbox = sandboxInEnv({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
  let request: RoleRequest;

  beforeEach(() => {
    const roleArn = sandbox.sts.addRole({
      name: 'deploy-production',
      trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/octo-repo:environment:production' }),
    });
    sandbox.oidc.setClaims({ environment: 'production' });
    request = { roleArn, region: 'us-east-1', audience: 'sts.amazonaws.com', sessionName: 'GitHubActions-1-1' };
  });

  const stsCalls = () => sandbox.calls.of('AssumeRoleWithWebIdentity');

  it('returns working credentials, the assumed role and the account from its ARN, masked before use', async () => {
    let assumed: Awaited<ReturnType<typeof assumeRoleWithOidc>> | undefined;
    const out = await captureStdout(async () => {
      assumed = await assumeRoleWithOidc(request);
    });
    expect(assumed).toMatchObject({
      assumedRoleArn: `arn:aws:sts::${sandbox.accountId}:assumed-role/deploy-production/GitHubActions-1-1`,
      accountId: sandbox.accountId,
    });
    expect(assumed!.credentials.expiration).toBeInstanceOf(Date);
    const masks = out.filter((l) => l.startsWith('::add-mask::')).map((l) => l.slice('::add-mask::'.length));
    const { accessKeyId, secretAccessKey, sessionToken } = assumed!.credentials;
    expect(masks).toEqual(expect.arrayContaining([...sandbox.oidc.issuedTokens(), accessKeyId, secretAccessKey, sessionToken]));
    expect(sandbox.calls.all().map((c) => c.operation)).toEqual(['AssumeRoleWithWebIdentity']);
    expect(stsCalls()[0].caller).toBe('anonymous');
  });

  it.each<[string, () => void, number]>([
    ['a throttling storm', () => sandbox.faults.add({ kind: 'throttle', service: 'sts', count: 3 }), 4],
    ['5xx answers', () => sandbox.faults.add({ kind: 'server-error', service: 'sts', count: 2 }), 3],
    // A dropped connection is covered through the bundle: under jest's VM realm the SDK wraps node's socket
    // error into a bare Error that has lost its name and code.
    ['IDPCommunicationError', () => sandbox.faults.add({ kind: 'server-error', code: 'IDPCommunicationError', service: 'sts', count: 1 }), 2],
  ])('survives %s', async (_case, inject, calls) => {
    inject();
    await captureStdout(async () => {
      await expect(assumeRoleWithOidc(request)).resolves.toMatchObject({ accountId: sandbox.accountId });
    });
    expect(stsCalls()).toHaveLength(calls);
  });

  it.each<[string, () => void, RegExp]>([
    [
      'a token whose sub the trust policy does not accept',
      () => sandbox.oidc.setClaims({ environment: undefined, event_name: 'pull_request', ref: 'refs/pull/7/merge' }),
      /AccessDenied[\s\S]*sub: repo:octo-org\/octo-repo:pull_request[\s\S]*"token.actions.githubusercontent.com:sub":"repo:octo-org\/octo-repo:pull_request"/,
    ],
    ['an audience the provider does not list', () => (request.audience = 'https://github.com/octo-org'), /InvalidIdentityToken[\s\S]*'audience' input/],
    ['a duration above the role maximum', () => (request.durationSeconds = 43200), /ValidationError/],
    ['a malformed session policy', () => (request.inlineSessionPolicy = '{"Version":'), /MalformedPolicyDocument/],
  ])('fails %s on the first answer, explaining it', async (_case, arrange, message) => {
    arrange();
    await captureStdout(async () => {
      await expect(assumeRoleWithOidc(request)).rejects.toThrow(message);
    });
    expect(stsCalls()).toHaveLength(1);
  });

  it('says what to add to the workflow when the job has no id-token permission, and calls nothing', async () => {
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
    await expect(assumeRoleWithOidc(request)).rejects.toThrow(NO_ID_TOKEN_HELP);
    expect(NO_ID_TOKEN_HELP).toContain('id-token: write');
    expect(sandbox.calls.all()).toEqual([]);
  });

  it('gives up within its budget when STS keeps failing', async () => {
    sandbox.faults.add({ kind: 'server-error', service: 'sts', rate: 1 });
    await captureStdout(async () => {
      await expect(assumeRoleWithOidc(request)).rejects.toThrow(/InternalFailure/);
    });
    expect(stsCalls().length).toBeLessThanOrEqual(8);
  }, 40_000);
});
