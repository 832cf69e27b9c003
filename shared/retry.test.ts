import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { AttemptTimeoutError, retry, type RetryOptions } from './retry.js';
import { isTransientError } from './transient.js';

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

describe('retry with attemptTimeoutMs (fake timers)', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  /** Attempts that hang (never answer, ignoring their signal) or answer after `ms`; the last step repeats. */
  type Step = 'hang' | { answerAfterMs: number };
  function timed(steps: Step[]) {
    const started: Array<{ at: number; signal: AbortSignal | undefined }> = [];
    return {
      started,
      call: (attempt: number, signal: AbortSignal | undefined) => {
        started.push({ at: Date.now(), signal });
        const step = steps[Math.min(attempt, steps.length) - 1];
        if (step === 'hang') return new Promise<string>(() => undefined);
        return new Promise<string>((resolve) => setTimeout(() => resolve(`answer ${attempt}`), step.answerAfterMs));
      },
    };
  }

  const timeouts: RetryOptions = {
    isRetryable: isTransientError,
    maxAttempts: 8,
    baseDelayMs: 1000,
    maxDelayMs: 1000,
    budgetMs: 30_000,
    attemptTimeoutMs: 10_000,
    random: () => 0.9999,
  };

  it.each<[string, Step[], Partial<RetryOptions>, string | RegExp, number[]]>([
    ['an attempt that hangs is abandoned at its timeout and retried', ['hang', { answerAfterMs: 100 }], {}, 'answer 2', [0, 11_000]],
    ['a slow answer within the timeout is taken', [{ answerAfterMs: 9_000 }], {}, 'answer 1', [0]],
    [
      'the budget is a deadline: the attempt that starts near it gets only the time left',
      ['hang'],
      {},
      /^no answer within 8 s$/,
      [0, 11_000, 22_000],
    ],
    ['a call that always hangs ends with maxAttempts', ['hang'], { maxAttempts: 2 }, /^no answer within 10 s$/, [0, 11_000]],
  ])('%s', async (_case, steps, over, expected, startedAt) => {
    const script = timed(steps);
    const settled = retry(script.call, { ...timeouts, ...over }).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    await jest.runAllTimersAsync();
    const ended = await settled;
    expect(script.started.map((s) => s.at)).toEqual(startedAt);
    if (typeof expected === 'string') expect(ended).toEqual({ value: expected });
    else {
      expect('error' in ended && ended.error).toBeInstanceOf(AttemptTimeoutError);
      expect(('error' in ended && (ended.error as Error).message) || '').toMatch(expected);
      // The whole call ended within its budget.
      expect(Date.now()).toBeLessThanOrEqual(timeouts.budgetMs);
    }
    // Each attempt's signal aborted when its time was up, so the SDK closes the connection.
    for (const { signal } of script.started.slice(0, -1)) expect(signal?.aborted).toBe(true);
  });

  it('reports the timeout, not the AbortError the SDK makes of the aborted signal', async () => {
    const settled = retry(
      (_attempt, signal) =>
        new Promise<string>((_resolve, reject) =>
          signal?.addEventListener('abort', () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }))),
        ),
      { ...timeouts, maxAttempts: 1 },
    ).catch((error: unknown) => error);
    await jest.runAllTimersAsync();
    expect(await settled).toMatchObject({ name: 'TimeoutError', message: 'no answer within 10 s' });
  });

  it('a cancellation during an attempt ends the call with its reason, not a timeout', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled');
    setTimeout(() => controller.abort(reason), 3_000);
    const settled = retry(timed(['hang']).call, { ...timeouts, signal: controller.signal }).catch((error: unknown) => error);
    await jest.runAllTimersAsync();
    expect(await settled).toBe(reason);
    expect(Date.now()).toBe(3_000);
  });
});
