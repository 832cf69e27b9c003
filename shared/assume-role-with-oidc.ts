/**
 * Trades the job's GitHub OIDC ID token for short-lived credentials of an IAM role. The assume-role action exports
 * them; the other actions call this for their own clients and export nothing.
 */
import {
  AssumeRoleWithWebIdentityCommand,
  STSClient,
  type AssumeRoleWithWebIdentityCommandOutput,
} from '@aws-sdk/client-sts';
import { attemptTimeouts, clientFactory } from './aws-clients.js';
import { errorMessage } from './errors.js';
import { publicClaims, requestIdToken } from './id-token.js';
import { maskSecrets } from './mask.js';
import { retry } from './retry.js';
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

export interface StsApi {
  send(
    command: AssumeRoleWithWebIdentityCommand,
    options?: { abortSignal?: AbortSignal },
  ): Promise<AssumeRoleWithWebIdentityCommandOutput>;
}

export interface RoleDependencies {
  sts?: StsApi;
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
  // The SDK's own retries are off: this call's retry policy is the one above, in one place.
  const sts = deps.sts ?? clientFactory({ region: request.region, maxAttempts: 1, retryMode: 'standard' })(STSClient);
  const idToken =
    deps.idToken ??
    ((audience: string) => requestIdToken(audience, process.env, { signal: request.signal, budgetMs: STS_RETRY.budgetMs, log }));
  const token = await idToken(request.audience);
  maskSecrets(token);
  const command = new AssumeRoleWithWebIdentityCommand({
    RoleArn: request.roleArn,
    RoleSessionName: request.sessionName,
    WebIdentityToken: token,
    DurationSeconds: request.durationSeconds,
    Policy: request.inlineSessionPolicy || undefined,
    PolicyArns: request.managedSessionPolicies?.length
      ? request.managedSessionPolicies.map((arn) => ({ arn }))
      : undefined,
  });

  let answer: AssumeRoleWithWebIdentityCommandOutput;
  try {
    answer = await retry((_attempt, signal) => sts.send(command, { abortSignal: signal }), {
      ...STS_RETRY,
      budgetMs: Math.max(0, deadline - Date.now()),
      attemptTimeoutMs: attemptTimeouts().attemptMs,
      isRetryable: isRetryableStsError,
      signal: request.signal,
      onRetry: (error, attempt, delayMs) =>
        log(`AssumeRoleWithWebIdentity attempt ${attempt} failed (${errorMessage(error)}); retrying in ${delayMs} ms`),
    });
  } catch (error) {
    throw new Error(explainFailure(request.roleArn, error, token));
  }

  const issued = answer.Credentials;
  const assumedRoleArn = answer.AssumedRoleUser?.Arn;
  if (!issued?.AccessKeyId || !issued.SecretAccessKey || !issued.SessionToken || !issued.Expiration || !assumedRoleArn) {
    throw new Error(`STS answered AssumeRoleWithWebIdentity for ${request.roleArn} without complete credentials`);
  }
  maskSecrets(issued.AccessKeyId, issued.SecretAccessKey, issued.SessionToken);
  return {
    credentials: {
      accessKeyId: issued.AccessKeyId,
      secretAccessKey: issued.SecretAccessKey,
      sessionToken: issued.SessionToken,
      expiration: issued.Expiration,
    },
    assumedRoleArn,
    accountId: assumedRoleArn.split(':')[4],
  };
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
