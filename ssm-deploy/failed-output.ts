/**
 * Shows, in collapsed log groups, what the deploy script printed on instances where it ran and failed:
 * GetCommandInvocation returns the first 24,000 characters of its output and 8,000 of its errors (the full
 * output goes to CloudWatch Logs or S3 when the inputs name them).
 */
import { GetCommandInvocationCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { errorMessage } from '../shared/errors.js';
import { showUntrusted } from '../shared/log.js';
import { attemptTimeouts } from '../shared/aws-clients.js';
import { AttemptTimeoutError, retry } from '../shared/retry.js';
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
const FETCH_RETRY = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 2000 };

/**
 * All the reads together, from the end of the wait: the command has ended and its status is known, so a hung or
 * failing SSM costs the report at most this long (whatever the number of failed instances). Each attempt is cut at
 * a third of it, or the client's own per-attempt timeout if shorter: the client's five attempts of 15 s each would
 * otherwise hold one read for 77 s.
 */
export const OUTPUT_BUDGET_MS = 30_000;

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
  const shown = ran.slice(0, MAX_OUTPUTS);
  const deadline = Date.now() + OUTPUT_BUDGET_MS;
  const attemptTimeoutMs = Math.min(Math.floor(OUTPUT_BUDGET_MS / 3), attemptTimeouts().attemptMs);
  for (const [index, instance] of shown.entries()) {
    const budgetMs = deadline - Date.now();
    if (budgetMs <= 0) {
      const unread = shown.slice(index).map((i) => i.instanceId);
      log(`Reading output took the whole ${OUTPUT_BUDGET_MS / 1000} s; not read: ${unread.join(', ')} (see the Run Command console).`);
      break;
    }
    try {
      const answer = await retry(
        (_attempt, attemptSignal) =>
          ssm.send(
            new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instance.instanceId, PluginName: DEPLOY_STEP }),
            { abortSignal: attemptSignal },
          ),
        { ...FETCH_RETRY, isRetryable, signal, budgetMs, attemptTimeoutMs },
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
      const why = error instanceof AttemptTimeoutError ? `GetCommandInvocation had ${error.message}` : errorMessage(error);
      log(`Could not read the output of ${instance.instanceId}: ${why}`);
    }
  }
  if (ran.length > MAX_OUTPUTS) {
    log(`The output of ${ran.length - MAX_OUTPUTS} more failed instances is in the Run Command console.`);
  }
}
