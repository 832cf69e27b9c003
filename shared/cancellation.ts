/**
 * Turns the runner's cancellation into an AbortSignal. When a workflow is cancelled the runner sends SIGINT to the
 * step's process, SIGTERM 7.5 s later and kills the process tree 2.5 s after that. Node's default on SIGINT and
 * SIGTERM is to exit at once, skipping every `finally`; with these handlers installed the process stays up, the
 * signal aborts, and the action carries out its declared abort action (roll back, cancel) and reports it.
 * Further signals are logged and otherwise ignored, so they cannot kill that cleanup; a hard deadline still
 * ends the process if the cleanup hangs (and, outside the runner, if nothing else ever would).
 */
import { error as logError, info } from './log.js';

/**
 * From the first signal: past the runner's SIGTERM (7.5 s), short of its kill (10 s), so that a cleanup that
 * hangs ends with our own message in the log instead of silence.
 */
export const DEFAULT_HARD_DEADLINE_MS = 9_000;

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
export type CancelSignal = (typeof SIGNALS)[number];

/** The abort reason: the wait was stopped because the run was cancelled. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';

  constructor(readonly signal: CancelSignal) {
    super(`The run was cancelled (${signal})`);
  }
}

export interface CancellationOptions {
  /** Default {@link DEFAULT_HARD_DEADLINE_MS}. */
  hardDeadlineMs?: number;
  /** The exit code when the hard deadline ends the process. Default 1. */
  deadlineExitCode?: number;
  /** Called once, synchronously, when the hard deadline passes, before the process exits: last outputs. */
  onDeadline?: () => void;
  /** Default: shared/log's `info` for signals, `error` when the deadline passes. */
  log?: { info(line: string): void; error(line: string): void };
}

export interface Cancellation {
  /** Aborts, with a {@link CancelledError}, on the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** Removes the handlers and the deadline; the process is then back to Node's defaults. */
  dispose(): void;
}

export function installCancellation(options: CancellationOptions = {}): Cancellation {
  const hardDeadlineMs = options.hardDeadlineMs ?? DEFAULT_HARD_DEADLINE_MS;
  const log = options.log ?? { info, error: logError };
  const controller = new AbortController();
  let deadline: NodeJS.Timeout | undefined;

  const onSignal = (signal: CancelSignal): void => {
    if (controller.signal.aborted) {
      log.info(`Received ${signal} again: still carrying out the abort action.`);
      return;
    }
    log.info(`Received ${signal}: the run was cancelled; stopping and carrying out the abort action.`);
    // Unref'd: a cleanup that finishes lets the process exit on its own, before the deadline.
    deadline = setTimeout(() => {
      log.error(`The abort action did not finish within ${hardDeadlineMs / 1000} s of the cancellation; exiting.`);
      try {
        options.onDeadline?.();
      } catch {
        // Exiting regardless: a report that cannot be made must not keep the process past the runner's kill.
      }
      process.exit(options.deadlineExitCode ?? 1);
    }, hardDeadlineMs).unref();
    controller.abort(new CancelledError(signal));
  };
  const handlers = SIGNALS.map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);

  return {
    signal: controller.signal,
    dispose() {
      for (const [signal, handler] of handlers) process.off(signal, handler);
      clearTimeout(deadline);
    },
  };
}
