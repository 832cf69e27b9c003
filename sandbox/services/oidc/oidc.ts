import { createHmac, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Account, Operation, Route, Service } from '../../service.js';
import { signJwt, type JwtHeader } from './jwt.js';

export interface SigningKeys {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/**
 * The `iss` of every token, GitHub's own, so trust policies written for production (condition keys
 * `token.actions.githubusercontent.com:sub`, the provider ARN) work unchanged against the sandbox.
 */
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

/** GitHub's tokens: valid from 10 minutes before issue (clock skew) to 5 minutes after. */
const NOT_BEFORE_SKEW_SECONDS = 600;
const LIFETIME_SECONDS = 300;

/** The claims of a GitHub Actions ID token; all values are strings except the times. */
export interface GitHubClaims {
  iss: string;
  aud: string | string[];
  sub: string;
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  repository: string;
  repository_owner: string;
  repository_id: string;
  repository_owner_id: string;
  repository_visibility: string;
  ref: string;
  ref_type: string;
  sha: string;
  workflow: string;
  workflow_ref: string;
  workflow_sha: string;
  job_workflow_ref: string;
  job_workflow_sha: string;
  event_name: string;
  run_id: string;
  run_number: string;
  run_attempt: string;
  actor: string;
  actor_id: string;
  runner_environment: string;
  head_ref: string;
  base_ref: string;
  /** Only when the job has an environment; `sub` then names it instead of the ref. */
  environment?: string;
  [claim: string]: unknown;
}

export type ClaimOverrides = Partial<GitHubClaims>;

export interface MintOptions {
  /** Seconds from issue to `exp` (default 300, like GitHub); negative mints an already expired token. */
  expiresInSeconds?: number;
  /** Sign with a key the issuer does not publish, as a forger would (keeps the issuer's `kid`). */
  foreignKey?: boolean;
  /** Corrupt the signature after signing. */
  tamperSignature?: boolean;
  /** Header fields to override, e.g. `{ alg: 'HS256' }` or `{ kid: 'unknown' }`. */
  header?: Partial<JwtHeader>;
}

/** Facts about the run the claims describe; the rest (owner, sub, aud, workflow refs) derive from them. */
const RUN_DEFAULTS = {
  repository: 'octo-org/octo-repo',
  repository_id: '74',
  repository_owner_id: '65',
  repository_visibility: 'private',
  ref: 'refs/heads/main',
  sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  workflow: 'deploy',
  event_name: 'push',
  run_id: '4242424242',
  run_number: '17',
  run_attempt: '1',
  actor: 'octocat',
  actor_id: '583231',
  runner_environment: 'github-hosted',
  head_ref: '',
  base_ref: '',
};

/** The GitHub Actions OIDC issuer and the runner's token request endpoint. */
export class OidcIssuer implements Service {
  readonly name = 'oidc';
  readonly protocol = 'query' as const;
  readonly operations: Record<string, Operation> = {};
  readonly keys: SigningKeys;
  /** The bearer token the runner hands a job in `ACTIONS_ID_TOKEN_REQUEST_TOKEN`. */
  readonly requestToken: string;
  readonly routes: Route[] = [
    { method: 'GET', path: '/oidc/.well-known/openid-configuration', handle: (_req, res) => this.discovery(res) },
    { method: 'GET', path: '/oidc/.well-known/jwks', handle: (_req, res) => sendJson(res, 200, this.jwks()) },
    { method: 'GET', path: '/oidc/token', handle: (req, res, url) => this.token(req, res, url) },
  ];

  private claimOverrides: ClaimOverrides = {};
  private readonly minted: string[] = [];

  constructor(
    private readonly sandbox: Account,
    keys?: SigningKeys,
  ) {
    this.keys = keys ?? newKeys();
    // Derived from the key, which survives resets, so an environment taken from env() stays valid too.
    const secret = this.keys.privateKey.export({ type: 'pkcs8', format: 'der' });
    this.requestToken = `sandbox-request-${createHmac('sha256', secret).update('id-token-request').digest('hex').slice(0, 32)}`;
  }

  /** Base URL of the local discovery, JWKS and token endpoints (tokens still carry `GITHUB_ISSUER`). */
  get issuer(): string {
    return `${this.sandbox.url}/oidc`;
  }

  requestUrl(): string {
    return `${this.sandbox.url}/oidc/token?api-version=2.0`;
  }

  /** Merges claims into the defaults of every token issued from now on; `undefined` removes a claim. */
  setClaims(claims: ClaimOverrides): void {
    this.claimOverrides = { ...this.claimOverrides, ...claims };
  }

  /** A token with the current claims plus `claims`, signed by the issuer unless `options` say otherwise. */
  mint(claims: ClaimOverrides = {}, options: MintOptions = {}): string {
    const header: JwtHeader = { typ: 'JWT', alg: 'RS256', kid: this.keys.kid, ...options.header };
    const key = options.foreignKey ? foreignKey() : this.keys.privateKey;
    let token = signJwt(header, this.claims(claims, options.expiresInSeconds ?? LIFETIME_SECONDS), key);
    if (options.tamperSignature) token = tamper(token);
    this.minted.push(token);
    return token;
  }

  /** Every token this issuer handed out or minted, so tests can prove none of them was printed. */
  issuedTokens(): string[] {
    return [...this.minted];
  }

  jwks(): { keys: Record<string, unknown>[] } {
    const { n, e } = this.keys.publicKey.export({ format: 'jwk' });
    return { keys: [{ kty: 'RSA', alg: 'RS256', use: 'sig', kid: this.keys.kid, n, e }] };
  }

  private claims(overrides: ClaimOverrides, expiresInSeconds: number): Record<string, unknown> {
    const run = { ...RUN_DEFAULTS, ...this.claimOverrides, ...overrides };
    const owner = run.repository_owner ?? run.repository.split('/')[0];
    const workflowRef = `${run.repository}/.github/workflows/${run.workflow}.yml@${run.ref}`;
    const iat = Math.floor(this.sandbox.clock.nowMs() / 1000);
    const derived = {
      iss: GITHUB_ISSUER,
      aud: `https://github.com/${owner}`,
      sub: subjectOf(run.repository, run.ref, run.event_name, run.environment),
      repository_owner: owner,
      ref_type: run.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
      workflow_ref: workflowRef,
      workflow_sha: run.sha,
      job_workflow_ref: workflowRef,
      job_workflow_sha: run.sha,
      jti: randomUUID(),
      iat,
      nbf: iat - NOT_BEFORE_SKEW_SECONDS,
      exp: iat + expiresInSeconds,
    };
    return { ...derived, ...run };
  }

  private discovery(res: ServerResponse): void {
    sendJson(res, 200, {
      // Must equal the tokens' `iss` (OIDC Discovery 4.3); the endpoints are the sandbox's own.
      issuer: GITHUB_ISSUER,
      jwks_uri: `${this.issuer}/.well-known/jwks`,
      subject_types_supported: ['public', 'pairwise'],
      response_types_supported: ['id_token'],
      claims_supported: Object.keys(this.claims({ environment: 'any' }, LIFETIME_SECONDS)),
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid'],
    });
  }

  private token(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (req.headers.authorization !== `Bearer ${this.requestToken}`) {
      sendJson(res, 401, { message: 'Bearer token missing or invalid' });
      return;
    }
    const audience = url.searchParams.get('audience');
    sendJson(res, 200, { value: this.mint(audience ? { aud: audience } : {}) });
  }
}

/** GitHub's default `sub` forms; an environment replaces the ref. */
function subjectOf(repository: string, ref: string, eventName: string, environment?: string): string {
  if (environment) return `repo:${repository}:environment:${environment}`;
  if (eventName === 'pull_request') return `repo:${repository}:pull_request`;
  return `repo:${repository}:ref:${ref}`;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

function tamper(token: string): string {
  const [header, payload, signature] = token.split('.');
  const bytes = Buffer.from(signature, 'base64url');
  bytes[0] ^= 0xff;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}

function newKeys(): SigningKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: randomBytes(8).toString('hex'), privateKey, publicKey };
}

let foreign: KeyObject | undefined;
/** One key per process is enough to forge with; generating RSA keys is slow. */
function foreignKey(): KeyObject {
  foreign ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  return foreign;
}
