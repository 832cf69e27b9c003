/**
 * The environment of the `nix` child processes. With `role-to-assume`, the assumed role's credentials are set here
 * and nowhere else: Nix's S3 client reads them from its environment (first in the AWS SDK's default chain), and
 * neither later steps nor this process's own environment see them.
 */
import type { RoleCredentials } from '../shared/assume-role-with-oidc.js';

export function nixEnv(env: NodeJS.ProcessEnv, credentials?: RoleCredentials): NodeJS.ProcessEnv {
  if (!credentials) return { ...env };
  return {
    ...env,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
  };
}

/**
 * Role sessions last an hour by default, and a NixOS build that substitutes little can take longer: credentials
 * this close to their end are renewed before the push, so that no upload of many minutes runs out of them.
 */
export const RENEW_BEFORE_MS = 15 * 60_000;

export function needsRenewal(credentials: RoleCredentials, nowMs: number): boolean {
  return credentials.expiration.getTime() - nowMs < RENEW_BEFORE_MS;
}
