import * as core from '@actions/core';
import { assumeRoleWithOidc } from '../shared/assume-role-with-oidc.js';
import { installCancellation } from '../shared/cancellation.js';
import { errorMessage } from '../shared/errors.js';
import { setOutputs } from '../shared/outputs.js';
import { writeSummary } from '../shared/summary.js';
import { accountRefusal, credentialVariables, stepOutputs } from './decide.js';
import { readInputs } from './inputs.js';
import * as log from '../shared/log.js';

/** The assume-role step: validate every input, assume the role, check the account, then export and output. */
export async function run(): Promise<void> {
  const cancellation = installCancellation();
  try {
    const inputs = readInputs();
    const accountInInput = inputs.roleToAssume.split(':')[4];
    // Before the first call: the role ARN in any error message would otherwise show it.
    if (inputs.maskAccountId) core.setSecret(accountInInput);

    const assumed = await assumeRoleWithOidc({
      roleArn: inputs.roleToAssume,
      region: inputs.awsRegion,
      audience: inputs.audience,
      sessionName: inputs.roleSessionName,
      durationSeconds: inputs.roleDurationSeconds,
      inlineSessionPolicy: inputs.inlineSessionPolicy,
      managedSessionPolicies: inputs.managedSessionPolicies,
      signal: cancellation.signal,
    });
    if (inputs.maskAccountId) core.setSecret(assumed.accountId);

    const refusal = accountRefusal(assumed.accountId, inputs.allowedAccountIds);
    if (refusal) throw new Error(refusal);

    if (inputs.exportCredentials) {
      for (const [name, value] of Object.entries(credentialVariables(assumed, inputs.awsRegion))) {
        core.exportVariable(name, value);
      }
    }
    setOutputs(stepOutputs(assumed, inputs.outputCredentials));
    const expiration = assumed.credentials.expiration.toISOString();
    log.info(`Assumed ${assumed.assumedRoleArn} until ${expiration}`);
    // The runner masks logs, not the job summary.
    const shown = (text: string) => (inputs.maskAccountId ? text.replaceAll(assumed.accountId, '***') : text);
    await writeSummary({
      title: 'AWS role assumed',
      facts: [
        ['Role', shown(inputs.roleToAssume)],
        ['Session', { text: shown(assumed.assumedRoleArn), code: true }],
        ['Expires', expiration],
        ['Credentials exported', inputs.exportCredentials],
      ],
    });
  } catch (error) {
    log.fail(errorMessage(error));
  } finally {
    cancellation.dispose();
  }
}
