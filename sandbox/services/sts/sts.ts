import { randomBytes } from 'node:crypto';
import { AwsError } from '../../errors.js';
import { STATIC_CREDENTIALS } from '../../credentials.js';
import type { Account, Operation, Service } from '../../service.js';
import { decodeJwt, verifyRs256, type DecodedJwt } from '../oidc/jwt.js';
import { GITHUB_ISSUER, type OidcIssuer } from '../oidc/oidc.js';
import { validateWebIdentityRequest } from './request.js';
import { oidcProviderArn, parseTrustPolicy, providerId, trustPolicyAllows, type TrustPolicy } from './trust-policy.js';

export { githubTrustPolicy, type TrustPolicy } from './trust-policy.js';

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>` */
  assumedRoleArn: string;
  assumedRoleId: string;
}

export interface RoleSpec {
  name: string;
  /** A policy document, as an object or as the JSON IAM stores. */
  trustPolicy: TrustPolicy | string;
  /** Seconds, 3600-43200 (IAM's range); default 3600. */
  maxSessionDuration?: number;
  /** IAM path, `/` by default; it appears in the role ARN but not in the assumed-role ARN. */
  path?: string;
}

interface Role {
  name: string;
  /** `AROA...`, IAM's unique role ID, the first half of the assumed role ID. */
  roleId: string;
  trustPolicy: TrustPolicy;
  maxSessionDuration: number;
}

const invalidToken = (message: string) => new AwsError('InvalidIdentityToken', message);

/**
 * The GitHub claims STS offers trust policies as condition keys `token.actions.githubusercontent.com:<claim>`
 * besides `sub` and `aud` (AWS, "AWS STS supports validation of identity provider specific claims", January 2026).
 * Other claims (`event_name`, `ref_type`, `head_ref`, ...) are not condition keys: a policy naming one never matches.
 */
export const GITHUB_CONDITION_CLAIMS = [
  'actor',
  'actor_id',
  'enterprise_id',
  'environment',
  'job_workflow_ref',
  'ref',
  'repository',
  'repository_id',
  'workflow',
] as const;

/** The provider-specific condition keys of a token: only GitHub's issuer has them, and only claims it carries. */
function providerClaimKeys(issuer: string, claims: Record<string, unknown>): Record<string, string> {
  if (issuer !== GITHUB_ISSUER) return {};
  const provider = providerId(issuer);
  return Object.fromEntries(
    GITHUB_CONDITION_CLAIMS.filter((claim) => typeof claims[claim] === 'string').map((claim) => [`${provider}:${claim}`, claims[claim] as string]),
  );
}

/** STS: AssumeRoleWithWebIdentity against GitHub OIDC tokens, and GetCallerIdentity. */
export class StsService implements Service {
  readonly name = 'sts';
  readonly protocol = 'query' as const;
  readonly apiVersion = '2011-06-15';
  readonly xmlns = 'https://sts.amazonaws.com/doc/2011-06-15/';
  /** Credentials this sandbox issued, by access key ID. */
  readonly issued = new Map<string, IssuedCredentials>();

  private readonly roles = new Map<string, Role>();
  /** IAM OIDC providers by issuer host (and path), with their client IDs (accepted audiences). */
  private readonly providers = new Map<string, string[]>([[providerId(GITHUB_ISSUER), ['sts.amazonaws.com']]]);

  constructor(private readonly sandbox: Account & { readonly oidc: OidcIssuer }) {}

  /** Seeds an IAM role; returns its ARN. Throws (a test setup error) on what IAM would refuse. */
  addRole(spec: RoleSpec): string {
    const path = spec.path ?? '/';
    // IAM's MaxSessionDuration: 1 to 12 hours, 1 hour unless set.
    const maxSessionDuration = spec.maxSessionDuration ?? 3600;
    if (!/^[\w+=,.@-]{1,64}$/.test(spec.name)) throw new Error(`invalid role name ${spec.name}`);
    if (!/^\/(?:[\x21-\x7e]*\/)?$/.test(path)) throw new Error(`invalid role path ${path}`);
    if (!(maxSessionDuration >= 3600 && maxSessionDuration <= 43200)) throw new Error('maxSessionDuration must be 3600-43200');
    const arn = `arn:aws:iam::${this.sandbox.accountId}:role${path}${spec.name}`;
    this.roles.set(arn, {
      name: spec.name,
      roleId: `AROA${base32(17)}`,
      trustPolicy: parseTrustPolicy(spec.trustPolicy),
      maxSessionDuration,
    });
    return arn;
  }

  /** Replaces the client IDs of the account's GitHub OIDC provider (default `sts.amazonaws.com`). */
  setProviderAudiences(audiences: string[]): void {
    this.providers.set(providerId(GITHUB_ISSUER), [...audiences]);
  }

  /** Deletes the account's GitHub OIDC provider, as in an account nobody set up. */
  removeProvider(): void {
    this.providers.delete(providerId(GITHUB_ISSUER));
  }

  /** Who a request's access key belongs to, for the call log. */
  callerFor(accessKeyId: string | undefined): string {
    if (!accessKeyId) return 'anonymous';
    return this.issued.get(accessKeyId)?.assumedRoleArn ?? accessKeyId;
  }

  /** Throws AWS's `ExpiredToken` when the access key is one this sandbox issued and its time is up. */
  /** Query services answer `ExpiredToken`; awsJson ones (SSM) `ExpiredTokenException`. */
  rejectExpired(accessKeyId: string | undefined, protocol: Service['protocol'] = 'query'): void {
    const issued = accessKeyId ? this.issued.get(accessKeyId) : undefined;
    if (issued && this.sandbox.clock.nowMs() >= issued.expiration.getTime()) {
      const code = protocol === 'json' || protocol === 'rest-json' ? 'ExpiredTokenException' : 'ExpiredToken';
      throw new AwsError(code, 'The security token included in the request is expired');
    }
  }

  issue(assumedRoleArn: string, assumedRoleId: string, durationSeconds: number): IssuedCredentials {
    const credentials: IssuedCredentials = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `IQoJsandbox${randomBytes(96).toString('base64')}`,
      expiration: new Date(this.sandbox.clock.nowMs() + durationSeconds * 1000),
      assumedRoleArn,
      assumedRoleId,
    };
    this.issued.set(credentials.accessKeyId, credentials);
    return credentials;
  }

  /** Every access key, secret key and session token issued, so tests can prove none of them was printed. */
  issuedSecrets(): string[] {
    return [...this.issued.values()].flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken]);
  }

  readonly operations: Record<string, Operation> = {
    AssumeRoleWithWebIdentity: (params: Record<string, unknown>) => this.assumeRoleWithWebIdentity(params),
    GetCallerIdentity: (_params, call) => {
      const issued = call.accessKeyId ? this.issued.get(call.accessKeyId) : undefined;
      if (issued) {
        return { UserId: issued.assumedRoleId, Account: this.sandbox.accountId, Arn: issued.assumedRoleArn };
      }
      const user = call.accessKeyId === STATIC_CREDENTIALS.accessKeyId ? 'sandbox' : 'unknown';
      return {
        UserId: call.accessKeyId ?? 'anonymous',
        Account: this.sandbox.accountId,
        Arn: `arn:aws:iam::${this.sandbox.accountId}:user/${user}`,
      };
    },
  };

  /** Checks in AWS's order: parameters, then the token, then the role's trust policy and duration. */
  private assumeRoleWithWebIdentity(params: Record<string, unknown>): unknown {
    const request = validateWebIdentityRequest(params);
    const token = decodeJwt(request.webIdentityToken);
    if (!token) {
      throw invalidToken('The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)');
    }
    const { issuer, audience } = this.verifyToken(token);

    const role = this.roles.get(request.roleArn);
    const provider = providerId(issuer);
    const subject = String(token.claims.sub);
    const trustRequest = {
      federatedPrincipal: oidcProviderArn(this.sandbox.accountId, issuer),
      action: 'sts:AssumeRoleWithWebIdentity',
      context: { ...providerClaimKeys(issuer, token.claims), [`${provider}:sub`]: subject, [`${provider}:aud`]: audience },
    };
    // An unknown role and a refusing trust policy look the same, so callers cannot probe for role names.
    if (!role || !trustPolicyAllows(role.trustPolicy, trustRequest)) {
      throw new AwsError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403);
    }
    if (request.durationSeconds > role.maxSessionDuration) {
      const message = 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.';
      throw new AwsError('ValidationError', message);
    }

    const assumedRoleArn = `arn:aws:sts::${this.sandbox.accountId}:assumed-role/${role.name}/${request.roleSessionName}`;
    const assumedRoleId = `${role.roleId}:${request.roleSessionName}`;
    const credentials = this.issue(assumedRoleArn, assumedRoleId, request.durationSeconds);
    return {
      Credentials: {
        AccessKeyId: credentials.accessKeyId,
        SecretAccessKey: credentials.secretAccessKey,
        SessionToken: credentials.sessionToken,
        Expiration: credentials.expiration,
      },
      SubjectFromWebIdentityToken: subject,
      AssumedRoleUser: { AssumedRoleId: assumedRoleId, Arn: assumedRoleArn },
      PackedPolicySize: request.packedPolicySize,
      Provider: oidcProviderArn(this.sandbox.accountId, issuer),
      Audience: audience,
    };
  }

  /** Issuer has a provider, signature checks against the issuer's keys, audience is a client ID, not expired. */
  private verifyToken(token: DecodedJwt): { issuer: string; audience: string } {
    const issuer = token.claims.iss;
    const clientIds = typeof issuer === 'string' ? this.providers.get(providerId(issuer)) : undefined;
    if (typeof issuer !== 'string' || !clientIds) {
      throw invalidToken(`No OpenIDConnect provider found in your account for ${String(issuer)}`);
    }
    // The only provider is GitHub's, whose keys are the sandbox issuer's: verified in-process, no JWKS fetch.
    const keys = this.sandbox.oidc.keys;
    if (token.header.kid !== keys.kid || !verifyRs256(token, keys.publicKey)) {
      throw invalidToken("The signature of the web identity token could not be verified with the provider's keys");
    }
    const audiences = Array.isArray(token.claims.aud) ? token.claims.aud : [token.claims.aud];
    const audience = audiences.find((aud): aud is string => typeof aud === 'string' && clientIds.includes(aud));
    if (!audience) throw invalidToken('Incorrect token audience');
    const exp = token.claims.exp;
    const now = Math.floor(this.sandbox.clock.nowMs() / 1000);
    if (typeof exp !== 'number') throw invalidToken('The ID Token provided has no expiration (exp) claim');
    if (now >= exp) {
      // Sic: AWS's message has no space before the second number.
      const message = `Token expired: current date/time ${now} must be before the expiration date/time${exp}`;
      throw new AwsError('ExpiredTokenException', message);
    }
    return { issuer, audience };
  }
}

function base32(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return [...randomBytes(length)].map((byte) => alphabet[byte % 32]).join('');
}
