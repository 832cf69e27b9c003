import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { CheckTimeoutError, poll, PollError, type PollOptions, type PollResult } from './poller.js';

const HANG = Symbol('a check that never answers and ignores its signal');
type Step = string | Error | typeof HANG;

const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
const denied = () => Object.assign(new Error('not authorized'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });

/** A check that plays `steps` in order and then repeats the last one. */
function scripted(steps: Step[]): PollOptions<string>['check'] {
  let at = 0;
  return async () => {
    const step = steps[Math.min(at++, steps.length - 1)];
    if (step === HANG) return new Promise<string>(() => undefined);
    if (step instanceof Error) throw step;
    return step;
  };
}

interface Case {
  steps: Step[];
  options?: Partial<PollOptions<string>>;
  /** Abort the wait this long after it started. */
  abortAtMs?: number;
  expected: {
    outcome?: PollResult<string>['outcome'];
    /** For the outcome `failed`: the message of its error. */
    failed?: RegExp;
    checks: number;
    elapsedMs: number;
    lines?: string[];
    last?: string;
  };
}

const SECOND = 1000;

describe('poll (fake timers: interval 10 s, timeout 60 s)', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it.each<[string, Case]>([
    ['done at once', { steps: ['Successful'], expected: { outcome: 'done', checks: 1, elapsedMs: 0, lines: ['Successful'] } }],
    [
      'logs a line only when the description changes',
      {
        steps: ['Pending', 'Pending', 'InProgress 10%', 'InProgress 10%', 'InProgress 50%', 'Successful'],
        expected: {
          outcome: 'done',
          checks: 6,
          elapsedMs: 50 * SECOND,
          lines: ['Pending', 'InProgress 10%', 'InProgress 50%', 'Successful'],
        },
      },
    ],
    [
      'times out, with a last check on the deadline',
      { steps: ['InProgress'], expected: { outcome: 'timeout', checks: 7, elapsedMs: 60 * SECOND, lines: ['InProgress'], last: 'InProgress' } },
    ],
    [
      'shortens the last sleep to meet a deadline off the interval',
      { steps: ['InProgress'], options: { timeoutMs: 25 * SECOND }, expected: { outcome: 'timeout', checks: 4, elapsedMs: 25 * SECOND } },
    ],
    [
      'a zero timeout checks once',
      { steps: ['InProgress'], options: { timeoutMs: 0 }, expected: { outcome: 'timeout', checks: 1, elapsedMs: 0 } },
    ],
    [
      'waits through throttling',
      {
        steps: [throttled(), throttled(), 'Successful'],
        expected: {
          outcome: 'done',
          checks: 3,
          elapsedMs: 20 * SECOND,
          lines: [
            'Check failed (1 of 5 failures in a row allowed): Throttling: Rate exceeded',
            'Check failed (2 of 5 failures in a row allowed): Throttling: Rate exceeded',
            'Successful',
          ],
        },
      },
    ],
    [
      'a success resets the count of failures in a row',
      {
        steps: [throttled(), throttled(), throttled(), 'InProgress', throttled(), throttled(), throttled(), 'Successful'],
        options: { maxConsecutiveErrors: 3, timeoutMs: 120 * SECOND },
        expected: { outcome: 'done', checks: 8, elapsedMs: 70 * SECOND },
      },
    ],
    [
      'gives up after too many failures in a row, keeping the last state read',
      {
        steps: ['InProgress', throttled()],
        options: { maxConsecutiveErrors: 3 },
        expected: {
          outcome: 'failed',
          failed: /^Gave up after 4 failed checks in a row: Throttling: Rate exceeded$/,
          checks: 5,
          elapsedMs: 40 * SECOND,
          last: 'InProgress',
        },
      },
    ],
    [
      'fails at once on an error that waiting cannot fix',
      { steps: ['InProgress', denied()], expected: { outcome: 'failed', failed: /^not authorized$/, checks: 2, elapsedMs: 10 * SECOND } },
    ],
    [
      'abandons a check that hangs past checkTimeoutMs, counts it as a failure and goes on',
      {
        steps: ['InProgress', HANG, 'Successful'],
        options: { checkTimeoutMs: 5 * SECOND },
        expected: {
          outcome: 'done',
          checks: 3,
          elapsedMs: 20 * SECOND,
          lines: ['InProgress', 'Check failed (1 of 5 failures in a row allowed): the check had no answer within 5 s and was abandoned', 'Successful'],
        },
      },
    ],
    [
      'checks that keep hanging end the wait as failed, not as a timeout',
      {
        steps: [HANG],
        options: { checkTimeoutMs: 5 * SECOND, maxConsecutiveErrors: 2 },
        expected: { outcome: 'failed', failed: /^Gave up after 3 failed checks in a row: the check had no answer within 5 s/, checks: 3, elapsedMs: 25 * SECOND },
      },
    ],
    [
      'a caller may declare more errors transient',
      {
        steps: [denied(), 'Successful'],
        options: { isTransient: (e) => (e as Error).name === 'AccessDenied' },
        expected: { outcome: 'done', checks: 2, elapsedMs: 10 * SECOND },
      },
    ],
    [
      'a hanging check is cut off at the deadline',
      { steps: [HANG], expected: { outcome: 'timeout', checks: 1, elapsedMs: 60 * SECOND, lines: [] } },
    ],
    [
      'a check that hangs at the deadline still gets one interval',
      {
        steps: ['a', 'b', 'c', 'd', 'e', 'f', HANG],
        expected: { outcome: 'timeout', checks: 7, elapsedMs: 70 * SECOND, last: 'f' },
      },
    ],
    [
      'aborted while sleeping',
      { steps: ['InProgress'], abortAtMs: 15 * SECOND, expected: { outcome: 'aborted', checks: 2, elapsedMs: 15 * SECOND, last: 'InProgress' } },
    ],
    [
      'aborted during a check that ignores its signal',
      { steps: ['InProgress', HANG], abortAtMs: 12 * SECOND, expected: { outcome: 'aborted', checks: 2, elapsedMs: 12 * SECOND } },
    ],
    [
      'aborted before it started: no check at all',
      { steps: ['InProgress'], abortAtMs: 0, expected: { outcome: 'aborted', checks: 0, elapsedMs: 0, lines: [] } },
    ],
  ])('%s', async (_case, { steps, options, abortAtMs, expected }) => {
    const lines: string[] = [];
    const controller = new AbortController();
    if (abortAtMs === 0) controller.abort(new Error('cancelled'));
    else if (abortAtMs !== undefined) setTimeout(() => controller.abort(new Error('cancelled')), abortAtMs);
    let checks = 0;
    const check = scripted(steps);

    const settled = poll({
      check: (signal) => {
        checks += 1;
        return check(signal);
      },
      done: (state) => state === 'Successful',
      describe: (state) => state,
      intervalMs: 10 * SECOND,
      timeoutMs: 60 * SECOND,
      signal: controller.signal,
      log: (line) => lines.push(line),
      ...options,
    }).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    await jest.runAllTimersAsync();
    const ended = await settled;

    expect(Date.now()).toBe(expected.elapsedMs);
    expect(checks).toBe(expected.checks);
    if (expected.lines) expect(lines).toEqual(expected.lines);
    if (!('result' in ended)) throw ended.error;
    const { result } = ended;
    expect(result.outcome).toBe(expected.outcome);
    if (expected.failed) expect(result.outcome === 'failed' && (result.error as Error).message).toMatch(expected.failed);
    expect(result.checks).toBe(expected.checks);
    expect(result.timeline.map((entry) => entry.line)).toEqual(lines.filter((l) => !l.startsWith('Check failed')));
    if (expected.last) expect(result.last).toBe(expected.last);
    if (result.outcome === 'aborted') expect(result.reason).toEqual(new Error('cancelled'));
  });

  it.each<[string, () => Promise<string>, unknown]>([
    ['an error', async () => Promise.reject(throttled()), throttled()],
    ['a check that hangs', () => new Promise<string>(() => undefined), new CheckTimeoutError(SECOND)],
  ])('gives up with a PollError that keeps the last failure (%s) as its cause', async (_case, check, cause) => {
    const settled = poll({
      check,
      done: () => false,
      describe: String,
      intervalMs: SECOND,
      timeoutMs: 60 * SECOND,
      checkTimeoutMs: SECOND,
      maxConsecutiveErrors: 0,
      log: () => undefined,
    });
    await jest.runAllTimersAsync();
    const result = await settled;
    expect(result.outcome).toBe('failed');
    const error = (result as { error: unknown }).error;
    expect(error).toBeInstanceOf(PollError);
    expect(error).toMatchObject({ failures: 1, cause });
  });

  it('starts checks one interval apart however long a check takes (fixed rate)', async () => {
    const startedAt: number[] = [];
    const settled = poll({
      check: async () => {
        startedAt.push(Date.now());
        await new Promise((resolve) => setTimeout(resolve, 3 * SECOND));
        return startedAt.length === 4 ? 'Successful' : 'InProgress';
      },
      done: (status) => status === 'Successful',
      describe: String,
      intervalMs: 10 * SECOND,
      timeoutMs: 60 * SECOND,
      log: () => undefined,
    });
    await jest.runAllTimersAsync();
    await expect(settled).resolves.toMatchObject({ outcome: 'done', checks: 4 });
    expect(startedAt).toEqual([0, 10, 20, 30].map((s) => s * SECOND));
  });

  it.each([
    [0, 1000],
    [-1, 1000],
    [Number.NaN, 1000],
    [1000, -1],
  ])('refuses interval %p and timeout %p', async (intervalMs, timeoutMs) => {
    await expect(
      poll({ check: async () => 'x', done: () => true, describe: String, intervalMs, timeoutMs }),
    ).rejects.toThrow(RangeError);
  });
});

describe('poll (real timers)', () => {
  it('aborts the signal handed to the check when the wait is cancelled', async () => {
    const controller = new AbortController();
    let checkSignal: AbortSignal | undefined;
    setTimeout(() => controller.abort(new Error('SIGINT')), 50);
    const result = await poll({
      check: (signal) => {
        checkSignal = signal;
        // Like an SDK call given `abortSignal`: rejects when it aborts.
        return new Promise<string>((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      },
      done: () => false,
      describe: String,
      intervalMs: 20,
      // Only the abort can end this wait (the check never answers), so it needs no clock to prove it ended it.
      timeoutMs: 3_600_000,
      signal: controller.signal,
      log: () => undefined,
    });
    expect(result).toMatchObject({ outcome: 'aborted', reason: new Error('SIGINT'), checks: 1 });
    expect(checkSignal?.aborted).toBe(true);
  });
});
