/**
 * Every State Manager call of a deploy in association mode: finding the association by name, creating it exactly
 * once, updating it (a new association version) or applying it once, following the execution this change caused
 * until it ends, and returning the association to its previous settings. Each returns what it learned; the
 * decisions are in association-plan.ts, the order in association-step.ts.
 */
import {
  CreateAssociationCommand,
  DeleteAssociationCommand,
  DescribeAssociationCommand,
  DescribeAssociationExecutionsCommand,
  DescribeAssociationExecutionTargetsCommand,
  ListAssociationsCommand,
  StartAssociationsOnceCommand,
  UpdateAssociationCommand,
  type Association,
  type AssociationDescription,
  type AssociationExecution,
  type AssociationExecutionTarget,
  type CreateAssociationCommandInput,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { abortBudgetMs, abortCalls, type AbortCause } from '../shared/abort-budget.js';
import { errorMessage } from '../shared/errors.js';
import { poll } from '../shared/poller.js';
import {
  describeExecution,
  executionFinished,
  executionState,
  newestCreated,
  pickExecution,
  settingsOf,
  storePathOf,
  updateAssociationInput,
  type AssociationSettings,
  type ExecutionEnding,
  type ExecutionState,
  type FoundAssociation,
  type RevertResult,
} from './association-plan.js';
import { PAGE_SIZE, pollOptions, sendUnlessSent, type WaitOptions } from './aws.js';

// ---- Finding the association ---------------------------------------------------------------------------------------

/**
 * The association named `name` (ListAssociations filtered by `AssociationName`, every page, then DescribeAssociation
 * for its parameters and rates), or `undefined` when none is. Throws when several are: SSM does not keep names
 * unique, and deploying to one of them at random would leave the other running the old system.
 */
export async function findAssociation(ssm: SSMClient, name: string, signal?: AbortSignal): Promise<FoundAssociation | undefined> {
  const listed = await listByName(ssm, name, signal);
  if (listed.length === 0) return undefined;
  if (listed.length > 1) {
    const ids = listed.map((a) => a.AssociationId).join(', ');
    throw new Error(`${listed.length} associations are named ${name} (${ids}): delete the extra ones, or give 'association-name' a unique name`);
  }
  const id = listed[0].AssociationId ?? '';
  const described = (await ssm.send(new DescribeAssociationCommand({ AssociationId: id }), { abortSignal: signal })).AssociationDescription;
  if (!described) throw new Error(`DescribeAssociation did not describe the association ${id}`);
  return { id, version: described.AssociationVersion ?? '', settings: settingsOf(described) };
}

async function listByName(ssm: Pick<SSMClient, 'send'>, name: string, signal?: AbortSignal): Promise<Association[]> {
  const found: Association[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ssm.send(
      new ListAssociationsCommand({ AssociationFilterList: [{ key: 'AssociationName', value: name }], MaxResults: PAGE_SIZE, NextToken: nextToken }),
      { abortSignal: signal },
    );
    found.push(...(page.Associations ?? []).filter((a) => a.AssociationName === name));
    nextToken = page.NextToken;
  } while (nextToken);
  return found;
}

/**
 * The creation time of the association's newest execution so far, on the AWS clock (`undefined`: none yet): the
 * execution the coming change causes is the first one after it. DescribeAssociationExecutions lists newest first,
 * so the first page holds it.
 */
export async function newestExecutionTime(ssm: SSMClient, associationId: string, signal?: AbortSignal): Promise<Date | undefined> {
  const page = await ssm.send(new DescribeAssociationExecutionsCommand({ AssociationId: associationId, MaxResults: PAGE_SIZE }), {
    abortSignal: signal,
  });
  return newestCreated(page.AssociationExecutions ?? []);
}

// ---- Changing the association --------------------------------------------------------------------------------------

/** What this needs of an SSM client for the create; give it one whose own retries are off (`maxAttempts: 1`). */
export interface CreateApi {
  send(command: CreateAssociationCommand | ListAssociationsCommand, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/**
 * Creates the association exactly once. CreateAssociation takes no client token and SSM does not refuse a second
 * association of the same name, so an attempt that got no answer (a timeout, a dropped connection, a 5xx) may have
 * created it, and a blind retry would make two: an unanswered attempt is followed, before any resend, by a look
 * for it by name. Returns its ID and version.
 */
export async function createAssociationOnce(
  ssm: CreateApi,
  request: CreateAssociationCommandInput,
  options: { signal?: AbortSignal; log: (line: string) => void },
): Promise<{ id: string; version: string }> {
  const name = request.AssociationName ?? '';
  const send = async () => {
    const created = (await ssm.send(new CreateAssociationCommand(request), { abortSignal: options.signal })) as {
      AssociationDescription?: AssociationDescription;
    };
    const id = created.AssociationDescription?.AssociationId;
    if (!id) throw new Error('CreateAssociation answered without an association ID');
    return { id, version: created.AssociationDescription?.AssociationVersion ?? '1' };
  };
  const look = async () => {
    const [found] = await listByName(ssm as Pick<SSMClient, 'send'>, name, options.signal);
    if (!found?.AssociationId) return undefined;
    options.log(`The unanswered CreateAssociation had created the association ${found.AssociationId}: not creating it again.`);
    return { id: found.AssociationId, version: found.AssociationVersion ?? '1' };
  };
  return sendUnlessSent('CreateAssociation', { send, look }, options);
}

/**
 * UpdateAssociation to `settings`, held to `expectedVersion` (see updateAssociationInput): its own retries are safe,
 * since an update that went through makes the resend fail with `InvalidAssociationVersion` instead of making a
 * second version. Returns the new version.
 */
export async function updateAssociation(
  ssm: SSMClient,
  options: { id: string; name: string; settings: AssociationSettings; region: string; expectedVersion: string; signal?: AbortSignal },
): Promise<string> {
  const updated = await ssm.send(
    new UpdateAssociationCommand(updateAssociationInput(options.id, options.name, options.settings, options.region, options.expectedVersion)),
    { abortSignal: options.signal },
  );
  const version = updated.AssociationDescription?.AssociationVersion;
  if (!version) throw new Error(`UpdateAssociation answered without the new version of ${options.id}`);
  return version;
}

/** StartAssociationsOnce: the association runs again, as it stands, on every instance it targets. */
export async function startOnce(ssm: SSMClient, associationId: string, signal?: AbortSignal): Promise<void> {
  await ssm.send(new StartAssociationsOnceCommand({ AssociationIds: [associationId] }), { abortSignal: signal });
}

// ---- Following the execution ---------------------------------------------------------------------------------------

/** What a look at the execution needs: the association, the version the change made, the newest execution before it. */
export interface ExecutionQuery {
  associationId: string;
  version: string;
  after?: Date;
  /** Known once the execution is listed (a look still chooses again, see pickExecution). */
  executionId?: string;
}

/**
 * One look at the execution the change caused: one DescribeAssociationExecutions call (filtered by creation time
 * after `after`, the execution chosen among them by pickExecution), whose counts by status are what a look during the wait needs; then, when the
 * execution has ended (or `targets` is `always`), every page of DescribeAssociationExecutionTargets (50 a page): at
 * most ceil(N/50) + 1 calls for N instances, and a single call while the execution runs, so that a look stays short
 * however large the fleet and the end is seen within one poll interval. Before SSM lists the execution, the state
 * has no `executionId`.
 */
export async function readExecution(
  ssm: SSMClient,
  query: ExecutionQuery,
  signal?: AbortSignal,
  targets: 'when-ended' | 'always' = 'when-ended',
): Promise<ExecutionState> {
  // Every look chooses again among the executions since the change (see pickExecution): an instance's own execution
  // may be listed before the fleet-wide one is counted, and must not be locked on to.
  const filters = query.after
    ? [{ Key: 'CreatedTime' as const, Value: query.after.toISOString(), Type: 'GREATER_THAN' as const }]
    : undefined;
  const listed = await ssm.send(
    new DescribeAssociationExecutionsCommand({ AssociationId: query.associationId, MaxResults: PAGE_SIZE, ...(filters ? { Filters: filters } : {}) }),
    { abortSignal: signal },
  );
  const execution: AssociationExecution | undefined = pickExecution(listed.AssociationExecutions ?? [], query.version, query.after);
  if (!execution?.ExecutionId) return { status: 'Pending', detailedStatus: '', instances: [] };
  const counted = executionState(execution, []);
  if (targets === 'when-ended' && !executionFinished(counted)) return counted;
  const read: AssociationExecutionTarget[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ssm.send(
      new DescribeAssociationExecutionTargetsCommand({
        AssociationId: query.associationId,
        ExecutionId: execution.ExecutionId,
        MaxResults: PAGE_SIZE,
        NextToken: nextToken,
      }),
      { abortSignal: signal },
    );
    read.push(...(page.AssociationExecutionTargets ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return executionState(execution, read);
}

/**
 * Follows the execution through the shared poller until it ends, the wait times out, the run is cancelled or the wait
 * loses sight of it. SSM has no call that stops an association's execution: what a stopped wait does about the
 * association is the caller's (see decideRevert). Never throws for SSM's failures.
 */
export async function waitForExecution(ssm: SSMClient, query: ExecutionQuery, options: WaitOptions<ExecutionState>): Promise<ExecutionEnding> {
  const current = { ...query };
  const read = async (signal: AbortSignal) => {
    const state = await readExecution(ssm, current, signal);
    if (state.executionId) current.executionId = state.executionId;
    return state;
  };
  const waited = await poll(pollOptions(options, read, { done: executionFinished, describe: describeExecution }));
  if (waited.outcome === 'done') return { kind: 'done', state: waited.value };
  if (waited.outcome === 'aborted') return { kind: 'aborted', state: waited.last };
  // Nothing is coming to kill the step: one more look, with every target, for the report (within the abort's budget).
  const state = current.executionId ? ((await lastLook(ssm, current, options.log)) ?? waited.last) : waited.last;
  if (waited.outcome === 'timeout') return { kind: 'timeout', state, timeoutMinutes: options.timeoutMs / 60_000 };
  return { kind: 'failed', state, error: errorMessage(waited.error) };
}

async function lastLook(ssm: SSMClient, query: ExecutionQuery, log: (line: string) => void): Promise<ExecutionState | undefined> {
  try {
    return await abortCalls(abortBudgetMs('timeout'), log).call('Reading the execution\'s targets', (signal) =>
      readExecution(ssm, query, signal, 'always'),
    );
  } catch (error) {
    log(`Could not read the execution's targets after the wait stopped: ${errorMessage(error)}`);
    return undefined;
  }
}

// ---- Returning the association to its previous settings ------------------------------------------------------------

/**
 * UpdateAssociation back to `previous` (a new association version, which SSM applies to the targets at once), held
 * to `madeVersion`, the version this step made: SSM refuses it (`InvalidAssociationVersion`) when someone else has
 * changed the association since, whose change is then left in place and reported (with the version it holds, from
 * DescribeAssociation), never overwritten. Within one abort budget (shared/abort-budget.ts: seconds after a
 * cancellation, a minute otherwise), each hung attempt cut and tried again. Logs what it did. Never throws.
 */
export async function revertAssociation(
  ssm: SSMClient,
  options: {
    id: string;
    name: string;
    previous: AssociationSettings;
    madeVersion: string;
    region: string;
    cause: AbortCause;
    log: (line: string) => void;
  },
): Promise<RevertResult> {
  const storePath = storePathOf(options.previous);
  const calls = abortCalls(abortBudgetMs(options.cause), options.log);
  try {
    const answer = await calls.call('UpdateAssociation (revert)', (signal) =>
      ssm.send(
        new UpdateAssociationCommand(updateAssociationInput(options.id, options.name, options.previous, options.region, options.madeVersion)),
        { abortSignal: signal },
      ),
    );
    const version = answer.AssociationDescription?.AssociationVersion ?? '';
    options.log(`Deploy failed; association ${options.name} returned to ${storePath}, version ${version}`);
    return { kind: 'reverted', storePath, version };
  } catch (error) {
    if ((error as Error).name === 'InvalidAssociationVersion') {
      const version = await calls
        .call('DescribeAssociation', (signal) => ssm.send(new DescribeAssociationCommand({ AssociationId: options.id }), { abortSignal: signal }))
        .then((d) => d.AssociationDescription?.AssociationVersion ?? 'unknown')
        .catch(() => 'unknown');
      options.log(`Not returning the association ${options.name} to ${storePath}: it was changed by someone else (version ${version})`);
      return { kind: 'changed-elsewhere', storePath, version };
    }
    const message = errorMessage(error);
    options.log(`Could not return the association ${options.name} to ${storePath}: ${message}`);
    return { kind: 'revert-failed', storePath, error: message };
  }
}

/**
 * DeleteAssociation of the association this step created, after its first deploy failed or was stopped: with no
 * earlier settings to return to, deleting it is what keeps State Manager from bringing instances launched later to
 * the failed system (deleting an association changes nothing on the instances it already ran on). Within one abort
 * budget, as revertAssociation. Logs what it did. Never throws.
 */
export async function deleteAssociation(
  ssm: SSMClient,
  options: { id: string; name: string; cause: AbortCause; log: (line: string) => void },
): Promise<RevertResult> {
  const calls = abortCalls(abortBudgetMs(options.cause), options.log);
  try {
    await calls.call('DeleteAssociation', (signal) => ssm.send(new DeleteAssociationCommand({ AssociationId: options.id }), { abortSignal: signal }));
    options.log(`Deploy failed; deleted the association ${options.name} (${options.id}) this deploy created, so that instances launched later do not get the failed system`);
    return { kind: 'deleted' };
  } catch (error) {
    const message = errorMessage(error);
    options.log(`Could not delete the association ${options.name} (${options.id}): ${message}`);
    return { kind: 'delete-failed', error: message };
  }
}
