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
  /** No retry starts once this much time has passed since the first attempt. */
  budgetMs: number;
  signal?: AbortSignal;
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
  /** For tests: the jitter source, in [0, 1). */
  random?: () => number;
}

export async function retry<T>(call: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const started = Date.now();
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call(attempt);
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
