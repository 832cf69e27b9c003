import { describe, expect, it } from '@jest/globals';
import { retry, type RetryOptions } from './retry.js';

const transient = Object.assign(new Error('slow down'), { name: 'Throttling' });
const permanent = Object.assign(new Error('no'), { name: 'AccessDenied' });

/** A call that fails with `errors` in turn, then answers `ok`. */
function scripted(errors: Error[]) {
  const attempts: number[] = [];
  return {
    attempts,
    call: async (attempt: number) => {
      attempts.push(attempt);
      const error = errors[attempt - 1];
      if (error) throw error;
      return 'ok';
    },
  };
}

const options = (over: Partial<RetryOptions> = {}): RetryOptions => ({
  isRetryable: (e) => (e as Error).name === 'Throttling',
  maxAttempts: 4,
  baseDelayMs: 1,
  maxDelayMs: 4,
  budgetMs: 10_000,
  random: () => 0.999,
  ...over,
});

describe('retry', () => {
  it.each<[string, Error[], Partial<RetryOptions>, string | Error, number]>([
    ['answers at once', [], {}, 'ok', 1],
    ['retries transient errors', [transient, transient], {}, 'ok', 3],
    ['fails a permanent error on the first answer', [permanent], {}, permanent, 1],
    ['stops after maxAttempts', [transient, transient, transient, transient, transient], {}, transient, 4],
    ['a permanent error after transient ones ends it', [transient, permanent], {}, permanent, 2],
    ['stops when the next wait would pass the budget', [transient, transient], { baseDelayMs: 50, maxDelayMs: 50, budgetMs: 20 }, transient, 1],
  ])('%s', async (_case, errors, over, expected, attempts) => {
    const script = scripted(errors);
    const outcome = retry(script.call, options(over));
    if (expected instanceof Error) await expect(outcome).rejects.toBe(expected);
    else await expect(outcome).resolves.toBe(expected);
    expect(script.attempts).toHaveLength(attempts);
  });

  it('waits with capped exponential full-jitter backoff', async () => {
    const delays: number[] = [];
    const script = scripted([transient, transient, transient, transient, transient]);
    await expect(
      retry(script.call, options({ maxAttempts: 6, baseDelayMs: 2, maxDelayMs: 10, random: () => 0.5, onRetry: (_e, _a, d) => delays.push(d) })),
    ).resolves.toBe('ok');
    expect(delays).toEqual([1, 2, 4, 5, 5]);
  });

  it('stops at once when aborted, with the abort reason', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const script = scripted([transient, transient]);
    const outcome = retry(script.call, options({ baseDelayMs: 60_000, maxDelayMs: 60_000, budgetMs: 120_000, signal: controller.signal }));
    setTimeout(() => controller.abort(reason), 20);
    await expect(outcome).rejects.toBe(reason);
    expect(script.attempts).toEqual([1]);
  });
});
