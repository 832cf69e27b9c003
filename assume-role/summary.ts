/** The job summary of assume-role: pure, from the inputs and what STS answered. */
import type { AssumedRole } from '../shared/assume-role-with-oidc.js';
import type { JobSummary } from '../shared/summary.js';
import type { AssumeRoleInputs } from './inputs.js';

/**
 * The role, the session and when it expires. With `mask-account-id` the account ID shows as `***`: the runner masks
 * the log, not the job summary.
 */
export function assumedSummary(
  inputs: Pick<AssumeRoleInputs, 'roleToAssume' | 'exportCredentials' | 'maskAccountId'>,
  assumed: AssumedRole,
): JobSummary {
  const shown = (text: string) => (inputs.maskAccountId ? text.replaceAll(assumed.accountId, '***') : text);
  return {
    title: 'AWS role assumed',
    facts: [
      ['Role', shown(inputs.roleToAssume)],
      ['Session', { text: shown(assumed.assumedRoleArn), code: true }],
      ['Expires', assumed.credentials.expiration.toISOString()],
      ['Credentials exported', inputs.exportCredentials],
    ],
  };
}
