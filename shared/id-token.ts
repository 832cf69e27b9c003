/** The job's GitHub OIDC ID token, and the claims in it that are safe to show. */
import * as core from './actions-core.js';
import { attemptTimeouts } from './aws-clients.js';
import { quoteForeign } from './errors.js';
import { send } from './http-send.js';
import { retry } from './retry.js';
import { isTransientError } from './transient.js';
import { info } from './log.js';

export const NO_ID_TOKEN_HELP = [
  'This job cannot get a GitHub OIDC ID token: ACTIONS_ID_TOKEN_REQUEST_URL is not set.',
  'Give the job (or the whole workflow) this permission:',
  '',
  '    permissions:',
  '      id-token: write',
  '      contents: read',
  '',
  'A reusable workflow also needs it granted by its caller, and pull requests from forks never get a token.',
].join('\n');

/**
 * Retries of the token request: the runner's token service answers in well under a second; 5xx, 429, timeouts and
 * dropped connections are retried, a 401/403 (a request token that is not this job's) is not.
 */
export const ID_TOKEN_RETRY = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 4_000, budgetMs: 30_000 };

/** The token service answered with an error status. `$metadata` lets `isTransientError` judge the status. */
export class IdTokenRequestError extends Error {
  override readonly name = 'IdTokenRequestError';
  readonly $metadata: { httpStatusCode: number };

  constructor(status: number, body: string) {
    super(`The GitHub OIDC token service answered HTTP ${status}: ${quoteForeign(body)}`);
    this.$metadata = { httpStatusCode: status };
  }
}

export interface IdTokenOptions {
  signal?: AbortSignal;
  /** All attempts together; default `ID_TOKEN_RETRY.budgetMs`. */
  budgetMs?: number;
  log?: (line: string) => void;
}

/**
 * The token for `audience`, masked before it is returned. Requested as `@actions/core`'s `getIDToken` does: `GET
 * $ACTIONS_ID_TOKEN_REQUEST_URL&audience=...` with the request token as a bearer, answer `{"value": ...}`. Unlike
 * `getIDToken`, which waits up to three minutes of silence per attempt and never retries a timeout, each attempt is
 * abandoned after the per-attempt timeout (`attemptTimeouts`) and retried within `budgetMs`.
 *
 * Sent with `node:https` rather than `@actions/http-client`, whose `undici` would be most of what loading the action
 * costs, through the proxy `@actions/http-client` would take, gone through the same way (see `send`).
 */
export async function requestIdToken(
  audience: string,
  env: NodeJS.ProcessEnv = process.env,
  options: IdTokenOptions = {},
): Promise<string> {
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!requestUrl || !requestToken) throw new Error(NO_ID_TOKEN_HELP);
  const url = new URL(requestUrl);
  if (audience) url.searchParams.set('audience', audience);
  const log = options.log ?? info;
  const { connectMs, attemptMs } = attemptTimeouts(env);
  const token = await retry(
    async (_attempt, signal) => {
      const { status, text } = await send(url, { method: 'GET', headers: HEADERS(requestToken) }, { signal, connectMs });
      if (status < 200 || status > 299) throw new IdTokenRequestError(status, text);
      const value = parseTokenAnswer(text);
      if (!value) throw new Error(`The GitHub OIDC token service answered without a token: ${quoteForeign(text)}`);
      return value;
    },
    {
      ...ID_TOKEN_RETRY,
      budgetMs: options.budgetMs ?? ID_TOKEN_RETRY.budgetMs,
      attemptTimeoutMs: attemptMs,
      isRetryable: isTransientError,
      signal: options.signal,
      onRetry: (error, attempt, delayMs) =>
        log(`OIDC token request attempt ${attempt} failed (${describeFailure(error)}); retrying in ${delayMs} ms`),
    },
  ).catch((error: unknown) => {
    throw new Error(`Could not get the job's OIDC ID token: ${describeFailure(error)}`, { cause: error });
  });
  core.setSecret(token);
  return token;
}

const HEADERS = (requestToken: string) => ({
  accept: 'application/json',
  authorization: `Bearer ${requestToken}`,
  'user-agent': 'actions/oidc-client',
});

function parseTokenAnswer(text: string): string | undefined {
  try {
    const value = (JSON.parse(text) as { value?: unknown }).value;
    return typeof value === 'string' && value ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Node's network errors say `read ECONNRESET`; the code is what a user searches for. */
function describeFailure(error: unknown): string {
  const e = error as { message?: string; code?: string } | undefined;
  const message = e?.message ?? String(error);
  return e?.code && !message.includes(e.code) ? `${message} (${e.code})` : message;
}

/** The claims a trust policy is written against; none of them is secret. */
export interface PublicClaims {
  iss?: string;
  aud?: string;
  sub?: string;
  job_workflow_ref?: string;
  environment?: string;
  ref?: string;
  event_name?: string;
  repository?: string;
}

const PUBLIC_CLAIMS: ReadonlyArray<keyof PublicClaims> = [
  'sub',
  'aud',
  'iss',
  'job_workflow_ref',
  'environment',
  'ref',
  'event_name',
  'repository',
];

/** Reads, without verifying, the public claims of a JWT; `{}` for anything that is not one. */
export function publicClaims(token: string): PublicClaims {
  const payload = token.split('.')[1];
  if (!payload) return {};
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
  const picked: PublicClaims = {};
  for (const name of PUBLIC_CLAIMS) {
    const value = claims[name];
    if (typeof value === 'string') picked[name] = value;
    else if (Array.isArray(value)) picked[name] = value.join(',');
  }
  return picked;
}
