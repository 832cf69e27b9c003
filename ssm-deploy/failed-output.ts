/**
 * Shows, in collapsed log groups, what the deploy script printed on instances where it ran and failed:
 * GetCommandInvocation returns the first 24,000 characters of its output and 8,000 of its errors (the full
 * output goes to CloudWatch Logs or S3 when the inputs name them).
 */
import { GetCommandInvocationCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { errorMessage } from '../shared/errors.js';
import { showUntrusted } from '../shared/log.js';
import { retry } from '../shared/retry.js';
import { isTransientError } from '../shared/transient.js';
import { succeeded, type InstanceResult } from './command-state.js';
import { DEPLOY_STEP } from './document.js';
import { describeInstance } from './outcome.js';

/** Instances whose output is fetched; the rest are only named (their output is in the console). */
export const MAX_OUTPUTS = 20;

/**
 * SSM lists an invocation a moment before GetCommandInvocation knows it (`InvocationDoesNotExist`); that answer
 * is a "not yet", like throttling.
 */
const FETCH_RETRY = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 2000, budgetMs: 10_000 };
const isRetryable = (error: unknown) =>
  isTransientError(error) || (error as Error | undefined)?.name === 'InvocationDoesNotExist';

/** Failed instances on which the script started (those never delivered have no output). */
export function instancesWithOutput(instances: InstanceResult[]): InstanceResult[] {
  return instances.filter((i) => !succeeded(i) && (i.startedAt !== undefined || i.responseCode >= 0));
}

export async function showFailedOutput(
  ssm: SSMClient,
  commandId: string,
  instances: InstanceResult[],
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const ran = instancesWithOutput(instances);
  for (const instance of ran.slice(0, MAX_OUTPUTS)) {
    try {
      const answer = await retry(
        () =>
          ssm.send(
            new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instance.instanceId, PluginName: DEPLOY_STEP }),
            { abortSignal: signal },
          ),
        { ...FETCH_RETRY, isRetryable, signal },
      );
      const text = [
        answer.StandardOutputContent ?? '',
        answer.StandardErrorContent ? `----- standard error -----\n${answer.StandardErrorContent}` : '',
      ]
        .filter(Boolean)
        .join('\n');
      await showUntrusted(`Output of ${describeInstance(instance)}`, text || '(no output)');
    } catch (error) {
      if (signal?.aborted) return;
      log(`Could not read the output of ${instance.instanceId}: ${errorMessage(error)}`);
    }
  }
  if (ran.length > MAX_OUTPUTS) {
    log(`The output of ${ran.length - MAX_OUTPUTS} more failed instances is in the Run Command console.`);
  }
}
