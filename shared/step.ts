/**
 * The one step wrapper: every action's `run()` is `runStep({...})`. It owns what each step must do on every exit
 * path, so that no action can forget one:
 * - inputs are read (and secrets masked) before anything else; an input error fails the step with every problem
 *   listed, and a job summary saying so (when the step has a `name`); nothing is called and no output is set;
 * - the runner's cancellation (SIGINT, then SIGTERM) becomes the body's AbortSignal (see cancellation.ts);
 * - the outputs and the job summary are made from what the body learned, by one pure `report`, and written whether
 *   the body finished, threw, timed out or was cancelled; when the cancellation's hard deadline ends the process
 *   first, the outputs known at that moment are still written;
 * - the step fails (`core.setFailed`) with the report's failure or the thrown error's message, exactly once.
 */
import { installCancellation } from './cancellation.js';
import { errorMessage } from './errors.js';
import { InputError } from './inputs.js';
import * as log from './log.js';
import { setOutputs, type OutputValue } from './outputs.js';
import { writeSummary, type JobSummary } from './summary.js';

/** What a step reports at its end: made from its state, written by {@link runStep}. */
export interface StepReport<Outputs> {
  /** Every output known so far; absent values are not set. */
  outputs: Outputs;
  summary?: JobSummary;
  /** When set, the step fails with this message (a deploy that failed, timed out or rolled back). */
  failure?: string;
  /** When set (and there is no failure), logged as the step's last line. */
  notice?: string;
}

export interface Step<Inputs, State, Outputs extends { [K in keyof Outputs]: OutputValue }> {
  /** The action's name (`ssm-deploy`): the title of the summary an input error writes. */
  name?: string;
  /**
   * Runs first, before the inputs are parsed: masks secrets so that no message about them can show them in the log.
   * Returns what it masked: the runner masks the log, not the job summary, so the input-error summary leaves them out.
   */
  mask?(): string[] | void;
  /** Parses and checks every input; throws an InputError listing each problem. No AWS call may come before it. */
  readInputs(): Inputs;
  /** The state before anything was done; the body records in it what it learns, as it learns it. */
  initial(inputs: Inputs): State;
  /** The steps in order. Throwing (or being cancelled) still leads to `report`. */
  body(inputs: Inputs, state: State, signal: AbortSignal): Promise<void>;
  /**
   * Outputs, summary and failure from the state and, when the body threw, its error (`undefined` otherwise). Pure;
   * when it throws, the step fails with that error and only the body's error is reported.
   */
  report(state: State, error: unknown): StepReport<Outputs>;
}

/** Runs one action step as described above. Never rejects: every failure ends in `core.setFailed`. */
export async function runStep<Inputs, State, Outputs extends { [K in keyof Outputs]: OutputValue }>(
  step: Step<Inputs, State, Outputs>,
  options: { hardDeadlineMs?: number } = {},
): Promise<void> {
  let inputs: Inputs;
  let masked: string[] = [];
  try {
    masked = (step.mask?.() ?? []).filter((value) => value.length > 0);
    inputs = step.readInputs();
  } catch (error) {
    log.fail(errorMessage(error));
    if (step.name) await writeSummary(inputErrorSummary(step.name, error, masked));
    return;
  }
  const state = step.initial(inputs);
  let deadlineReport = (): void => undefined;
  const cancellation = installCancellation({ hardDeadlineMs: options.hardDeadlineMs, onDeadline: () => deadlineReport() });
  let failed: { error: unknown } | undefined;
  try {
    deadlineReport = () => setOutputs(step.report(state, undefined).outputs);
    await step.body(inputs, state, cancellation.signal);
  } catch (error) {
    failed = { error };
  }
  deadlineReport = () => undefined;
  try {
    const report = step.report(state, failed?.error);
    setOutputs(report.outputs);
    // Failure first: the summary cannot delay or replace the line that says why the step failed.
    if (report.failure !== undefined) log.fail(report.failure);
    else if (failed) log.fail(errorMessage(failed.error));
    else if (report.notice) log.info(report.notice);
    if (report.summary) await writeSummary(report.summary);
  } catch (error) {
    log.fail(errorMessage(failed ? failed.error : error));
  } finally {
    cancellation.dispose();
  }
}

/** What a rejected input leaves in the job summary: each problem, and that nothing was done; `masked` shown as `***`. */
export function inputErrorSummary(name: string, error: unknown, masked: string[] = []): JobSummary {
  const hide = (text: string) => masked.reduce((shown, value) => shown.replaceAll(value, '***'), text);
  const problems = error instanceof InputError ? error.problems.map((p) => [{ text: p.input, code: true }, hide(p.message)]) : [];
  return {
    title: `${name}: inputs rejected`,
    text: 'Nothing was called and nothing was changed: the inputs below must be fixed first.',
    tables: problems.length > 0 ? [{ columns: ['Input', 'Problem'], rows: problems }] : [],
    facts: problems.length > 0 ? [] : [['Problem', hide(errorMessage(error))]],
  };
}
