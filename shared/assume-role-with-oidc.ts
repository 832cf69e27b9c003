/**
 * Trades the job's GitHub OIDC ID token for short-lived credentials of an IAM role. The assume-role action exports
 * them; the other actions call this for their own clients and export nothing.
 */
import { attemptTimeouts } from './aws-clients.js';
import { errorMessage } from './errors.js';
import { publicClaims, requestIdToken } from './id-token.js';
import { maskSecrets } from './mask.js';
import { retry } from './retry.js';
import { assumeRoleWithWebIdentity, stsEndpoint, type WebIdentityCredentials } from './sts.js';
import { isTransientError } from './transient.js';
import { explainAccessDenied, explainBadAudience } from './trust-hint.js';
import { info } from './log.js';

export interface RoleRequest {
  roleArn: string;
  region: string;
  audience: string;
  sessionName: string;
  durationSeconds?: number;
  inlineSessionPolicy?: string;
  managedSessionPolicies?: string[];
  signal?: AbortSignal;
}

export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface AssumedRole {
  credentials: RoleCredentials;
  assumedRoleArn: string;
  /** From the assumed-role ARN: no GetCallerIdentity round trip. */
  accountId: string;
}

export interface RoleDependencies {
  /** Default `requestIdToken`, within what is left of `STS_RETRY.budgetMs`. */
  idToken?: (audience: string) => Promise<string>;
  log?: (line: string) => void;
}

/**
 * What can succeed on retry: throttling (matrix jobs share the account's STS quota), 5xx, dropped connections and
 * IDPCommunicationError (STS could not reach the issuer's keys). A bad token, policy or trust condition cannot.
 */
export const isRetryableStsError = (error: unknown): boolean =>
  isTransientError(error) || (error as Error | undefined)?.name === 'IDPCommunicationErrorException';

/**
 * Bounded so that an STS outage fails the job in well under a minute. `budgetMs` is a deadline for the whole of
 * `assumeRoleWithOidc`, the ID token request included: each attempt is cut off at the per-attempt timeout
 * (`attemptTimeouts`) or at the deadline, whichever comes first, so a hung connection cannot stretch it.
 */
export const STS_RETRY = { maxAttempts: 8, baseDelayMs: 250, maxDelayMs: 4_000, budgetMs: 30_000 };

export async function assumeRoleWithOidc(request: RoleRequest, deps: RoleDependencies = {}): Promise<AssumedRole> {
  const log = deps.log ?? info;
  const deadline = Date.now() + STS_RETRY.budgetMs;
  // Before the token request: a bad endpoint setting fails without asking GitHub for anything.
  const endpoint = stsEndpoint(request.region, process.env);
  const idToken =
    deps.idToken ??
    ((audience: string) => requestIdToken(audience, process.env, { signal: request.signal, budgetMs: STS_RETRY.budgetMs, log }));
  const token = await idToken(request.audience);
  maskSecrets(token);
  const { connectMs, attemptMs } = attemptTimeouts();
  const call = {
    roleArn: request.roleArn,
    sessionName: request.sessionName,
    token,
    durationSeconds: request.durationSeconds,
    policy: request.inlineSessionPolicy || undefined,
    policyArns: request.managedSessionPolicies,
  };

  let issued: WebIdentityCredentials;
  try {
    issued = await retry((_attempt, signal) => assumeRoleWithWebIdentity(endpoint, call, { signal, connectMs }), {
      ...STS_RETRY,
      budgetMs: Math.max(0, deadline - Date.now()),
      attemptTimeoutMs: attemptMs,
      isRetryable: isRetryableStsError,
      signal: request.signal,
      onRetry: (error, attempt, delayMs) =>
        log(`AssumeRoleWithWebIdentity attempt ${attempt} failed (${errorMessage(error)}); retrying in ${delayMs} ms`),
    });
  } catch (error) {
    throw new Error(explainFailure(request.roleArn, error, token));
  }

  const { assumedRoleArn, ...credentials } = issued;
  maskSecrets(credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken);
  return { credentials, assumedRoleArn, accountId: assumedRoleArn.split(':')[4] };
}

function explainFailure(roleArn: string, error: unknown, token: string): string {
  const head = `Could not assume the role ${roleArn}: ${errorMessage(error)}`;
  const name = (error as Error | undefined)?.name;
  if (name === 'AccessDenied') return `${head}\n${explainAccessDenied(roleArn, publicClaims(token))}`;
  if (name === 'InvalidIdentityTokenException' && /audience/i.test(errorMessage(error))) {
    return `${head}\n${explainBadAudience(publicClaims(token))}`;
  }
  return head;
}
