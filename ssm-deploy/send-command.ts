/**
 * Sends the deploy command exactly once. SendCommand takes no client token: every call that reaches AWS creates a
 * command, so an attempt that got no answer (a timeout, a dropped connection, a 5xx) may have created one, and the
 * SDK's blind retry would then deploy twice at once. Here an unanswered attempt is followed, before any resend, by a
 * look for the command it may have created: one sent since the first attempt (with a minute's allowance for clock
 * skew), of the same document, comment (which names the run), targets and parameters is taken as this deploy's.
 */
import { ListCommandsCommand, SendCommandCommand, type Command, type SendCommandCommandInput } from '@aws-sdk/client-ssm';
import { errorMessage, isRefusal } from '../shared/errors.js';
import { retry } from '../shared/retry.js';
import { isTransientError } from '../shared/transient.js';
import { explainSendFailure } from './send-failure.js';

/** What this needs of an SSM client; give it one whose own retries are off (`maxAttempts: 1`). */
export interface SendApi {
  send(command: SendCommandCommand | ListCommandsCommand, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** Like the SDK's own (5 attempts), with room for a look between them. */
export const SEND_RETRY = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 4_000, budgetMs: 60_000 };
const CLOCK_SKEW_MS = 60_000;

/** Whether `command` is the one `request` would have created. */
export function isSameCommand(command: Command, request: SendCommandCommandInput): boolean {
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  return (
    command.DocumentName === request.DocumentName &&
    command.Comment === request.Comment &&
    same(command.InstanceIds?.length ? command.InstanceIds : undefined, request.InstanceIds) &&
    same(command.Targets?.length ? command.Targets : undefined, request.Targets) &&
    same(command.Parameters, request.Parameters)
  );
}

export async function sendCommandOnce(
  ssm: SendApi,
  request: SendCommandCommandInput,
  options: { region: string; signal?: AbortSignal; log: (line: string) => void },
): Promise<Command> {
  const since = new Date(Date.now() - CLOCK_SKEW_MS).toISOString();
  let unanswered = false;
  try {
    return await retry(
      async () => {
        if (unanswered) {
          const listed = (await ssm.send(
            new ListCommandsCommand({
              Filters: [
                { key: 'InvokedAfter', value: since },
                { key: 'DocumentName', value: request.DocumentName ?? '' },
              ],
            }),
            { abortSignal: options.signal },
          )) as { Commands?: Command[] };
          const found = listed.Commands?.find((command) => isSameCommand(command, request));
          if (found) {
            options.log(`The unanswered SendCommand had created the command ${found.CommandId}: following it, not sending again.`);
            return found;
          }
        }
        try {
          const sent = (await ssm.send(new SendCommandCommand(request), { abortSignal: options.signal })) as { Command?: Command };
          if (!sent.Command?.CommandId) throw new Error('SendCommand answered without a command ID');
          return sent.Command;
        } catch (error) {
          unanswered = !isRefusal(error);
          throw error;
        }
      },
      {
        ...SEND_RETRY,
        isRetryable: isTransientError,
        signal: options.signal,
        onRetry: (error, attempt, delayMs) =>
          options.log(`SendCommand attempt ${attempt} failed (${errorMessage(error)}); retrying in ${delayMs} ms`),
      },
    );
  } catch (error) {
    throw new Error(explainSendFailure(error, options.region), { cause: error });
  }
}
