/**
 * The ssm-deploy step. In command mode (the default), in order: read and check every input; make sure the document holds this action's content;
 * send the command pinned to that content; follow it on every instance (cancelling it if the wait stops first);
 * show what failed instances printed. Then one report: the outputs, the job summary, and a failure unless every
 * instance deployed. runStep (shared/step.ts) writes that report on every exit path, cancellation included.
 * Association mode (`mode: association`) is association-step.ts, on the same runStep.
 */
import { errorMessage } from '../shared/errors.js';
import * as log from '../shared/log.js';
import { runStep, type StepReport } from '../shared/step.js';
import {
  openDeploy,
  sendCommandOnce,
  SendUnknownError,
  showFailedOutput,
  stopCommand,
  waitForCommand,
  waitOptions,
  type OpenedDeploy,
  type ReadyDocument,
} from './aws.js';
import { DOCUMENT_HASH } from './document.js';
import { readInputs, type SsmDeployInputs } from './inputs.js';
import {
  decideOutcome,
  runContext,
  sendCommandInput,
  stepOutputs,
  targetsText,
  type CommandState,
  type Ending,
  type Outcome,
  type StepOutputs,
} from './plan.js';
import { commandUrl, deploySummary } from './summary.js';
import { associationReport, deployAssociation, type AssociationState } from './association-step.js';
import type { AssociationOutputs } from './association-plan.js';

/** What the step has learned so far, recorded as it learns it; {@link report} makes everything it shows from this. */
export interface DeployState {
  inputs: SsmDeployInputs;
  /** The targets in words, for messages and the summary. */
  targets: string;
  document?: ReadyDocument;
  /** Set once SendCommand (or the look after an unanswered one) gave the command. */
  commandId?: string;
  /** The status SendCommand answered with. */
  sentStatus?: string;
  /** The last state read while waiting (with exit codes and times once it ended). */
  command?: CommandState;
  /** How the wait ended; absent while waiting, or when not waiting. */
  ending?: Ending;
  /** Why the run was cancelled (`The run was cancelled (SIGINT)`), when it was: the step's error is then only its echo. */
  cancelled?: string;
  /** In association mode, everything is recorded here instead (association-step.ts). */
  association?: AssociationState;
}

/** The outputs of either mode (action.yml lists them all). */
type Outputs = StepOutputs & AssociationOutputs;

export function run(): Promise<void> {
  return runStep<SsmDeployInputs, DeployState, Outputs>({
    name: 'ssm-deploy',
    readInputs: () => readInputs(),
    initial: (inputs) => {
      const targets = targetsText(inputs);
      return { inputs, targets, ...(inputs.mode === 'association' ? { association: { inputs, targets } } : {}) };
    },
    body: (inputs, state, signal) => deploy(inputs, state, signal),
    report: (state, error) => (state.association ? associationReport(state.association, error) : report(state, error)),
  });
}

/**
 * Both modes' steps, opened alike: the clients and the document (openDeploy), then the mode's own steps. What is
 * learned goes to the mode's state, which also records a cancellation: an SDK call cut by it throws its own
 * `AbortError: Request aborted`, and the cancellation is the news.
 */
async function deploy(inputs: SsmDeployInputs, state: DeployState, signal: AbortSignal): Promise<void> {
  const learned = state.association ?? state;
  try {
    const opened = await openDeploy(inputs, signal, log.info);
    learned.document = opened.document;
    await (state.association ? deployAssociation(inputs, state.association, opened, signal) : commandSteps(inputs, state, opened, signal));
  } catch (error) {
    if (signal.aborted) learned.cancelled = errorMessage(signal.reason);
    throw error;
  }
}

async function commandSteps(inputs: SsmDeployInputs, state: DeployState, opened: OpenedDeploy, signal: AbortSignal): Promise<void> {
  const { ssm, document } = opened;
  // A cancellation that came before the send must not read as one whose answer is unknown: nothing went out.
  signal.throwIfAborted();
  const request = sendCommandInput(inputs, { ...document, hash: DOCUMENT_HASH }, runContext(process.env));
  // Its own retries off: sendCommandOnce looks for a command an unanswered attempt created before sending again.
  const sent = await opened.once((once) => sendCommandOnce(once, request, { region: inputs.awsRegion, signal, log: log.info }));
  state.commandId = sent.CommandId ?? '';
  state.sentStatus = sent.Status ?? 'Pending';
  log.info(`Sent the command ${state.commandId} to ${state.targets}: ${commandUrl(inputs.awsRegion, state.commandId)}`);
  if (signal.aborted) {
    // Cancelled while the send's answer was unknown, and the look found the command: the abort action is due.
    const stopped = await stopCommand(ssm, state.commandId, 'cancelled', log.info);
    state.command = stopped.state ?? state.command;
    state.ending = { kind: 'aborted', state: state.command, cancel: stopped.cancel };
    return;
  }
  if (!inputs.wait) return;

  const ending = await waitForCommand(
    ssm,
    state.commandId,
    waitOptions<CommandState>(inputs, signal, log.info, (command) => {
      state.command = command;
    }),
  );
  state.ending = ending;
  if (ending.state) state.command = ending.state;
  // After a cancellation the runner kills the step within seconds: no time to fetch outputs, only to report; after
  // the wait lost sight of the command, SSM is failing, and more calls would only delay the report.
  if ((ending.kind === 'done' || ending.kind === 'timeout') && ending.state) {
    await showFailedOutput(ssm, state.commandId, ending.state.instances, log.info, signal);
  }
}

/**
 * The step's outputs, summary and failure from what it learned. Once the inputs are valid there is a summary on
 * every exit path: before the command is sent it says why nothing was sent (or, when the send's answer never came,
 * where to look for a command that may be running); from then on the outputs and the summary name the command,
 * whatever happened next. Pure.
 */
export function report(state: DeployState, error: unknown): StepReport<StepOutputs> {
  const { inputs, commandId } = state;
  const outcome = outcomeOf(state, error);
  const status = state.command?.status ?? state.sentStatus ?? 'Pending';
  return {
    outputs: commandId === undefined ? {} : stepOutputs(commandId, commandUrl(inputs.awsRegion, commandId), status, state.command),
    summary: deploySummary({
      outcome,
      region: inputs.awsRegion,
      commandId,
      document: state.document ?? { name: inputs.documentName },
      targets: state.targets,
      storePath: inputs.storePath,
      action: inputs.action,
      state: state.command,
    }),
    ...(outcome.ok ? { notice: outcome.message } : { failure: outcome.message }),
  };
}

function outcomeOf(state: DeployState, error: unknown): Outcome {
  if (state.commandId === undefined) return notSent(state, error);
  if (state.ending) return decideOutcome(state.ending, state.targets);
  if (error !== undefined) {
    return { ok: false, result: state.cancelled ? 'cancelled' : 'failed', message: errorMessage(error) };
  }
  if (!state.inputs.wait) {
    return { ok: true, result: 'sent', message: `Sent the command ${state.commandId}; not waiting for it (wait: false).` };
  }
  // Only reached when the process must end before the wait has (runStep's hard deadline): outputs only.
  return { ok: false, result: 'failed', message: `The step ended before the command ${state.commandId} did.` };
}

/** The outcome when no command was sent (or none was seen): the error, or the cancellation in its own words. */
function notSent(state: DeployState, error: unknown): Outcome {
  const message = error === undefined ? 'The step ended before the command was sent.' : errorMessage(error);
  // A send whose answer never came says so itself (a command may be running): that is not "nothing was sent".
  if (error instanceof SendUnknownError) {
    return { ok: false, result: state.cancelled ? 'cancelled' : 'failed', message };
  }
  if (state.cancelled) {
    const change = state.document && state.document.change !== 'unchanged' ? state.document.change : undefined;
    const what = change
      ? `no command was sent (the document ${state.document!.name} was ${change})`
      : 'nothing was changed';
    return { ok: false, result: 'cancelled', message: `${state.cancelled} before the command was sent: ${what}.` };
  }
  return { ok: false, result: 'failed', message, nothingSent: true };
}
