/** The decisions of assume-role, apart from the I/O that feeds them. */
import type { AssumedRole } from '../shared/assume-role-with-oidc.js';
import type { OutputValue } from '../shared/outputs.js';

/** Why the account must not be used, or undefined when it may. Checked before anything is exported or output. */
export function accountRefusal(accountId: string, allowed: readonly string[]): string | undefined {
  if (allowed.length === 0 || allowed.includes(accountId)) return undefined;
  return (
    `The role belongs to account ${accountId}, which is not in 'allowed-account-ids' (${allowed.join(', ')}): ` +
    'nothing was exported or output.'
  );
}

/** The variables later steps' AWS SDKs and CLIs read. */
export function credentialVariables(assumed: AssumedRole, region: string): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: assumed.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: assumed.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: assumed.credentials.sessionToken,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
  };
}

export function stepOutputs(assumed: AssumedRole, withCredentials: boolean): Record<string, OutputValue> {
  return {
    'aws-account-id': assumed.accountId,
    'assumed-role-arn': assumed.assumedRoleArn,
    expiration: assumed.credentials.expiration.toISOString(),
    ...(withCredentials
      ? {
          'aws-access-key-id': assumed.credentials.accessKeyId,
          'aws-secret-access-key': assumed.credentials.secretAccessKey,
          'aws-session-token': assumed.credentials.sessionToken,
        }
      : {}),
  };
}
