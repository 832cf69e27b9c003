import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { getIDToken } from '@actions/core';
import { Sandbox } from '../../server.js';
import { GITHUB_ISSUER, type ClaimOverrides } from './oidc.js';

const part = (token: string, index: number) => JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString('utf8'));
const claimsOf = (token: string) => part(token, 1) as Record<string, unknown>;

describe('OIDC issuer', () => {
  const sandbox = new Sandbox();
  beforeAll(() => sandbox.start());
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.reset());

  /** Verifies a token the way a relying party does: discovery document, then its JWKS, then the key by kid. */
  async function verifiesWithPublishedKeys(token: string): Promise<boolean> {
    const discovery = (await (await fetch(`${sandbox.oidc.issuer}/.well-known/openid-configuration`)).json()) as {
      jwks_uri: string;
    };
    const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: (JsonWebKey & { kid: string })[] };
    const jwk = jwks.keys.find((k) => k.kid === part(token, 0).kid);
    if (!jwk) return false;
    const [header, payload, signature] = token.split('.');
    return verify('sha256', Buffer.from(`${header}.${payload}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(signature, 'base64url'));
  }

  it('publishes a discovery document naming GitHub as issuer and the local JWKS', async () => {
    const res = await fetch(`${sandbox.url}/oidc/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      issuer: GITHUB_ISSUER,
      jwks_uri: `${sandbox.url}/oidc/.well-known/jwks`,
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: expect.arrayContaining(['sub', 'aud', 'repository', 'job_workflow_ref', 'environment']),
    });
  });

  it('publishes its RS256 public key with its kid', async () => {
    const jwks = (await (await fetch(`${sandbox.url}/oidc/.well-known/jwks`)).json()) as { keys: Record<string, string>[] };
    expect(jwks.keys).toEqual([
      { kty: 'RSA', alg: 'RS256', use: 'sig', kid: sandbox.oidc.keys.kid, n: expect.any(String), e: 'AQAB' },
    ]);
    await expect(verifiesWithPublishedKeys(sandbox.oidc.mint())).resolves.toBe(true);
  });

  it('keeps its signing key and request token across resets, so published keys and env() stay valid', () => {
    const { kid } = sandbox.oidc.keys;
    const { ACTIONS_ID_TOKEN_REQUEST_TOKEN } = sandbox.env();
    sandbox.reset();
    expect(sandbox.oidc.keys.kid).toBe(kid);
    expect(sandbox.env().ACTIONS_ID_TOKEN_REQUEST_TOKEN).toBe(ACTIONS_ID_TOKEN_REQUEST_TOKEN);
    expect(new Sandbox().oidc.requestToken).not.toBe(ACTIONS_ID_TOKEN_REQUEST_TOKEN);
  });

  describe('token endpoint', () => {
    it.each([
      ['no Authorization header', undefined, 401],
      ['another bearer token', 'Bearer sandbox-request-0000', 401],
      ['the request token without the Bearer scheme', 'REQUEST_TOKEN', 401],
      ['the request token', 'Bearer REQUEST_TOKEN', 200],
    ])('answers %s with %i', async (_name, authorization, status) => {
      const headers: Record<string, string> = {};
      if (authorization) headers.authorization = authorization.replace('REQUEST_TOKEN', sandbox.oidc.requestToken);
      const res = await fetch(sandbox.oidc.requestUrl(), { headers });
      expect(res.status).toBe(status);
      const body = (await res.json()) as { value?: string };
      expect(body.value !== undefined).toBe(status === 200);
    });

    it('takes the audience from the query', async () => {
      const res = await fetch(`${sandbox.oidc.requestUrl()}&audience=${encodeURIComponent('sts.amazonaws.com')}`, {
        headers: { authorization: `Bearer ${sandbox.oidc.requestToken}` },
      });
      expect(claimsOf(((await res.json()) as { value: string }).value).aud).toBe('sts.amazonaws.com');
    });
  });

  describe("@actions/core's getIDToken against the sandbox", () => {
    const saved = { ...process.env };
    beforeEach(() => {
      Object.assign(process.env, sandbox.env());
      // getIDToken prints ::add-mask:: and ::debug:: workflow commands; keep the test output clean.
      jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    });
    afterEach(() => {
      jest.restoreAllMocks();
      process.env = { ...saved };
    });

    it.each([
      ['sts.amazonaws.com', 'sts.amazonaws.com'],
      [undefined, 'https://github.com/octo-org'],
    ])('audience %s gives aud %s', async (audience, aud) => {
      const token = await getIDToken(audience);
      expect(claimsOf(token)).toMatchObject({ iss: GITHUB_ISSUER, aud, sub: 'repo:octo-org/octo-repo:ref:refs/heads/main' });
      expect(sandbox.oidc.issuedTokens()).toEqual([token]);
      await expect(verifiesWithPublishedKeys(token)).resolves.toBe(true);
    });

    it('fails without the right request token, as in a job without id-token: write', async () => {
      process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'not-the-token';
      await expect(getIDToken('sts.amazonaws.com')).rejects.toThrow(/Failed to get ID Token[\s\S]*401/);
    });
  });

  describe('claims', () => {
    it.each<[string, ClaimOverrides, Record<string, unknown>]>([
      [
        'defaults',
        {},
        {
          iss: GITHUB_ISSUER,
          aud: 'https://github.com/octo-org',
          sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
          repository: 'octo-org/octo-repo',
          repository_owner: 'octo-org',
          ref: 'refs/heads/main',
          ref_type: 'branch',
          job_workflow_ref: 'octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main',
          event_name: 'push',
          run_attempt: '1',
          actor: 'octocat',
        },
      ],
      [
        'an environment replaces the ref in sub',
        { environment: 'production' },
        { sub: 'repo:octo-org/octo-repo:environment:production', environment: 'production' },
      ],
      ['a pull request', { event_name: 'pull_request', ref: 'refs/pull/7/merge' }, { sub: 'repo:octo-org/octo-repo:pull_request' }],
      ['a tag', { ref: 'refs/tags/v1.2.0' }, { sub: 'repo:octo-org/octo-repo:ref:refs/tags/v1.2.0', ref_type: 'tag' }],
      [
        'another repository moves owner, audience and workflow refs along',
        { repository: 'acme/infra', workflow: 'release' },
        {
          repository_owner: 'acme',
          aud: 'https://github.com/acme',
          sub: 'repo:acme/infra:ref:refs/heads/main',
          workflow_ref: 'acme/infra/.github/workflows/release.yml@refs/heads/main',
          job_workflow_ref: 'acme/infra/.github/workflows/release.yml@refs/heads/main',
        },
      ],
      [
        'a reusable workflow sets job_workflow_ref on its own',
        { job_workflow_ref: 'acme/workflows/.github/workflows/deploy.yml@refs/tags/v1' },
        { job_workflow_ref: 'acme/workflows/.github/workflows/deploy.yml@refs/tags/v1', workflow_ref: expect.stringContaining('octo-org/octo-repo') },
      ],
      ['an explicit sub wins', { environment: 'production', sub: 'custom' }, { sub: 'custom' }],
    ])('%s', async (_name, claims, expected) => {
      sandbox.oidc.setClaims(claims);
      const res = await fetch(sandbox.oidc.requestUrl(), { headers: { authorization: `Bearer ${sandbox.oidc.requestToken}` } });
      expect(claimsOf(((await res.json()) as { value: string }).value)).toMatchObject(expected);
    });

    it('has no environment claim unless one is set', () => {
      expect(claimsOf(sandbox.oidc.mint())).not.toHaveProperty('environment');
      sandbox.oidc.setClaims({ environment: 'prod' });
      sandbox.oidc.setClaims({ environment: undefined });
      expect(claimsOf(sandbox.oidc.mint())).not.toHaveProperty('environment');
    });

    it('accumulates setClaims calls until the next reset', () => {
      sandbox.oidc.setClaims({ environment: 'prod' });
      sandbox.oidc.setClaims({ actor: 'hubot' });
      expect(claimsOf(sandbox.oidc.mint())).toMatchObject({ environment: 'prod', actor: 'hubot' });
      sandbox.reset();
      expect(claimsOf(sandbox.oidc.mint())).toMatchObject({ actor: 'octocat' });
    });

    it('lets mint claims and the requested audience win over setClaims', () => {
      sandbox.oidc.setClaims({ aud: 'from-set-claims', actor: 'hubot' });
      expect(claimsOf(sandbox.oidc.mint({ aud: 'from-mint' }))).toMatchObject({ aud: 'from-mint', actor: 'hubot' });
    });

    it('dates tokens by the sandbox clock: valid 10 minutes before issue to 5 minutes after', () => {
      sandbox.clock.advance(86_400_000);
      const now = Math.floor(sandbox.clock.nowMs() / 1000);
      const claims = claimsOf(sandbox.oidc.mint()) as { iat: number; nbf: number; exp: number };
      expect(claims.iat - now).toBeGreaterThanOrEqual(0);
      expect(claims.iat - now).toBeLessThanOrEqual(1);
      expect([claims.nbf, claims.exp]).toEqual([claims.iat - 600, claims.iat + 300]);
    });

    it('gives every token its own jti', () => {
      expect(claimsOf(sandbox.oidc.mint()).jti).not.toBe(claimsOf(sandbox.oidc.mint()).jti);
    });
  });

  describe('mint', () => {
    it.each([
      ['default', {}, true],
      ['foreignKey', { foreignKey: true }, false],
      ['tamperSignature', { tamperSignature: true }, false],
      ['an unknown kid', { header: { kid: 'unknown' } }, false],
    ])('%s: verifies with the published key = %s', async (_name, options, valid) => {
      await expect(verifiesWithPublishedKeys(sandbox.oidc.mint({}, options))).resolves.toBe(valid);
    });

    it('mints already expired tokens', () => {
      const claims = claimsOf(sandbox.oidc.mint({}, { expiresInSeconds: -60 })) as { iat: number; exp: number };
      expect(claims.exp).toBe(claims.iat - 60);
    });

    it('records every token it made, bad ones included', () => {
      const tokens = [sandbox.oidc.mint(), sandbox.oidc.mint({}, { tamperSignature: true })];
      expect(sandbox.oidc.issuedTokens()).toEqual(tokens);
    });
  });
});
