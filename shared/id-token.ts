/** The job's GitHub OIDC ID token, and the claims in it that are safe to show. */
import * as core from '@actions/core';

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

/** The token for `audience`; `@actions/core` masks it before returning it. */
export async function requestIdToken(audience: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (!env.ACTIONS_ID_TOKEN_REQUEST_URL || !env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    throw new Error(NO_ID_TOKEN_HELP);
  }
  return core.getIDToken(audience);
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
