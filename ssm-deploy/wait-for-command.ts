/**
 * Follows a sent command through the shared poller until it ends, the wait times out, the run is cancelled or the
 * wait loses sight of it (SSM kept failing); in the last three cases the command is cancelled (CancelCommand) before
 * the step ends, so that no instance goes on switching after the workflow said it stopped.
 */
import { CancelCommandCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { abortBudgetMs, abortCalls, type AbortCause } from '../shared/abort-budget.js';
import { errorMessage } from '../shared/errors.js';
import { poll } from '../shared/poller.js';
import { describeState, isFinished, type CommandState } from './command-state.js';
import type { CancelResult, Ending } from './outcome.js';
import { readCommand } from './read-command.js';

export interface WaitOptions {
  intervalMs: number;
  timeoutMs: number;
  signal?: AbortSignal;
  log: (line: string) => void;
}

export async function waitForCommand(ssm: SSMClient, commandId: string, options: WaitOptions): Promise<Ending> {
  const waited = await poll<CommandState>({
    check: (signal) => readCommand(ssm, commandId, { signal }),
    done: isFinished,
    describe: describeState,
    intervalMs: options.intervalMs,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    log: options.log,
  });
  if (waited.outcome === 'done') {
    return { kind: 'done', state: await withDetails(ssm, waited.value, options) };
  }
  const cause = waited.outcome === 'timeout' ? 'timeout' : waited.outcome === 'failed' ? 'gave-up' : 'cancelled';
  const cancel = await cancelCommand(ssm, commandId, cause, options.log);
  if (waited.outcome === 'timeout') {
    return { kind: 'timeout', state: waited.last, timeoutMinutes: options.timeoutMs / 60_000, cancel };
  }
  if (waited.outcome === 'failed') return { kind: 'failed', state: waited.last, error: errorMessage(waited.error), cancel };
  return { kind: 'aborted', state: waited.last, cancel };
}

/** The ended command again, with exit codes and times for the report; the plain state if that read fails. */
async function withDetails(ssm: SSMClient, state: CommandState, options: WaitOptions): Promise<CommandState> {
  try {
    return await readCommand(ssm, state.commandId, { signal: options.signal, details: true });
  } catch (error) {
    options.log(`Could not read the exit codes of the instances: ${errorMessage(error)}`);
    return state;
  }
}

/**
 * CancelCommand within the abort's budget (shared/abort-budget.ts: seconds after a cancellation, a minute after a
 * timeout), a hung attempt cut and tried again. Never throws.
 */
export async function cancelCommand(
  ssm: SSMClient,
  commandId: string,
  cause: AbortCause,
  log: (line: string) => void,
): Promise<CancelResult> {
  try {
    await abortCalls(abortBudgetMs(cause), log).call('CancelCommand', (signal) =>
      ssm.send(new CancelCommandCommand({ CommandId: commandId }), { abortSignal: signal }),
    );
    log(`Cancelled the command ${commandId}`);
    return { sent: true };
  } catch (error) {
    const message = errorMessage(error);
    log(`Could not cancel the command ${commandId}: ${message}`);
    return { sent: false, error: message };
  }
}
