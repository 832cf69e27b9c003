/**
 * The time an abort action (cancel the command, roll back the refresh) may take, and the one way its calls are bounded
 * by it. After a cancellation the runner sends SIGTERM 7.5 s after SIGINT, so the calls must be done within seconds;
 * after a timeout or a wait that gave up nothing is coming to kill the step, and the action deserves the time to ride
 * out the very outage that ended the wait. Either way a hung attempt is cut short enough to be tried again (at most a
 * third of the budget): the client's own per-attempt timeout (15 s) is longer than the whole cancelled budget.
 */
import { attemptTimeouts } from './aws-clients.js';
import { errorMessage } from './errors.js';
import { AttemptTimeoutError, retry } from './retry.js';
import { isTransientError } from './transient.js';

/** After a cancellation: done before the runner's SIGTERM (7.5 s after SIGINT), with room to report. */
export const CANCELLED_ABORT_BUDGET_MS = 5_000;
/** After a timeout or a wait that gave up: a minute, as no one kills the step. */
export const ABORT_BUDGET_MS = 60_000;

/** Why the wait ended, as far as the abort's budget is concerned. */
export type AbortCause = 'cancelled' | 'timeout' | 'gave-up';

export function abortBudgetMs(cause: AbortCause): number {
  return cause === 'cancelled' ? CANCELLED_ABORT_BUDGET_MS : ABORT_BUDGET_MS;
}

/**
 * One attempt's time: a third of the budget, so that two more attempts fit after a hung one; never more than the
 * client's own per-attempt timeout (shorter in tests, see `attemptTimeouts`).
 */
export function abortAttemptMs(budgetMs: number, env: NodeJS.ProcessEnv = process.env): number {
  return Math.min(Math.floor(budgetMs / 3), attemptTimeouts(env).attemptMs);
}

export interface AbortCalls {
  /**
   * Makes `call` (one SDK request; hand it the signal) within what is left of the budget: each attempt cut at
   * {@link abortAttemptMs}, transient failures (a cut attempt included) tried again with a short backoff, `attempts`
   * in all (default: as many as the budget holds). Logs each cut attempt, naming `operation`. Throws the last
   * failure; a cut attempt as `<operation> had no answer within <time>`.
   */
  call<T>(operation: string, call: (signal: AbortSignal | undefined) => Promise<T>, attempts?: number): Promise<T>;
}

/** A budget of `budgetMs` from now, shared by every call made through the result. */
export function abortCalls(budgetMs: number, log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): AbortCalls {
  const deadline = Date.now() + budgetMs;
  const attemptTimeoutMs = abortAttemptMs(budgetMs, env);
  return {
    async call(operation, call, attempts = Number.MAX_SAFE_INTEGER) {
      try {
        return await retry((_attempt, signal) => call(signal), {
          isRetryable: isTransientError,
          maxAttempts: attempts,
          baseDelayMs: 100,
          maxDelayMs: 1000,
          budgetMs: Math.max(0, deadline - Date.now()),
          attemptTimeoutMs,
          onRetry: (error, attempt) =>
            log(`${operation} (attempt ${attempt}) ${hungOrFailed(error)}; trying again within the abort's budget.`),
        });
      } catch (error) {
        if (error instanceof AttemptTimeoutError) throw new Error(`${operation} ${hungOrFailed(error)}`);
        throw error;
      }
    },
  };
}

function hungOrFailed(error: unknown): string {
  return error instanceof AttemptTimeoutError ? `had no answer within ${error.message.replace(/^no answer within /, '')}` : `failed: ${errorMessage(error)}`;
}
