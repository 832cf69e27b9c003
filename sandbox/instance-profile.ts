/**
 * Instance profile credentials: what the instance metadata service hands an instance at
 * `/latest/meta-data/iam/security-credentials/<role>`. The sandbox mints them (through STS's store of issued keys,
 * so that requests signed with them verify) for a fake metadata service to serve.
 */
import { createHash } from 'node:crypto';
import type { IssuedCredentials } from './services/sts/sts.js';

/** IMDS gives instance profile credentials of about six hours. */
const LIFETIME_SECONDS = 6 * 3600;

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

export interface CredentialIssuer {
  issue(assumedRoleArn: string, assumedRoleId: string, durationSeconds: number): IssuedCredentials;
}

/**
 * Credentials of role `roleName` for instance `instanceId`: the caller is
 * `arn:aws:sts::<account>:assumed-role/<role>/<instance id>`, as on EC2. Throws on an ID or name EC2 or IAM refuse.
 */
export function issueInstanceProfileCredentials(
  sts: CredentialIssuer,
  accountId: string,
  instanceId: string,
  roleName: string,
): IssuedCredentials {
  if (!INSTANCE_ID.test(instanceId)) throw new Error(`instanceId must match ${INSTANCE_ID.source}`);
  if (!ROLE_NAME.test(roleName)) throw new Error(`roleName must match ${ROLE_NAME.source}`);
  const roleId = `AROA${createHash('sha256').update(roleName).digest('hex').slice(0, 17).toUpperCase()}`;
  return sts.issue(`arn:aws:sts::${accountId}:assumed-role/${roleName}/${instanceId}`, `${roleId}:${instanceId}`, LIFETIME_SECONDS);
}

/** The document IMDS answers for the role: the shape the SDKs and curl-based scripts read. */
export function imdsCredentialsDocument(credentials: IssuedCredentials, now: Date): Record<string, string> {
  return {
    Code: 'Success',
    LastUpdated: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    Type: 'AWS-HMAC',
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    Token: credentials.sessionToken,
    Expiration: credentials.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}
