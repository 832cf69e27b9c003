import { SSMClient } from '@aws-sdk/client-ssm';
import { actionClients } from '../shared/action-clients.js';
import { clientFactory } from '../shared/aws-clients.js';
import { installCancellation } from '../shared/cancellation.js';
import { errorMessage } from '../shared/errors.js';
import { setOutputs } from '../shared/outputs.js';
import { writeSummary } from '../shared/summary.js';
import { describeTargets, runContext, sendCommandInput } from './command-request.js';
import type { CommandState } from './command-state.js';
import { commandUrl, deploySummary } from './deploy-summary.js';
import { DOCUMENT_CONTENT, DOCUMENT_HASH } from './document.js';
import { showFailedOutput } from './failed-output.js';
import { readInputs } from './inputs.js';
import { prepareDocument } from './manage-document.js';
import { sendCommandOnce } from './send-command.js';
import { decideOutcome, stepOutputs, type Outcome } from './outcome.js';
import { waitForCommand } from './wait-for-command.js';
import * as log from '../shared/log.js';

/**
 * The ssm-deploy step: validate every input, make sure the document is this action's, send the command pinned to
 * that content, follow it on every instance, report each one, and fail unless every instance deployed.
 */
export async function run(): Promise<void> {
  const cancellation = installCancellation();
  const { signal } = cancellation;
  try {
    const inputs = readInputs();
    const targets = inputs.instanceIds.length > 0 ? inputs.instanceIds.join(', ') : describeTargets(inputs.targets);
    const { clients, assumed } = await actionClients(inputs, { signal });
    const ssm = clients(SSMClient);

    const document = await prepareDocument(ssm, {
      name: inputs.documentName,
      content: DOCUMENT_CONTENT,
      hash: DOCUMENT_HASH,
      manage: inputs.manageDocument,
      signal,
      log: log.info,
    });
    const request = sendCommandInput(inputs, { ...document, hash: DOCUMENT_HASH }, runContext(process.env));
    // Its own retries off: sendCommandOnce looks for a command an unanswered attempt created before sending again.
    const sendOnce = clientFactory({ region: inputs.awsRegion, credentials: assumed?.credentials, maxAttempts: 1, retryMode: 'standard' })(
      SSMClient,
    );
    const sent = await sendCommandOnce(sendOnce, request, { region: inputs.awsRegion, signal, log: log.info });
    sendOnce.destroy();
    const commandId = sent.CommandId ?? '';
    log.info(`Sent the command ${commandId} to ${targets}: ${commandUrl(inputs.awsRegion, commandId)}`);
    const report = (outcome: Outcome, state: CommandState | undefined) =>
      writeSummary(
        deploySummary({
          outcome,
          region: inputs.awsRegion,
          commandId,
          document,
          targets,
          storePath: inputs.storePath,
          action: inputs.action,
          state,
        }),
      );

    if (!inputs.wait) {
      setOutputs(stepOutputs(commandId, sent.Status ?? 'Pending', undefined));
      await report({ ok: true, message: `Sent the command ${commandId}; not waiting for it (wait: false).` }, undefined);
      return;
    }

    const ending = await waitForCommand(ssm, commandId, {
      intervalMs: inputs.pollIntervalSeconds * 1000,
      timeoutMs: inputs.timeoutMinutes * 60_000,
      signal,
      log: log.info,
    });
    const outcome = decideOutcome(ending, targets);
    // After a cancellation the runner kills the step within seconds: no time to fetch outputs, only to report; after
    // the wait lost sight of the command, SSM is failing, and more calls would only delay the report.
    if ((ending.kind === 'done' || ending.kind === 'timeout') && ending.state) {
      await showFailedOutput(ssm, commandId, ending.state.instances, log.info, signal);
    }
    setOutputs(stepOutputs(commandId, ending.state?.status ?? 'Pending', ending.state));
    await report(outcome, ending.state);
    if (outcome.ok) log.info(outcome.message);
    else log.fail(outcome.message);
  } catch (error) {
    log.fail(errorMessage(error));
  } finally {
    cancellation.dispose();
  }
}
