/**
 * assume-role end to end: the bundle, run as the runner runs it, against the sandbox's OIDC issuer and STS.
 * Every secret the sandbox issues is collected, and the whole suite's output is scanned for them at the end.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Sandbox } from '../sandbox/server.js';
import { githubTrustPolicy } from '../sandbox/services/sts/sts.js';
import { runAction, type StepResult } from './harness/runner.js';
import { assertNoSecrets } from './harness/secrets.js';
import { startProxy } from './proxy.js';

const sandbox = new Sandbox();
const results: StepResult[] = [];
const issued = new Set<string>();
let roleArn: string;

beforeAll(() => sandbox.start());
afterAll(async () => {
  collectIssued();
  // The credentials are meant to be in GITHUB_ENV and, with output-credentials, in the outputs; nowhere else.
  assertNoSecrets(results, issued, ['exportedEnv', 'outputs']);
  await sandbox.stop();
});
beforeEach(() => {
  collectIssued();
  sandbox.reset();
  roleArn = sandbox.sts.addRole({
    name: 'deploy-production',
    trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/octo-repo:environment:production' }),
  });
  sandbox.oidc.setClaims({ environment: 'production' });
});

function collectIssued(): void {
  for (const secret of [...sandbox.sts.issuedSecrets(), ...sandbox.oidc.issuedTokens()]) issued.add(secret);
}

async function assume(inputs: Record<string, string> = {}, env: Record<string, string> = {}): Promise<StepResult> {
  const result = await runAction('assume-role', {
    env: { ...sandbox.env(), AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', ...env },
    inputs: { 'role-to-assume': roleArn, ...inputs },
  });
  results.push(result);
  return result;
}

const errors = (result: StepResult) => result.annotations.filter((a) => a.level === 'error').map((a) => a.message);
const stsCalls = () => sandbox.calls.of('AssumeRoleWithWebIdentity');

describe('assume-role', () => {
  it('exports credentials that work, outputs the account, role and expiration, and masks every secret', async () => {
    const result = await assume();
    expect(result.exitCode).toBe(0);
    const [credentials] = [...sandbox.sts.issued.values()];
    expect(result.exportedEnv).toEqual({
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
    });
    expect(result.outputs).toEqual({
      'aws-account-id': sandbox.accountId,
      'assumed-role-arn': `arn:aws:sts::${sandbox.accountId}:assumed-role/deploy-production/GitHubActions-4242424242-1`,
      expiration: credentials.expiration.toISOString(),
    });
    expect(result.outputs.expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(result.masks).toEqual(
      expect.arrayContaining([...sandbox.oidc.issuedTokens(), credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken]),
    );
    // No GetCallerIdentity round trip: the account comes from the assumed-role ARN.
    expect(sandbox.calls.operations()).toEqual(['sts:AssumeRoleWithWebIdentity']);
    expect(result.summary).toContain('deploy-production');
  });

  it.each<[string, Record<string, string>, (r: StepResult) => void]>([
    [
      'output-credentials also outputs them',
      { 'output-credentials': 'true' },
      (r) => expect(Object.keys(r.outputs)).toEqual(expect.arrayContaining(['aws-access-key-id', 'aws-secret-access-key', 'aws-session-token'])),
    ],
    ['export-credentials false exports nothing', { 'export-credentials': 'false' }, (r) => expect(r.exportedEnv).toEqual({})],
    [
      'role-session-name and role-duration-seconds reach STS',
      { 'role-session-name': 'release@v1.2', 'role-duration-seconds': '900' },
      (r) => {
        expect(r.outputs['assumed-role-arn']).toMatch(/\/release@v1\.2$/);
        expect(stsCalls()[0].params).toMatchObject({ RoleSessionName: 'release@v1.2', DurationSeconds: '900' });
      },
    ],
    [
      'session policies reach STS',
      {
        'inline-session-policy': '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}',
        'managed-session-policies': 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      },
      (r) => {
        expect(r.exitCode).toBe(0);
        expect(stsCalls()[0].params).toMatchObject({ PolicyArns: [{ arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }] });
      },
    ],
    [
      'mask-account-id masks the account and keeps it out of the summary',
      { 'mask-account-id': 'true' },
      (r) => {
        expect(r.masks).toContain(sandbox.accountId);
        expect(r.summary).not.toContain(sandbox.accountId);
      },
    ],
    ['an allowed account passes', { 'allowed-account-ids': `111111111111\n${sandbox.accountId}` }, (r) => expect(r.exitCode).toBe(0)],
  ])('%s', async (_case, inputs, check) => {
    const result = await assume(inputs);
    expect(errors(result)).toEqual([]);
    check(result);
  });

  it('refuses an account not in allowed-account-ids: nothing exported, nothing output', async () => {
    const result = await assume({ 'allowed-account-ids': '111111111111,222222222222', 'output-credentials': 'true' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining(`account ${sandbox.accountId}, which is not in 'allowed-account-ids'`)]);
    expect(result.exportedEnv).toEqual({});
    expect(result.outputs).toEqual({});
  });

  it('fails a trust policy mismatch on one STS call, showing the token sub and a matching condition', async () => {
    sandbox.oidc.setClaims({ environment: undefined, event_name: 'pull_request', ref: 'refs/pull/7/merge' });
    const result = await assume();
    expect(result.exitCode).toBe(1);
    expect(stsCalls()).toHaveLength(1);
    const [message] = errors(result);
    expect(message).toContain('AccessDenied');
    expect(message).toContain('sub: repo:octo-org/octo-repo:pull_request');
    expect(message).toContain('"token.actions.githubusercontent.com:sub":"repo:octo-org/octo-repo:pull_request"');
    expect(result.exportedEnv).toEqual({});
  });

  it('says exactly what to add when the job lacks id-token: write, and calls nothing', async () => {
    const result = await assume({}, { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)[0]).toMatch(/permissions:\s+id-token: write/);
    expect(sandbox.calls.all()).toEqual([]);
  });

  it.each<[string, () => void, number]>([
    ['a throttling storm', () => sandbox.faults.add({ kind: 'throttle', service: 'sts', count: 4 }), 5],
    ['5xx answers', () => sandbox.faults.add({ kind: 'server-error', service: 'sts', count: 2 }), 3],
    ['a dropped connection', () => sandbox.faults.add({ kind: 'drop', service: 'sts', count: 1 }), 2],
  ])('survives %s', async (_case, inject, calls) => {
    inject();
    const result = await assume();
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(stsCalls()).toHaveLength(calls);
  });

  it('logs a dropped connection as the SDK did: TimeoutError', async () => {
    sandbox.faults.add({ kind: 'drop', service: 'sts', count: 1 });
    const result = await assume();
    expect(errors(result)).toEqual([]);
    expect(result.logLines).toContainEqual(expect.stringMatching(/^AssumeRoleWithWebIdentity attempt 1 failed \(TimeoutError: socket hang up\); retrying in \d+ ms$/));
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['an audience the provider does not list', { audience: 'https://github.com/octo-org' }, /InvalidIdentityToken[\s\S]*'audience' input/],
    ['a duration above the role maximum', { 'role-duration-seconds': '43200' }, /ValidationError/],
  ])('fails %s on the first answer', async (_case, inputs, message) => {
    const result = await assume(inputs);
    expect(result.exitCode).toBe(1);
    expect(errors(result)[0]).toMatch(message);
    expect(stsCalls()).toHaveLength(1);
  });
});

describe('assume-role behind an HTTP proxy (the ID token request)', () => {
  const tokenUrl = () => {
    const url = new URL(sandbox.env().ACTIONS_ID_TOKEN_REQUEST_URL);
    url.hostname = 'pipelines.actions.example';
    return url;
  };

  it.each<[string, (proxy: string) => Record<string, string>, string | undefined]>([
    ['http_proxy', (proxy) => ({ http_proxy: proxy }), undefined],
    ['HTTP_PROXY with a user and password, sent as Proxy-Authorization', (proxy) => ({ HTTP_PROXY: proxy.replace('//', '//ci:p%40ss@') }), `Basic ${Buffer.from('ci:p@ss').toString('base64')}`],
  ])('goes through %s', async (_case, proxyEnv, auth) => {
    const proxy = await startProxy();
    try {
      const result = await assume({}, { ACTIONS_ID_TOKEN_REQUEST_URL: tokenUrl().toString(), ...proxyEnv(proxy.url) });
      expect(errors(result)).toEqual([]);
      expect(result.outputs['aws-account-id']).toBe(sandbox.accountId);
      expect(proxy.seen).toEqual([{ authority: tokenUrl().host, auth }]);
    } finally {
      await proxy.close();
    }
  });

  it('goes through https_proxy to an https token URL, TLS inside the tunnel (the way to github.com)', async () => {
    // An https front for the sandbox's token service, under a certificate for the unresolvable name that the step
    // trusts through NODE_EXTRA_CA_CERTS, as a runner trusts its corporate CA.
    const folder = mkdtempSync(join(tmpdir(), 'oidc-tls-'));
    const [key, cert] = [join(folder, 'key.pem'), join(folder, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=pipelines.actions.example', '-addext', 'subjectAltName=DNS:pipelines.actions.example', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const upstream = new URL(sandbox.env().ACTIONS_ID_TOKEN_REQUEST_URL);
    const front = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (request, response) => {
      void fetch(new URL(request.url ?? '/', upstream.origin), { headers: { authorization: request.headers.authorization ?? '' } }).then(async (answer) =>
        response.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text()),
      );
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const proxy = await startProxy();
    try {
      const url = tokenUrl();
      url.protocol = 'https:';
      url.port = String((front.address() as AddressInfo).port);
      const result = await assume({}, { ACTIONS_ID_TOKEN_REQUEST_URL: url.toString(), https_proxy: proxy.url, NODE_EXTRA_CA_CERTS: cert });
      expect(errors(result)).toEqual([]);
      expect(result.outputs['aws-account-id']).toBe(sandbox.accountId);
      expect(proxy.seen).toEqual([{ authority: url.host, auth: undefined }]);
    } finally {
      await proxy.close();
      front.closeAllConnections();
      await new Promise((resolve) => front.close(resolve));
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('bypasses it for a host in no_proxy', async () => {
    const proxy = await startProxy();
    try {
      const result = await assume({}, { http_proxy: proxy.url, no_proxy: 'example.com,127.0.0.1' });
      expect(errors(result)).toEqual([]);
      expect(proxy.seen).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('fails on the first refusal (407), naming the proxy and the status, and calls no AWS API', async () => {
    const proxy = await startProxy(407);
    try {
      const result = await assume({}, { ACTIONS_ID_TOKEN_REQUEST_URL: tokenUrl().toString(), http_proxy: proxy.url });
      expect(result.exitCode).toBe(1);
      expect(errors(result)).toEqual([expect.stringContaining(`The proxy ${new URL(proxy.url).host} answered CONNECT ${tokenUrl().host} with HTTP 407`)]);
      expect(proxy.seen).toHaveLength(1);
      expect(sandbox.calls.all()).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});

describe('assume-role reaches STS as the SDK did', () => {
  /** The sandbox's STS under a name that does not resolve: only a proxy can reach it. */
  const stsUrl = () => {
    const url = new URL(sandbox.env().AWS_ENDPOINT_URL);
    url.hostname = 'sts.vpce.example';
    return url;
  };

  it('goes through http_proxy to AWS_ENDPOINT_URL_STS, as the token request does', async () => {
    const proxy = await startProxy();
    try {
      const result = await assume({}, { AWS_ENDPOINT_URL_STS: stsUrl().toString(), http_proxy: proxy.url });
      expect(errors(result)).toEqual([]);
      expect(result.outputs['aws-account-id']).toBe(sandbox.accountId);
      expect(proxy.seen).toEqual([{ authority: stsUrl().host, auth: undefined }]);
      expect(stsCalls()).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('takes AWS_ENDPOINT_URL_STS before AWS_ENDPOINT_URL', async () => {
    const result = await assume({}, { AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_ENDPOINT_URL_STS: sandbox.env().AWS_ENDPOINT_URL });
    expect(errors(result)).toEqual([]);
    expect(stsCalls()).toHaveLength(1);
  });

  it("takes the endpoint_url of the AWS config file's profile", async () => {
    const folder = mkdtempSync(join(tmpdir(), 'aws-config-'));
    try {
      const file = join(folder, 'config');
      writeFileSync(file, `[profile deploy]\nendpoint_url = ${sandbox.env().AWS_ENDPOINT_URL}\n`);
      const result = await assume({}, { AWS_ENDPOINT_URL: '', AWS_CONFIG_FILE: file, AWS_PROFILE: 'deploy' });
      expect(errors(result)).toEqual([]);
      expect(stsCalls()).toHaveLength(1);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  describe('with what the SDK passed over or merged', () => {
    const folder = mkdtempSync(join(tmpdir(), 'aws-files-'));
    afterAll(() => rmSync(folder, { recursive: true, force: true }));
    const file = (name: string, text: string) => {
      writeFileSync(join(folder, name), text);
      return join(folder, name);
    };

    // Each succeeds on the sandbox's STS only if the setting is read as the SDK read it: a FIPS or dual-stack
    // setting taken as true would refuse the configured endpoint, a file taken as an error would fail the step.
    it.each<[string, () => Record<string, string>]>([
      ['AWS_USE_FIPS_ENDPOINT=TRUE (unset)', () => ({ AWS_USE_FIPS_ENDPOINT: 'TRUE' })],
      ['AWS_USE_DUALSTACK_ENDPOINT=yes (unset)', () => ({ AWS_USE_DUALSTACK_ENDPOINT: 'yes' })],
      ['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=1 (unset)', () => ({ AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: '1' })],
      ['an unreadable AWS_CONFIG_FILE (a directory) under AWS_ENDPOINT_URL', () => ({ AWS_CONFIG_FILE: folder })],
      ['a missing services section under AWS_ENDPOINT_URL', () => ({ AWS_CONFIG_FILE: file('services', '[default]\nservices = nowhere\n') })],
      ["the credentials file's endpoint_url, a bare [deploy] in the config file being no profile", () => ({
        AWS_ENDPOINT_URL: '',
        AWS_PROFILE: 'deploy',
        AWS_CONFIG_FILE: file('config', '[deploy]\nendpoint_url = http://127.0.0.1:1\n'),
        AWS_SHARED_CREDENTIALS_FILE: file('credentials', `[deploy]\nendpoint_url = ${sandbox.env().AWS_ENDPOINT_URL}\n`),
      })],
    ])('%s', async (_case, env) => {
      const result = await assume({}, env());
      expect(errors(result)).toEqual([]);
      expect(result.outputs['aws-account-id']).toBe(sandbox.accountId);
      expect(stsCalls()).toHaveLength(1);
    });
  });

  it.each([
    ['fips-us-east-1', 'sts-fips.us-east-1.amazonaws.com:443'],
    ['fips-us-gov-west-1', 'sts.us-gov-west-1.amazonaws.com:443'],
  ])('sends aws-region %s to the FIPS host %s', async (region, authority) => {
    // AWS itself is out of reach: the proxy, refusing, tells which host the step asked for.
    const proxy = await startProxy(407);
    try {
      const result = await assume({ 'aws-region': region }, { AWS_ENDPOINT_URL: '', https_proxy: proxy.url });
      expect(result.exitCode).toBe(1);
      expect(proxy.seen).toEqual([{ authority, auth: undefined }]);
      expect(errors(result)).toEqual([expect.stringContaining(`answered CONNECT ${authority} with HTTP 407`)]);
    } finally {
      await proxy.close();
    }
  });

  it.each<[string, () => void, RegExp]>([
    [
      'IDPCommunicationError (HTTP 400, as STS answers it)',
      // The sandbox's 400-status fault, with STS's code for an issuer whose keys it could not fetch.
      () => sandbox.faults.add({ kind: 'throttle', code: 'IDPCommunicationError', message: "Couldn't retrieve verification key from your identity provider", service: 'sts', count: 1 }),
      /^AssumeRoleWithWebIdentity attempt 1 failed \(IDPCommunicationErrorException: .*\); retrying in \d+ ms$/,
    ],
    [
      'an HTML 502 from a proxy in front of STS',
      () => sandbox.faults.add({ kind: 'html', service: 'sts', count: 1 }),
      /^AssumeRoleWithWebIdentity attempt 1 failed \(AssumeRoleWithWebIdentity \(STS\) got HTTP 502 with a body that is not AWS's XML or JSON: "<html>/,
    ],
  ])('retries %s, saying so', async (_case, inject, retried) => {
    inject();
    const result = await assume();
    expect(errors(result)).toEqual([]);
    expect(result.logLines).toContainEqual(expect.stringMatching(retried));
    expect(stsCalls()).toHaveLength(2);
  });

  it('fails an expired token on the first answer, with its code', async () => {
    sandbox.faults.add({ kind: 'throttle', code: 'ExpiredTokenException', message: 'Token expired: current date/time 2 must be before the expiration date/time1', service: 'sts', count: 1 });
    const result = await assume();
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining(`Could not assume the role ${roleArn}: ExpiredTokenException`)]);
    expect(stsCalls()).toHaveLength(1);
  });

  it.each<[string, Record<string, string>, string]>([
    ['FIPS with a configured endpoint', { AWS_USE_FIPS_ENDPOINT: 'true' }, 'Invalid Configuration: FIPS and custom endpoint are not supported'],
    ['an endpoint that is not a URL', { AWS_ENDPOINT_URL_STS: 'sts.example' }, 'Environment variable AWS_ENDPOINT_URL_STS must be a URL'],
  ])('refuses %s before asking for a token or calling STS', async (_case, env, message) => {
    const result = await assume({}, env);
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining(message)]);
    expect(sandbox.oidc.issuedTokens()).toEqual([]);
    expect(sandbox.calls.all()).toEqual([]);
  });
});

describe('assume-role with a bad input', () => {
  const policy = (n: number) => Array.from({ length: n }, (_, i) => `arn:aws:iam::aws:policy/P${i}`).join('\n');
  it.each<[Record<string, string>, string]>([
    [{ 'role-to-assume': '' }, 'role-to-assume'],
    [{ 'role-to-assume': 'arn:aws:iam::12345:role/deploy' }, 'role-to-assume'],
    [{ 'role-to-assume': 'arn:aws:iam::123456789012:user/deploy' }, 'role-to-assume'],
    [{ 'role-to-assume': 'deploy' }, 'role-to-assume'],
    [{ 'aws-region': 'Frankfurt' }, 'aws-region'],
    [{ audience: 'two words' }, 'audience'],
    [{ 'role-duration-seconds': '60' }, 'role-duration-seconds'],
    [{ 'role-duration-seconds': '43201' }, 'role-duration-seconds'],
    [{ 'role-duration-seconds': '1h' }, 'role-duration-seconds'],
    [{ 'role-session-name': 'two words' }, 'role-session-name'],
    [{ 'role-session-name': 'x' }, 'role-session-name'],
    [{ 'inline-session-policy': '{"Statement": [' }, 'inline-session-policy'],
    [{ 'inline-session-policy': '["not", "a", "policy"]' }, 'inline-session-policy'],
    [{ 'managed-session-policies': policy(11) }, 'managed-session-policies'],
    [{ 'managed-session-policies': 'ReadOnlyAccess' }, 'managed-session-policies'],
    [{ 'allowed-account-ids': '123456789012,12345' }, 'allowed-account-ids'],
    [{ 'export-credentials': 'yes' }, 'export-credentials'],
    [{ 'output-credentials': 'on' }, 'output-credentials'],
    [{ 'mask-account-id': '1' }, 'mask-account-id'],
  ])('%j fails naming %s, before any call', async (inputs, input) => {
    const result = await assume(inputs);
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining(`'${input}'`)]);
    expect(sandbox.calls.all()).toEqual([]);
    expect(sandbox.oidc.issuedTokens()).toEqual([]);
  });
});

describe('mask-account-id when an input is refused', () => {
  // The runner masks the log, not the job summary: the ID is masked before parsing and left out of the summary.
  it.each([
    ['a malformed role ARN', { 'role-to-assume': 'arn:aws:iamx::210987654321:role/deploy' }, 'role-to-assume'],
    ['a bad sibling input', { 'role-to-assume': 'arn:aws:iam::210987654321:role/deploy', 'role-session-name': 'x' }, 'role-session-name'],
  ])('%s: the account ID is masked and not in the summary', async (_case, inputs, input) => {
    const result = await assume({ ...inputs, 'mask-account-id': 'true' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining(`'${input}'`)]);
    expect(result.masks).toContain('210987654321');
    expect(result.summary).toContain('assume-role: inputs rejected');
    expect(result.summary).not.toContain('210987654321');
    expect(sandbox.calls.all()).toEqual([]);
  });

  it('without it, the summary names the ARN as given', async () => {
    const result = await assume({ 'role-to-assume': 'arn:aws:iamx::210987654321:role/deploy' });
    expect(result.masks).not.toContain('210987654321');
    expect(result.summary).toContain('210987654321');
  });
});
