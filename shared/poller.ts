/**
 * The one wait loop of the project: every "wait until AWS says it is finished" goes through `poll`.
 *
 * It checks, then sleeps `intervalMs`, until `done`; a last check falls exactly on the deadline. It ends in one of
 * four typed outcomes (done, timeout, aborted, failed) so that callers must decide what each does (their `on-abort`
 * action, the outputs and summary so far); it throws only for bad arguments. `failed` is an error waiting cannot fix,
 * or too many failed checks in a row. The log gets a line only when `describe` says something new, and the same
 * lines come back as a timeline for the job summary.
 *
 * Bounds: a check that runs longer than `checkTimeoutMs` is abandoned (its signal aborts) and counts as a failed
 * check, like a throttled one; the wait returns within `timeoutMs + intervalMs` even if a check hangs (a check
 * started at the deadline still gets one interval), and at once when `signal` aborts, whatever the check is doing.
 */
import { errorMessage } from './errors.js';
import { isTransientError } from './transient.js';
import { sleep } from './sleep.js';
import { info } from './log.js';

/**
 * Failed checks in a row that a wait survives; the next failure ends it. Each check's AWS call has already been
 * retried by the SDK (see aws-clients.ts), so five in a row means minutes of trouble, not a blip.
 */
export const DEFAULT_MAX_CONSECUTIVE_ERRORS = 5;

/**
 * How long one check may take before it is abandoned. A check is one AWS call or one page walk, each attempt of which
 * the SDK already cuts off (aws-clients.ts, 15 s, with 5 attempts); this bounds a check whose calls stall in ways
 * those timeouts do not see, without cutting off the SDK's own retries of a hung attempt.
 */
export const DEFAULT_CHECK_TIMEOUT_MS = 120_000;

/** A check ran past `checkTimeoutMs` and was abandoned. */
export class CheckTimeoutError extends Error {
  override readonly name = 'CheckTimeoutError';

  constructor(readonly timeoutMs: number) {
    super(`the check had no answer within ${timeoutMs / 1000} s and was abandoned`);
  }
}

export interface PollOptions<T> {
  /**
   * Reads the current state. Hand `signal` to the SDK (`client.send(command, { abortSignal: signal })`): it aborts
   * when the wait is cancelled or the check runs past the deadline.
   */
  check: (signal: AbortSignal) => Promise<T>;
  /** True when the wait is over, whatever the result (a failed refresh is done too). */
  done: (value: T) => boolean;
  /** One log line for the state, such as `InProgress 40% (3 instances to update)`. */
  describe: (value: T) => string;
  intervalMs: number;
  /** From the start of the wait; see the bound above. */
  timeoutMs: number;
  /** Cancellation, normally `installCancellation().signal`. */
  signal?: AbortSignal;
  /** Default: `info` of shared/log (the lines hold AWS's words, such as a status reason). */
  log?: (line: string) => void;
  /** Default {@link DEFAULT_MAX_CONSECUTIVE_ERRORS}. */
  maxConsecutiveErrors?: number;
  /** Default {@link DEFAULT_CHECK_TIMEOUT_MS}. */
  checkTimeoutMs?: number;
  /** Which check errors to wait through. Default: throttling, 5xx and network errors (`isTransientError`). */
  isTransient?: (error: unknown) => boolean;
}

export interface TimelineEntry {
  at: Date;
  line: string;
}

interface Progress<T> {
  /** The last state read, if any check succeeded. */
  last: T | undefined;
  /** How many checks were started (each is normally one API call, or one page walk). */
  checks: number;
  /** Every distinct line logged, in order. */
  timeline: TimelineEntry[];
}

export type PollResult<T> =
  | ({ outcome: 'done'; value: T } & Progress<T>)
  | ({ outcome: 'timeout' } & Progress<T>)
  | ({ outcome: 'aborted'; reason: unknown } & Progress<T>)
  /** `error`: a {@link PollError} after too many failed checks in a row, or the first error waiting cannot fix. */
  | ({ outcome: 'failed'; error: unknown } & Progress<T>);

/** Checks kept failing with errors that waiting could fix; `cause` is the last one. */
export class PollError extends Error {
  override readonly name = 'PollError';

  constructor(
    readonly failures: number,
    cause: unknown,
  ) {
    super(`Gave up after ${failures} failed checks in a row: ${errorMessage(cause)}`, { cause });
  }
}

export async function poll<T>(options: PollOptions<T>): Promise<PollResult<T>> {
  const { check, done, describe, intervalMs, timeoutMs, signal } = options;
  if (!(intervalMs > 0) || !(timeoutMs >= 0)) {
    throw new RangeError(`poll needs intervalMs > 0 and timeoutMs >= 0, got ${intervalMs} and ${timeoutMs}`);
  }
  const log = options.log ?? info;
  const isTransient = options.isTransient ?? isTransientError;
  const maxErrors = options.maxConsecutiveErrors ?? DEFAULT_MAX_CONSECUTIVE_ERRORS;
  const checkTimeoutMs = options.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const progress: Progress<T> = { last: undefined, checks: 0, timeline: [] };
  let lastLine: string | undefined;
  let failures = 0;

  const ended = (): PollResult<T> =>
    signal?.aborted ? { outcome: 'aborted', reason: signal.reason, ...progress } : { outcome: 'timeout', ...progress };
  // Checks start one interval apart (fixed rate), not an interval after the last one ended: a slow check (a
  // paginated read of many instances) would otherwise stretch the period and delay noticing the end.
  let checkStarted = Date.now();
  const pause = () => sleep(Math.min(checkStarted + intervalMs, deadline) - Date.now(), signal);

  while (!signal?.aborted) {
    checkStarted = Date.now();
    progress.checks += 1;
    const attempt = new AbortController();
    const tooLong = new CheckTimeoutError(checkTimeoutMs);
    const untilDeadline = Math.max(deadline - Date.now(), intervalMs);
    const cutOff = setTimeout(
      () => attempt.abort(checkTimeoutMs < untilDeadline ? tooLong : DEADLINE),
      Math.min(checkTimeoutMs, untilDeadline),
    );
    const relay = () => attempt.abort(signal?.reason);
    signal?.addEventListener('abort', relay, { once: true });
    let value: T;
    try {
      value = await untilAborted(() => check(attempt.signal), attempt.signal);
    } catch (error) {
      if (signal?.aborted || attempt.signal.reason === DEADLINE) return ended();
      // The check's own failure (the SDK's AbortError) says less than why it was abandoned.
      const failure = attempt.signal.reason === tooLong ? tooLong : error;
      if (failure !== tooLong && !isTransient(failure)) return { outcome: 'failed', error: failure, ...progress };
      failures += 1;
      if (failures > maxErrors) return { outcome: 'failed', error: new PollError(failures, failure), ...progress };
      log(`Check failed (${failures} of ${maxErrors} failures in a row allowed): ${errorMessage(failure)}`);
      if (Date.now() >= deadline) return ended();
      await pause();
      continue;
    } finally {
      clearTimeout(cutOff);
      signal?.removeEventListener('abort', relay);
    }
    failures = 0;
    progress.last = value;
    const line = describe(value);
    if (line !== lastLine) {
      log(line);
      progress.timeline.push({ at: new Date(), line });
      lastLine = line;
    }
    if (done(value)) return { outcome: 'done', value, ...progress };
    if (Date.now() >= deadline) return ended();
    await pause();
  }
  return ended();
}

/** The abort reason of a check cut off at the wait's deadline. */
const DEADLINE = Symbol('deadline');

/** The check's result, or a rejection as soon as `signal` aborts even if the check ignores it. */
function untilAborted<T>(run: () => Promise<T>, signal: AbortSignal): Promise<T> {
  const aborted = new Promise<never>((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  return Promise.race([aborted, run()]);
}
