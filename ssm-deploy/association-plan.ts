/**
 * The decisions of a deploy in association mode, pure: what the association should hold, whether to create it,
 * update it or apply it once, which execution is the one this step caused, where that execution and its instances
 * stand, whether to return the association to its previous settings, and the outcome and outputs. The calls that
 * feed them are in association.ts; main.ts puts them in order.
 *
 * State Manager (Systems Manager's "Working with associations"): an association runs its document on every instance
 * its targets match, when it is created or updated (each update is a new association version), on its schedule, and
 * on instances that later come to match; its runs are executions (DescribeAssociationExecutions), each with one
 * target per instance (DescribeAssociationExecutionTargets), whose output is a Run Command invocation
 * (`OutputSource.OutputSourceId` is the command ID, read with GetCommandInvocation).
 */
import type {
  AssociationDescription,
  AssociationExecution,
  AssociationExecutionTarget,
  CreateAssociationCommandInput,
  UpdateAssociationCommandInput,
} from '@aws-sdk/client-ssm';
import { consoleUrl } from '../shared/console-url.js';
import type { SsmDeployInputs, TagTarget } from './inputs.js';
import {
  countInstances,
  describeInstance,
  documentParameters,
  hasEnded,
  NAMED_IN_MESSAGE,
  normaliseDetails,
  statusText,
  succeeded,
  type Counts,
  type DeployResult,
  type InstanceResult,
  type Outcome,
} from './plan.js';

// ---- What the association holds ------------------------------------------------------------------------------------

/** Everything of an association this action sets; two associations that agree on these run the same deploy. */
export interface AssociationSettings {
  documentName: string;
  /** A version number, never `$DEFAULT` or `$LATEST`: a later document change cannot alter what runs. */
  documentVersion: string;
  parameters: Record<string, string[]>;
  targets: TagTarget[];
  maxConcurrency: string;
  maxErrors: string;
  /** `''`: applied on change only. */
  schedule: string;
  /** `''`: no S3 output. */
  outputS3Bucket: string;
}

/** The settings the inputs ask for, with the document version prepared for them. */
export function desiredSettings(inputs: SsmDeployInputs, document: { name: string; version: string }): AssociationSettings {
  return {
    documentName: document.name,
    documentVersion: document.version,
    parameters: documentParameters(inputs) as Record<string, string[]>,
    targets: inputs.targets,
    maxConcurrency: inputs.maxConcurrency,
    maxErrors: inputs.maxErrors,
    schedule: inputs.schedule,
    outputS3Bucket: inputs.outputS3Bucket,
  };
}

/** The settings of an association as DescribeAssociation gives them. */
export function settingsOf(description: AssociationDescription): AssociationSettings {
  return {
    documentName: description.Name ?? '',
    documentVersion: description.DocumentVersion ?? '',
    parameters: description.Parameters ?? {},
    targets: (description.Targets ?? []).map((t) => ({ Key: t.Key ?? '', Values: t.Values ?? [] })),
    maxConcurrency: description.MaxConcurrency ?? '',
    maxErrors: description.MaxErrors ?? '',
    schedule: description.ScheduleExpression ?? '',
    outputS3Bucket: description.OutputLocation?.S3Location?.OutputS3BucketName ?? '',
  };
}

/** The store path an association deploys, `''` when it has none. */
export const storePathOf = (settings: AssociationSettings): string => settings.parameters.storePath?.[0] ?? '';

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );

/** Which settings differ, in words (`document version 3 -> 4`, `parameters`, ...); empty when none does. */
export function differences(current: AssociationSettings, desired: AssociationSettings): string[] {
  const changed: string[] = [];
  const compare = (what: string, a: unknown, b: unknown, show = false) => {
    if (canonical(a) !== canonical(b)) changed.push(show ? `${what} ${String(a) || '(none)'} -> ${String(b) || '(none)'}` : what);
  };
  compare('document', current.documentName, desired.documentName, true);
  compare('document version', current.documentVersion, desired.documentVersion, true);
  compare('parameters', current.parameters, desired.parameters);
  compare('targets', current.targets, desired.targets);
  compare('max-concurrency', current.maxConcurrency, desired.maxConcurrency, true);
  compare('max-errors', current.maxErrors, desired.maxErrors, true);
  compare('schedule', current.schedule, desired.schedule, true);
  compare('output-s3-bucket', current.outputS3Bucket, desired.outputS3Bucket, true);
  return changed;
}

/** The association as found by name: its ID, version and settings. */
export interface FoundAssociation {
  id: string;
  version: string;
  settings: AssociationSettings;
}

export type AssociationPlan =
  | { kind: 'create' }
  /** A new association version; `previous` is what a revert returns to. */
  | { kind: 'update'; id: string; version: string; previous: AssociationSettings; changed: string[] }
  /**
   * Nothing differs: StartAssociationsOnce runs it again, so that the step still verifies the fleet. This is also
   * what a re-run of the same job attempt finds after its update went through: no second version is made.
   */
  | { kind: 'apply-once'; id: string; version: string };

export function planAssociation(found: FoundAssociation | undefined, desired: AssociationSettings): AssociationPlan {
  if (!found) return { kind: 'create' };
  const changed = differences(found.settings, desired);
  if (changed.length === 0) return { kind: 'apply-once', id: found.id, version: found.version };
  return { kind: 'update', id: found.id, version: found.version, previous: found.settings, changed };
}

function requestSettings(settings: AssociationSettings, region: string) {
  return {
    Name: settings.documentName,
    DocumentVersion: settings.documentVersion,
    Parameters: settings.parameters,
    Targets: settings.targets,
    MaxConcurrency: settings.maxConcurrency,
    MaxErrors: settings.maxErrors,
    ...(settings.schedule ? { ScheduleExpression: settings.schedule } : {}),
    ...(settings.outputS3Bucket
      ? { OutputLocation: { S3Location: { OutputS3BucketName: settings.outputS3Bucket, OutputS3Region: region } } }
      : {}),
  };
}

/**
 * CreateAssociation with `settings`, tagged `Environment=<environmentTag>` when one is given: the deploy roles may
 * create only associations tagged with their environment (`aws:RequestTag/Environment`), and update, apply or
 * delete only those (`aws:ResourceTag/Environment`). Tags are set on create only: UpdateAssociation takes none.
 */
export function createAssociationInput(name: string, settings: AssociationSettings, region: string, environmentTag = ''): CreateAssociationCommandInput {
  return {
    AssociationName: name,
    ...requestSettings(settings, region),
    ...(environmentTag ? { Tags: [{ Key: 'Environment', Value: environmentTag }] } : {}),
  };
}

/**
 * UpdateAssociation to `settings`. `expectedVersion` is the version the plan was made from: SSM refuses the update
 * (`InvalidAssociationVersion`) when the association has moved on since, so a concurrent change, or this step's own
 * update that went through unanswered, is read again rather than overwritten. UpdateAssociation clears every
 * optional member it is not given (AWS's API reference), so the request carries all the settings, the name included;
 * a schedule no longer wanted is removed by leaving it out.
 */
export function updateAssociationInput(
  id: string,
  name: string,
  settings: AssociationSettings,
  region: string,
  expectedVersion: string,
): UpdateAssociationCommandInput {
  return {
    AssociationId: id,
    AssociationName: name,
    AssociationVersion: expectedVersion,
    ...requestSettings(settings, region),
  };
}

/** The association in the Systems Manager console (State Manager) of `region`'s partition. */
export function associationUrl(region: string, associationId: string): string {
  return consoleUrl(region, `systems-manager/state-manager/${encodeURIComponent(associationId)}/description`);
}

// ---- The execution this step caused ----------------------------------------------------------------------------------

/**
 * The newest creation time among `executions` (read before the change), so that the one the change causes is told
 * from older ones on the AWS clock, whatever the runner's clock says.
 */
export function newestCreated(executions: AssociationExecution[]): Date | undefined {
  const times = executions.flatMap((e) => (e.CreatedTime ? [e.CreatedTime.getTime()] : []));
  return times.length > 0 ? new Date(Math.max(...times)) : undefined;
}

/** How many instances an execution targets, by its own `ResourceCountByStatus`; 0 while SSM has not counted them. */
const targetCount = (execution: AssociationExecution): number =>
  Object.values(parseCounts(execution.ResourceCountByStatus)).reduce((sum, n) => sum + n, 0);

/**
 * The execution the change caused, among `executions` of the association version it made (or applied) created after
 * `after` (the newest execution before the change): the one with the most targets, the oldest of those on a tie.
 *
 * Why not simply the oldest: besides the one execution a create, an update or StartAssociationsOnce starts on every
 * instance the targets match, State Manager starts an execution of the current version on each instance that comes
 * to match later (an Auto Scaling launch), targeting that instance alone. One such launched between the look before
 * the change and the change itself is older than the fleet-wide execution, and taking it would follow one new
 * instance and never read the fleet's result. The fleet-wide one targets every matching instance, that one included,
 * so it has the most targets; a later scheduled run of the same version has no more, and loses the tie.
 *
 * A just-started execution is `Pending` with no counts yet (`{}`): while any candidate is, none is chosen
 * (`undefined`: look again), so that an instance's execution that ends quickly is not taken before the fleet-wide
 * one is counted.
 */
export function pickExecution(
  executions: AssociationExecution[],
  version: string,
  after: Date | undefined,
): AssociationExecution | undefined {
  const candidates = executions
    .filter((e) => e.AssociationVersion === version && e.ExecutionId)
    .filter((e) => after === undefined || (e.CreatedTime !== undefined && e.CreatedTime.getTime() > after.getTime()));
  if (candidates.some((e) => (e.Status ?? 'Pending') === 'Pending' && targetCount(e) === 0)) return undefined;
  return candidates.sort((a, b) => targetCount(b) - targetCount(a) || (a.CreatedTime?.getTime() ?? 0) - (b.CreatedTime?.getTime() ?? 0))[0];
}

export interface ExecutionState {
  /** Absent until the execution the change caused is listed. */
  executionId?: string;
  status: string;
  detailedStatus: string;
  /** Read (every page of targets) once the execution has ended, or once more after the wait stopped; else empty. */
  instances: InstanceResult[];
  /** The execution's own `ResourceCountByStatus` (`{Failed=1, Success=2}`), what the looks during the wait read. */
  counts?: Record<string, number>;
}

/** `{Failed=1, Success=2}` (DescribeAssociationExecutions' `ResourceCountByStatus`) as counts by status. */
export function parseCounts(text: string | undefined): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const match of (text ?? '').matchAll(/([A-Za-z ]+)=(\d+)/g)) counts[match[1].trim()] = Number(match[2]);
  return counts;
}

/** The instance counts of an execution: from its targets once read, else from its own counts by status. */
export function executionCounts(state: ExecutionState | undefined): Counts {
  if (!state) return countInstances([]);
  if (state.instances.length > 0 || !state.counts) return countInstances(state.instances);
  const of = (statuses: string[]) => statuses.reduce((sum, status) => sum + (state.counts?.[status] ?? 0), 0);
  const total = Object.values(state.counts).reduce((sum, n) => sum + n, 0);
  const pending = of(['Pending']);
  const running = of(['InProgress', 'Delayed', 'Cancelling', 'In Progress']);
  const succeeded = of(['Success']);
  return { total, succeeded, pending, running, failed: total - succeeded - pending - running };
}

const RUNNING_EXECUTION = new Set(['Pending', 'InProgress', '']);

export const executionFinished = (state: ExecutionState): boolean =>
  state.executionId !== undefined && !RUNNING_EXECUTION.has(state.status);

/**
 * One target of the execution, as an instance result; its exit code is read later, from its Run Command output.
 * A target has no start time of its own: an ended one spans from the execution's creation (`started`) to its
 * `LastExecutionDate`, which is what the summary's timeline shows.
 */
export function targetResult(target: AssociationExecutionTarget, started?: Date): InstanceResult {
  const result: InstanceResult = {
    instanceId: target.ResourceId ?? '',
    status: target.Status ?? 'Pending',
    statusDetails: normaliseDetails(target.DetailedStatus),
    responseCode: -1,
    ...(target.OutputSource?.OutputSourceId ? { commandId: target.OutputSource.OutputSourceId } : {}),
  };
  if (hasEnded(result) && target.LastExecutionDate) {
    result.endedAt = target.LastExecutionDate;
    if (started) result.startedAt = started;
  }
  return result;
}

export function executionState(execution: AssociationExecution, targets: AssociationExecutionTarget[]): ExecutionState {
  return {
    executionId: execution.ExecutionId,
    status: execution.Status ?? 'Pending',
    detailedStatus: normaliseDetails(execution.DetailedStatus),
    instances: targets.map((target) => targetResult(target, execution.CreatedTime)),
    counts: parseCounts(execution.ResourceCountByStatus),
  };
}

/** One log line; the poller prints it only when it changes. */
export function describeExecution(state: ExecutionState): string {
  if (state.executionId === undefined) return 'Waiting for the association to start its execution';
  const status = statusText(state.status, state.detailedStatus);
  const c = executionCounts(state);
  if (c.total === 0) return `Execution ${state.executionId} ${status}`;
  return (
    `Execution ${state.executionId} ${status}: ${c.succeeded} of ${c.total} instances succeeded, ${c.failed} failed, ` +
    `${c.running} running, ${c.pending} pending`
  );
}

// ---- The outcome -----------------------------------------------------------------------------------------------------

/**
 * How many failed instances `maxErrors` allows among `total`: a count as given, or a percentage of the targets
 * rounded down (10% of 15 allows 1), as Run Command reads MaxErrors.
 */
export function allowedErrors(maxErrors: string, total: number): number {
  const percent = /^(\d+)%$/.exec(maxErrors);
  return percent ? Math.floor((total * Number(percent[1])) / 100) : Number(maxErrors);
}

/** How the wait for the execution ended. */
export type ExecutionEnding =
  | { kind: 'done'; state: ExecutionState }
  | { kind: 'timeout'; state?: ExecutionState; timeoutMinutes: number }
  | { kind: 'aborted'; state?: ExecutionState }
  | { kind: 'failed'; state?: ExecutionState; error: string };

/** What became of the association after a failed or stopped deploy. */
export type RevertResult =
  | { kind: 'reverted'; storePath: string; version: string }
  | { kind: 'revert-failed'; storePath: string; error: string }
  /** The revert was refused: someone else changed the association after this step did; `version` is theirs. */
  | { kind: 'changed-elsewhere'; storePath: string; version: string }
  /** The association this step created was deleted (DeleteAssociation): it had no earlier settings to return to. */
  | { kind: 'deleted' }
  | { kind: 'delete-failed'; error: string }
  /** Nothing to return to, or not asked to: `why` says which. */
  | { kind: 'kept'; why: string };

export type RevertDecision = { revert: true; to: AssociationSettings } | { revert: false; delete: true } | { revert: false; delete?: false; why: string };

/**
 * Whether a deploy that did not succeed returns the association to its previous settings, and only when the inputs
 * ask for it (`on-failure` after a failed execution, `on-abort` after a timeout or a cancellation; SSM cannot stop
 * an execution, so returning the settings is the only abort action there is): an update goes back to the settings
 * read before it; an association this step created had none, so it is deleted, or State Manager would bring every
 * instance launched later to the failed system; an unchanged one still holds its settings.
 */
export function decideRevert(
  plan: AssociationPlan,
  ending: ExecutionEnding['kind'] | 'change-failed',
  inputs: Pick<SsmDeployInputs, 'onFailure' | 'onAbort'>,
): RevertDecision {
  const aborting = ending === 'timeout' || ending === 'aborted';
  const wanted = aborting ? inputs.onAbort === 'revert' : inputs.onFailure === 'revert';
  if (!wanted) {
    return { revert: false, why: aborting ? `on-abort is ${inputs.onAbort}` : `on-failure is ${inputs.onFailure}` };
  }
  if (plan.kind === 'create') return { revert: false, delete: true };
  if (plan.kind === 'apply-once') return { revert: false, why: 'the association was not changed by this deploy' };
  return { revert: true, to: plan.previous };
}

function failingText(instances: InstanceResult[]): string {
  const bad = instances.filter((i) => hasEnded(i) && !succeeded(i));
  const named = bad.slice(0, NAMED_IN_MESSAGE).map(describeInstance);
  if (bad.length > NAMED_IN_MESSAGE) named.push(`and ${bad.length - NAMED_IN_MESSAGE} more (see the job summary)`);
  return named.join('; ');
}

function span(minutes: number): string {
  if (minutes < 1) return `${Math.round(minutes * 60)} seconds`;
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** `deploy failed; association returned to /nix/store/..., version 4`, and the other ends of a revert. */
export function revertText(revert: RevertResult | undefined): string {
  if (!revert) return '';
  switch (revert.kind) {
    case 'reverted':
      return ` Deploy failed; association returned to ${revert.storePath}, version ${revert.version}.`;
    case 'revert-failed':
      return ` Returning the association to ${revert.storePath} failed: ${revert.error}.`;
    case 'changed-elsewhere':
      return ` Not reverted: the association was changed by someone else (version ${revert.version}); it was not returned to ${revert.storePath}.`;
    case 'deleted':
      return ' Deploy failed; the association this deploy created was deleted, so that instances launched later do not get the failed system.';
    case 'delete-failed':
      return ` Deleting the association this deploy created failed: ${revert.error}; delete it, or instances launched later get the failed system.`;
    case 'kept':
      return ` The association keeps the new settings (${revert.why}).`;
  }
}

/**
 * The deploy's outcome: it succeeded when the execution ended `Success` with at least one instance and at most
 * `max-errors` failed ones; no matching instance, more failures, a timeout, a cancellation or a wait that lost
 * sight of the execution fail it. `revert` says what became of the association then.
 */
export function decideAssociationOutcome(
  ending: ExecutionEnding,
  context: { targets: string; maxErrors: string; revert?: RevertResult },
): Outcome {
  const instances = ending.state?.instances ?? [];
  const counts = executionCounts(ending.state);
  const progress = counts.total > 0 ? ` ${counts.succeeded} of ${counts.total} instances had succeeded.` : '';
  const reverted = revertText(context.revert);
  const fail = (result: DeployResult, message: string): Outcome => ({ ok: false, result, message: `${message}${reverted}` });
  if (ending.kind === 'timeout') {
    return fail('timed out', `The association's execution did not end within ${span(ending.timeoutMinutes)}.${progress}`);
  }
  if (ending.kind === 'aborted') return fail('cancelled', `The run was cancelled while the association's execution ran.${progress}`);
  if (ending.kind === 'failed') return fail('failed', `Stopped waiting for the association's execution (${ending.error}).${progress}`);
  const { status, detailedStatus } = ending.state;
  if (counts.total === 0) {
    return fail('failed', `No instance matches the targets ${context.targets}: nothing was deployed (execution ${statusText(status, detailedStatus)}).`);
  }
  const allowed = allowedErrors(context.maxErrors, counts.total);
  const unfinished = counts.total - counts.succeeded - counts.failed;
  if (counts.failed <= allowed && unfinished === 0 && (status === 'Success' || counts.failed > 0)) {
    const within = counts.failed > 0 ? `; ${counts.failed} failed, within max-errors ${context.maxErrors}: ${failingText(instances)}` : '';
    return { ok: true, result: 'deployed', message: `Deployed to ${counts.succeeded} of ${counts.total} instance${counts.total === 1 ? '' : 's'}${within}.` };
  }
  const what = counts.failed > 0 ? `${counts.failed} of ${counts.total} instances failed: ${failingText(instances)}` : `${counts.succeeded} of ${counts.total} instances succeeded`;
  return fail('failed', `The association's execution ended ${statusText(status, detailedStatus)}; ${what}.`);
}

/** The step's outputs in association mode, as named in action.yml. */
export interface AssociationOutputs {
  'association-id'?: string;
  'association-version'?: string;
  'execution-id'?: string;
  /** The association version that returned it to its previous settings, after a failed or stopped deploy. */
  'reverted-version'?: string;
  /** `true` when the association this step created was deleted after a failed or stopped deploy. */
  'association-deleted'?: string;
  'console-url'?: string;
  status?: string;
  instances?: Array<{ instanceId: string; status: string; statusDetails: string; responseCode: number }>;
  'succeeded-count'?: number;
  'failed-count'?: number;
}

/**
 * The outputs once the association is known: its ID and the version this step made (or applied; after a revert,
 * the version the revert made), the execution and its instances as last read.
 */
export function associationOutputs(
  region: string,
  association: { id: string; version: string },
  state: ExecutionState | undefined,
  revert?: RevertResult,
): AssociationOutputs {
  const instances = state?.instances ?? [];
  const counts = executionCounts(state);
  return {
    'association-id': association.id,
    'association-version': association.version,
    ...(state?.executionId ? { 'execution-id': state.executionId } : {}),
    ...(revert?.kind === 'reverted' ? { 'reverted-version': revert.version } : {}),
    ...(revert?.kind === 'deleted' ? { 'association-deleted': 'true' } : {}),
    'console-url': associationUrl(region, association.id),
    ...(state?.executionId ? { status: state.status } : {}),
    instances: instances.map(({ instanceId, status, statusDetails, responseCode }) => ({ instanceId, status, statusDetails, responseCode })),
    'succeeded-count': counts.succeeded,
    'failed-count': counts.failed,
  };
}
