/**
 * Explains an STS refusal in terms of the trust policy, the way a user fixes it: which claims the job's token has,
 * and a condition block that would accept them. The commonest failure of OIDC role assumption is a `sub` condition
 * that does not match (an `environment:` subject where a `ref:` one was expected, or the reverse).
 */
import type { PublicClaims } from './id-token.js';

/** `token.actions.githubusercontent.com` (or `.../<enterprise>` on GitHub Enterprise): IAM's condition key prefix. */
export function conditionKeyPrefix(issuer: string | undefined): string {
  return (issuer ?? 'https://token.actions.githubusercontent.com').replace(/^https?:\/\//, '').replace(/\/$/, '');
}

export function explainAccessDenied(roleArn: string, claims: PublicClaims): string {
  const prefix = conditionKeyPrefix(claims.iss);
  const condition = {
    StringEquals: {
      [`${prefix}:aud`]: claims.aud ?? 'sts.amazonaws.com',
      [`${prefix}:sub`]: claims.sub ?? '<sub>',
    },
  };
  const shown = (['sub', 'aud', 'iss', 'job_workflow_ref'] as const)
    .filter((name) => claims[name] !== undefined)
    .map((name) => `  ${name}: ${claims[name]}`);
  const lines = [
    `The trust policy of ${roleArn} does not accept this job's ID token (or the role does not exist). The token's claims:`,
    ...shown,
    'A trust policy condition that accepts exactly this job (widen sub with StringLike and * only as far as you mean to):',
    `  "Condition": ${JSON.stringify(condition)}`,
  ];
  if (claims.environment) {
    lines.push(`The job runs in the environment '${claims.environment}', so its sub names the environment, not the branch.`);
  }
  return lines.join('\n');
}

export function explainBadAudience(claims: PublicClaims): string {
  return (
    `The token's audience (aud: ${claims.aud ?? 'unknown'}) is not a client ID of the account's OIDC provider ` +
    `for ${claims.iss ?? 'the issuer'}. Set the 'audience' input to one of the provider's client IDs ` +
    `(usually sts.amazonaws.com), or add this audience to the provider.`
  );
}
