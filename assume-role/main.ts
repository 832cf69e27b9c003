/**
 * The assume-role step: validate every input, assume the role, check the account, then export; outputs, summary
 * and failure come from `report`.
 */
import * as core from '../shared/actions-core.js';
import { assumeRoleWithOidc, type AssumedRole } from '../shared/assume-role-with-oidc.js';
import type { OutputValue } from '../shared/outputs.js';
import { runStep, type StepReport } from '../shared/step.js';
import { readInputs, type AssumeRoleInputs } from './inputs.js';
import { accountRefusal, credentialVariables, stepOutputs } from './plan.js';
import { assumedSummary } from './summary.js';

interface State {
  inputs: AssumeRoleInputs;
  /** What STS answered, once it has. */
  assumed?: AssumedRole;
  /** Why the account must not be used; when set, nothing is exported or output. */
  refusal?: string;
}

export function run(): Promise<void> {
  return runStep({
    name: 'assume-role',
    mask: maskAccountIds,
    readInputs: () => readInputs(),
    initial: (inputs): State => ({ inputs }),
    body,
    report,
  });
}

/**
 * With `mask-account-id` (as YAML writes true), every 12-digit account ID in `role-to-assume` is masked before the
 * inputs are parsed, so that an error about a malformed ARN cannot show it either.
 */
function maskAccountIds(): string[] {
  if (!/^(true|True|TRUE)$/.test(core.getInput('mask-account-id'))) return [];
  const ids = [...new Set(core.getInput('role-to-assume').match(/\d{12}/g) ?? [])];
  for (const id of ids) core.setSecret(id);
  return ids;
}

async function body(inputs: AssumeRoleInputs, state: State, signal: AbortSignal): Promise<void> {
  // Before the first call: the role ARN in any error message would otherwise show it.
  if (inputs.maskAccountId) core.setSecret(inputs.roleToAssume.split(':')[4]);
  const assumed = await assumeRoleWithOidc({
    roleArn: inputs.roleToAssume,
    region: inputs.awsRegion,
    audience: inputs.audience,
    sessionName: inputs.roleSessionName,
    durationSeconds: inputs.roleDurationSeconds,
    inlineSessionPolicy: inputs.inlineSessionPolicy,
    managedSessionPolicies: inputs.managedSessionPolicies,
    signal,
  });
  if (inputs.maskAccountId) core.setSecret(assumed.accountId);
  state.refusal = accountRefusal(assumed.accountId, inputs.allowedAccountIds);
  if (state.refusal) return;
  state.assumed = assumed;
  if (inputs.exportCredentials) {
    for (const [name, value] of Object.entries(credentialVariables(assumed, inputs.awsRegion))) {
      core.exportVariable(name, value);
    }
  }
}

function report({ inputs, assumed, refusal }: State): StepReport<Record<string, OutputValue>> {
  if (refusal) return { outputs: {}, failure: refusal };
  if (!assumed) return { outputs: {} };
  return {
    outputs: stepOutputs(assumed, inputs.outputCredentials),
    summary: assumedSummary(inputs, assumed),
    notice: `Assumed ${assumed.assumedRoleArn} until ${assumed.credentials.expiration.toISOString()}`,
  };
}
