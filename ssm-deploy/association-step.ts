/**
 * The ssm-deploy step in association mode, in order: make sure the document holds this action's content (main.ts
 * opens both modes alike, with aws.ts's openDeploy); find the association by name; create it, update it (a new
 * version) or apply it once, as association-plan.ts decides; follow the execution that change caused on every
 * instance; show what failed instances printed; and, when the deploy failed or was stopped, return the association
 * to its previous settings if the inputs ask for it. Then one report, made by {@link associationReport} from what
 * the step learned.
 */
import { consoleUrl } from '../shared/console-url.js';
import { errorMessage } from '../shared/errors.js';
import * as log from '../shared/log.js';
import type { StepReport } from '../shared/step.js';
import {
  createAssociationOnce,
  deleteAssociation,
  findAssociation,
  newestExecutionTime,
  revertAssociation,
  startOnce,
  updateAssociation,
  waitForExecution,
} from './association.js';
import {
  associationOutputs,
  associationUrl,
  createAssociationInput,
  decideAssociationOutcome,
  decideRevert,
  desiredSettings,
  differences,
  planAssociation,
  storePathOf,
  type AssociationOutputs,
  type AssociationPlan,
  type AssociationSettings,
  type ExecutionEnding,
  type FoundAssociation,
  type ExecutionState,
  type RevertResult,
} from './association-plan.js';
import { showFailedOutput, waitOptions, type OpenedDeploy, type ReadyDocument } from './aws.js';
import type { SsmDeployInputs } from './inputs.js';
import { hasEnded, succeeded, type Outcome } from './plan.js';
import { associationSummary } from './summary.js';

/** What association mode has learned so far, recorded as it learns it. */
export interface AssociationState {
  inputs: SsmDeployInputs;
  targets: string;
  document?: ReadyDocument;
  plan?: AssociationPlan;
  /** Set once the association exists with this deploy's settings: its ID and the version that holds them. */
  association?: { id: string; version: string };
  /** The last state of the execution read while waiting. */
  execution?: ExecutionState;
  ending?: ExecutionEnding;
  revert?: RevertResult;
  cancelled?: string;
  /** Set while the create, update or apply-once call is out: a cancellation then may have come after SSM acted. */
  changing?: boolean;
}

/** UpdateAssociation's refusal when the association has a newer version than the one the plan was made from. */
const VERSION_RACE = 'InvalidAssociationVersion';

/**
 * Association mode's steps, after main.ts opened the deploy (the clients, and the document in `state.document`):
 * records in `state` what it learns, as it learns it. Throws what the calls throw.
 */
export async function deployAssociation(inputs: SsmDeployInputs, state: AssociationState, opened: OpenedDeploy, signal: AbortSignal): Promise<void> {
  const { ssm, document } = opened;
  const desired = desiredSettings(inputs, document);
  const name = inputs.associationName;

  let after: Date | undefined;
  for (let attempt = 1; ; attempt += 1) {
    const found = await findAssociation(ssm, name, signal);
    state.plan = planAssociation(found, desired);
    after = found ? await newestExecutionTime(ssm, found.id, signal) : undefined;
    signal.throwIfAborted();
    try {
      state.changing = true;
      state.association = await change(opened, inputs, state.plan, desired, signal);
      state.changing = false;
      break;
    } catch (error) {
      // Someone (or this step's own unanswered update) changed the association since it was read: read it again.
      if ((error as Error).name !== VERSION_RACE || attempt > 1) throw error;
      log.info(`The association ${name} changed while being updated (${VERSION_RACE}); reading it again`);
      const plan = state.plan;
      const again = await findAssociation(ssm, name, signal);
      if (plan.kind === 'update' && ownLostUpdate(plan, again, desired)) {
        // The first read's settings stay what a revert returns to, and its executions what the wait looks past.
        state.association = { id: plan.id, version: again!.version };
        state.changing = false;
        log.info(`The association ${name} was updated by this step's unanswered UpdateAssociation (version ${plan.version} -> ${again!.version})`);
        break;
      }
    }
  }
  const { id, version } = state.association;
  log.info(`${changeText(state.plan)} the association ${name} (${id}, version ${version}): ${associationUrl(inputs.awsRegion, id)}`);
  if (!inputs.wait) return;

  const query = { associationId: id, version, after };
  const ending = await waitForExecution(
    ssm,
    query,
    waitOptions<ExecutionState>(inputs, signal, log.info, (execution) => {
      state.execution = execution;
    }),
  );
  state.ending = ending;
  if (ending.state) state.execution = ending.state;

  if (ending.kind === 'done') {
    const failed = ending.state.instances.filter((i) => hasEnded(i) && !succeeded(i) && i.commandId !== undefined);
    const codes = await showFailedOutput(ssm, undefined, ending.state.instances, log.info, signal, failed);
    state.execution = {
      ...ending.state,
      instances: ending.state.instances.map((i) => (codes.has(i.instanceId) ? { ...i, responseCode: codes.get(i.instanceId)! } : i)),
    };
    state.ending = { kind: 'done', state: state.execution };
    if (decideAssociationOutcome(state.ending, { targets: state.targets, maxErrors: inputs.maxErrors }).ok) return;
  }
  const decision = decideRevert(state.plan, ending.kind, inputs);
  const cause = ending.kind === 'aborted' ? 'cancelled' : ending.kind === 'timeout' ? 'timeout' : 'gave-up';
  if (!decision.revert && decision.delete) {
    state.revert = await deleteAssociation(ssm, { id, name, cause, log: log.info });
    return;
  }
  if (!decision.revert) {
    log.info(`The association ${name} keeps version ${version} (${decision.why})`);
    state.revert = { kind: 'kept', why: decision.why };
    return;
  }
  state.revert = await revertAssociation(ssm, { id, name, previous: decision.to, madeVersion: version, region: inputs.awsRegion, cause, log: log.info });
}

/**
 * Whether the association, read again after a refused resend, holds the version this step's unanswered update made:
 * the settings it sent, exactly one version after the one the update was held to (SSM numbers versions 1, 2, ...).
 * Another writer making the very same settings in that window is taken for this step, which is harmless: the
 * association then holds what this step wanted, and a revert returns it to what it held before the step.
 */
export function ownLostUpdate(
  plan: Extract<AssociationPlan, { kind: 'update' }>,
  found: FoundAssociation | undefined,
  desired: AssociationSettings,
): boolean {
  return found !== undefined && found.id === plan.id && Number(found.version) === Number(plan.version) + 1 && differences(found.settings, desired).length === 0;
}

/** Creates, updates or applies the association as planned; returns its ID and the version that holds `desired`. */
async function change(
  opened: OpenedDeploy,
  inputs: SsmDeployInputs,
  plan: AssociationPlan,
  desired: ReturnType<typeof desiredSettings>,
  signal: AbortSignal,
): Promise<{ id: string; version: string }> {
  const { ssm } = opened;
  const name = inputs.associationName;
  switch (plan.kind) {
    case 'create': {
      // Its own retries off: createAssociationOnce looks for what an unanswered attempt created before sending again.
      const input = createAssociationInput(name, desired, inputs.awsRegion, inputs.environmentTag);
      return opened.once((once) => createAssociationOnce(once, input, { signal, log: log.info }));
    }
    case 'update': {
      log.info(`The association ${name} differs in ${plan.changed.join(', ')}`);
      const version = await updateAssociation(ssm, {
        id: plan.id,
        name,
        settings: desired,
        region: inputs.awsRegion,
        expectedVersion: plan.version,
        signal,
      });
      return { id: plan.id, version };
    }
    case 'apply-once':
      log.info(`The association ${name} already holds these settings (version ${plan.version}): applying it once`);
      await startOnce(ssm, plan.id, signal);
      return { id: plan.id, version: plan.version };
  }
}

const CHANGING: Record<AssociationPlan['kind'], string> = { create: 'creating', update: 'updating', 'apply-once': 'applying' };

/** The State Manager console's list of associations in `region`. */
function associationsUrl(region: string): string {
  return consoleUrl(region, 'systems-manager/state-manager');
}

function changeText(plan: AssociationPlan): string {
  return plan.kind === 'create' ? 'Created' : plan.kind === 'update' ? 'Updated' : 'Applied once';
}

/** The outputs, summary and failure in association mode. Pure. */
export function associationReport(state: AssociationState, error: unknown): StepReport<AssociationOutputs> {
  const { inputs } = state;
  const outcome = outcomeOf(state, error);
  return {
    outputs: state.association ? associationOutputs(inputs.awsRegion, state.association, state.execution, state.revert) : {},
    summary: associationSummary({
      outcome,
      region: inputs.awsRegion,
      name: inputs.associationName,
      association: state.association,
      previousVersion: state.plan && state.plan.kind !== 'create' ? state.plan.version : undefined,
      change: state.plan?.kind,
      document: state.document ?? { name: inputs.documentName },
      targets: state.targets,
      storePath: inputs.storePath,
      previousStorePath: state.plan?.kind === 'update' ? storePathOf(state.plan.previous) : undefined,
      schedule: inputs.schedule,
      state: state.execution,
      revert: state.revert,
    }),
    ...(outcome.ok ? { notice: outcome.message } : { failure: outcome.message }),
  };
}

function outcomeOf(state: AssociationState, error: unknown): Outcome {
  const context = { targets: state.targets, maxErrors: state.inputs.maxErrors, revert: state.revert };
  if (state.ending) return decideAssociationOutcome(state.ending, context);
  if (state.association === undefined) {
    if (state.cancelled && state.changing && state.plan) {
      // The call was out when the run was cancelled: SSM may have acted on it, and the step cannot tell.
      const where = state.plan.kind === 'create' ? associationsUrl(state.inputs.awsRegion) : associationUrl(state.inputs.awsRegion, state.plan.id);
      return {
        ok: false,
        result: 'cancelled',
        message: `${state.cancelled} while ${CHANGING[state.plan.kind]} the association ${state.inputs.associationName}: its answer never came, so it may have been changed; look in ${where}`,
      };
    }
    if (state.cancelled) {
      return { ok: false, result: 'cancelled', message: `${state.cancelled} before the association was changed: it was left as it was.` };
    }
    const message = error === undefined ? 'The step ended before the association was changed.' : errorMessage(error);
    return { ok: false, result: 'failed', message, nothingSent: true };
  }
  if (error !== undefined) return { ok: false, result: state.cancelled ? 'cancelled' : 'failed', message: errorMessage(error) };
  if (!state.inputs.wait) {
    return {
      ok: true,
      result: 'sent',
      message: `The association ${state.inputs.associationName} is at version ${state.association.version}; not waiting for its execution (wait: false).`,
    };
  }
  return { ok: false, result: 'failed', message: `The step ended before the association's execution did.` };
}
