/**
 * Retries a call that failed with an error that can succeed on retry, with capped, full-jitter exponential backoff
 * and a bound on the total time. Everything else fails on the first answer: retrying AccessDenied or a validation
 * error only hides a misconfiguration behind minutes of waiting.
 */
import { sleep } from './sleep.js';

export interface RetryOptions {
  isRetryable(error: unknown): boolean;
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * No retry starts once this much time has passed since the first attempt. With `attemptTimeoutMs` it is a
   * deadline: no attempt runs past it either, so the whole call ends within `budgetMs`.
   */
  budgetMs: number;
  /**
   * Per attempt: the attempt is abandoned after this long (or at the budget's end, if sooner) with an
   * {@link AttemptTimeoutError}, which `isRetryable` sees like any other failure (`isTransientError` retries it).
   * The attempt's signal aborts then; the result no longer waits for a call that ignores it.
   */
  attemptTimeoutMs?: number;
  signal?: AbortSignal;
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
  /** For tests: the jitter source, in [0, 1). */
  random?: () => number;
}

/** An attempt had no answer within its time; `name` is the SDK's own `TimeoutError`, which is transient. */
export class AttemptTimeoutError extends Error {
  override readonly name = 'TimeoutError';

  constructor(readonly timeoutMs: number) {
    super(`no answer within ${formatMs(timeoutMs)}`);
  }
}

const formatMs = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);

/**
 * `call` gets the attempt number (from 1) and the signal to hand its I/O: it aborts on `options.signal` and, with
 * `attemptTimeoutMs`, when the attempt's time is up. Throws the last failure; on `options.signal`, its reason.
 */
export async function retry<T>(
  call: (attempt: number, signal: AbortSignal | undefined) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const started = Date.now();
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await attemptOnce(call, attempt, options, started + options.budgetMs);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (attempt >= options.maxAttempts || !options.isRetryable(error)) throw error;
      const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.round(random() * ceiling);
      if (Date.now() - started + delayMs > options.budgetMs) throw error;
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, options.signal);
      if (options.signal?.aborted) throw options.signal.reason;
    }
  }
}

async function attemptOnce<T>(
  call: (attempt: number, signal: AbortSignal | undefined) => Promise<T>,
  attempt: number,
  options: RetryOptions,
  deadline: number,
): Promise<T> {
  if (options.attemptTimeoutMs === undefined) return call(attempt, options.signal);
  const timeoutMs = Math.max(0, Math.min(options.attemptTimeoutMs, deadline - Date.now()));
  const timer = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, timer.signal]) : timer.signal;
  const cutOff = setTimeout(() => timer.abort(new AttemptTimeoutError(timeoutMs)), timeoutMs);
  // Settles when the attempt's time is up or the caller cancels, even if the call ignores its signal.
  let stopWatching = () => {};
  const stopped = new Promise<never>((_resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    stopWatching = () => signal.removeEventListener('abort', onAbort);
  });
  try {
    return await Promise.race([call(attempt, signal), stopped]);
  } catch (error) {
    // The SDK turns its aborted signal into an AbortError: the attempt's time being up is the real cause.
    throw timer.signal.aborted && !options.signal?.aborted ? timer.signal.reason : error;
  } finally {
    clearTimeout(cutOff);
    stopWatching();
  }
}
