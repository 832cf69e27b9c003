/**
 * The decisions of a deploy, pure: what the command and its instances stand at, what to do about the document, the
 * SendCommand request, whether a listed command is the one an unanswered send created, what a failed send means,
 * which parameter values the document would refuse, and the deploy's outcome and outputs. The calls that feed them
 * are in aws.ts; main.ts puts them in order.
 */
import type { Command, SendCommandCommandInput } from '@aws-sdk/client-ssm';
import { consoleUrl } from '../shared/console-url.js';
import { errorMessage } from '../shared/errors.js';
import type { DocumentParameterDefinition, DocumentParameterName } from './document.js';
import type { SsmDeployInputs, TagTarget } from './inputs.js';

// ---- The command and its instances -------------------------------------------------------------------------------
// Status details are compared in the form the API returns them (`ExecutionTimedOut`); the console and the user guide
// spell them with spaces, and either form is read.

export interface InstanceResult {
  instanceId: string;
  /** `Success`, `Failed`, `TimedOut`, `Cancelled`, or while running `Pending`, `InProgress`, `Delayed`, `Cancelling`. */
  status: string;
  /** `Success`, `Failed`, `ExecutionTimedOut`, `DeliveryTimedOut`, `Undeliverable`, `Terminated`, ... */
  statusDetails: string;
  /** The deploy script's exit code; -1 until it has ended, or when it never ran. */
  responseCode: number;
  startedAt?: Date;
  endedAt?: Date;
  /** The Run Command command that ran on this instance, when it is not the deploy's own (an association's target). */
  commandId?: string;
}

export interface CommandState {
  commandId: string;
  status: string;
  statusDetails: string;
  instances: InstanceResult[];
}

const RUNNING_COMMAND = new Set(['Pending', 'InProgress', 'Cancelling']);
const RUNNING_INSTANCE = new Set(['Pending', 'InProgress', 'Delayed', 'Cancelling']);

/** `Execution Timed Out` and `ExecutionTimedOut` alike. */
export const normaliseDetails = (details: string | undefined): string => (details ?? '').replace(/\s+/g, '');

export const isFinished = (state: CommandState): boolean => !RUNNING_COMMAND.has(state.status);
export const hasEnded = (instance: InstanceResult): boolean => !RUNNING_INSTANCE.has(instance.status);
export const succeeded = (instance: InstanceResult): boolean => instance.status === 'Success';

/**
 * The one way a status and what qualifies it are put in words: `Success (Incomplete)`, `TimedOut (DeliveryTimedOut,
 * exit 137)`, or the bare status when the details are empty or only repeat it.
 */
export function statusText(status: string, details: string): string {
  return details && details !== status ? `${status} (${details})` : status;
}

export interface Counts {
  total: number;
  succeeded: number;
  /** Ended without success: failed, timed out, undeliverable, cancelled, terminated, ... */
  failed: number;
  running: number;
  pending: number;
}

export function countInstances(instances: InstanceResult[]): Counts {
  const count = (test: (i: InstanceResult) => boolean) => instances.filter(test).length;
  return {
    total: instances.length,
    succeeded: count(succeeded),
    failed: count((i) => hasEnded(i) && !succeeded(i)),
    running: count((i) => !hasEnded(i) && i.status !== 'Pending'),
    pending: count((i) => i.status === 'Pending'),
  };
}

/** One log line; the poller prints it only when it changes, so it names counts, not times. */
export function describeState(state: CommandState): string {
  const status = statusText(state.status, state.statusDetails);
  if (state.instances.length === 0) {
    return isFinished(state) ? `Command ${status}` : `Command ${status}: waiting for the instances to be chosen`;
  }
  const c = countInstances(state.instances);
  return (
    `Command ${status}: ${c.succeeded} of ${c.total} instances succeeded, ${c.failed} failed, ` +
    `${c.running} running, ${c.pending} pending`
  );
}

/** What the NixOS-Deploy script's exit codes mean (see nixos-deploy.sh). */
const EXIT_MEANINGS: Record<number, string> = {
  1: 'failed before anything changed',
  2: 'rolled back to the previous generation',
  3: 'not rolled back',
};

export function exitMeaning(instance: InstanceResult): string {
  return instance.status === 'Success' ? '' : (EXIT_MEANINGS[instance.responseCode] ?? '');
}

/** `i-0abc Failed (exit 2: rolled back to the previous generation)`, `i-0def TimedOut (DeliveryTimedOut)`. */
export function describeInstance(instance: InstanceResult): string {
  const notes: string[] = [];
  if (instance.statusDetails && instance.statusDetails !== instance.status) notes.push(instance.statusDetails);
  if (instance.responseCode > 0) {
    const meaning = exitMeaning(instance);
    notes.push(meaning ? `exit ${instance.responseCode}: ${meaning}` : `exit ${instance.responseCode}`);
  }
  return `${instance.instanceId} ${statusText(instance.status, notes.join(', '))}`;
}

/** Failed instances on which the script started (those never delivered have no output to read). */
export function instancesWithOutput(instances: InstanceResult[]): InstanceResult[] {
  return instances.filter((i) => !succeeded(i) && (i.startedAt !== undefined || i.responseCode >= 0));
}

// ---- The document --------------------------------------------------------------------------------------------------
// The command always runs the version whose content is this action's document (SendCommand pins its hash), so a
// document that someone else changed is never run.

/** The document as found: its default version and, when that differs from ours, its latest one. */
export interface FoundDocument {
  defaultVersion: string;
  defaultHash: string;
  latestVersion: string;
  /** Read only when the latest is not the default. */
  latestHash?: string;
}

export type DocumentPlan =
  | { kind: 'create' }
  /** The default version already holds this content. */
  | { kind: 'use'; version: string }
  /** The latest version holds this content but is not the default (an earlier run stopped halfway). */
  | { kind: 'set-default'; version: string }
  | { kind: 'update' }
  | { kind: 'refuse'; message: string };

/** Another account's document, shared by ARN: this account can run it but not change it. */
export const isDocumentArn = (name: string): boolean => name.startsWith('arn:');

/** What to do about the document `name` before sending, from what DescribeDocument said (`undefined`: no such document). */
export function planDocument(
  name: string,
  found: FoundDocument | undefined,
  hash: string,
  manage: boolean,
): DocumentPlan {
  const managed = manage && !isDocumentArn(name);
  const how = isDocumentArn(name)
    ? 'A shared document cannot be changed from this account: share a version made from ssm-deploy/nixos-deploy.json.'
    : "Set 'manage-document: true', or create it from ssm-deploy/nixos-deploy.json of this action's version.";
  if (!found) {
    return managed ? { kind: 'create' } : { kind: 'refuse', message: `The document ${name} does not exist. ${how}` };
  }
  if (found.defaultHash === hash) return { kind: 'use', version: found.defaultVersion };
  if (!managed) {
    return {
      kind: 'refuse',
      message:
        `The default version (${found.defaultVersion}) of the document ${name} is not this action's document ` +
        `(SHA-256 ${found.defaultHash}, expected ${hash}), and the command only runs that content. ${how}`,
    };
  }
  if (found.latestHash === hash) return { kind: 'set-default', version: found.latestVersion };
  return { kind: 'update' };
}

/**
 * SendCommand's `Parameters`. Lists travel space separated in one String (the agent's environment variables hold
 * one string each); empty values are left out so that the document's defaults apply.
 */
export function documentParameters(inputs: SsmDeployInputs): Partial<Record<DocumentParameterName, string[]>> {
  const values: Record<DocumentParameterName, string> = {
    storePath: inputs.storePath,
    action: inputs.action,
    substituters: inputs.substituters.join(' '),
    trustedPublicKeys: inputs.trustedPublicKeys.join(' '),
    healthCheckUnits: inputs.healthCheckUnits.join(' '),
    healthCheckUrl: inputs.healthCheckUrl,
    healthCheckTimeoutSeconds: String(inputs.healthCheckTimeoutSeconds),
    rollbackOnFailure: String(inputs.rollbackOnFailure),
    executionTimeout: String(inputs.executionTimeoutSeconds),
  };
  return Object.fromEntries(
    Object.entries(values)
      .filter(([, value]) => value !== '')
      .map(([name, value]) => [name, [value]]),
  );
}

// ---- The document's limits on the values sent ----------------------------------------------------------------------
// SendCommand checks every parameter value against the definition in the document version it runs and answers
// InvalidParameters; by then a managed document has already been created or updated. So they are checked with the
// inputs, from the shipped document itself (inlined in the bundle): the action and the document cannot drift apart.

/**
 * Why SSM would refuse `values` for a parameter defined as `definition`, or `undefined`: a String takes one value;
 * each value must be one of `allowedValues`, match `allowedPattern` as written (no anchors added; the document's
 * patterns mean the same in Java, where the API reads them, and in JavaScript) and hold at most `maxChars` UTF-16
 * units (Java's `String.length`). SSM's documentation does not say how `maxChars` applies to a StringList; like the
 * sandbox, this holds each item to it. The shipped document has String parameters only.
 */
export function parameterProblem(definition: DocumentParameterDefinition, values: string[]): string | undefined {
  if (definition.type === 'String' && values.length !== 1) return `takes one value, got ${values.length}`;
  for (const value of values) {
    if (definition.allowedValues && !definition.allowedValues.includes(value)) {
      return `must be one of ${definition.allowedValues.join(', ')}`;
    }
    if (definition.allowedPattern !== undefined && !new RegExp(definition.allowedPattern).test(value)) {
      return `must match the document's allowedPattern ${definition.allowedPattern}`;
    }
    if (definition.maxChars !== undefined && value.length > definition.maxChars) {
      return `must be at most ${definition.maxChars} characters (the document's maxChars), got ${value.length}`;
    }
  }
  return undefined;
}

/**
 * Each parameter of `parameters` that its definition in `definitions` refuses, as input problems: `inputOf` names
 * the input the value came from, and `joined` the inputs whose items travel space separated in one value.
 */
export function documentParameterProblems<Name extends string>(
  definitions: Record<Name, DocumentParameterDefinition>,
  parameters: Partial<Record<Name, string[]>>,
  inputOf: Record<Name, string>,
  joined: ReadonlySet<string>,
): Array<{ input: string; message: string }> {
  const problems: Array<{ input: string; message: string }> = [];
  for (const [name, values] of Object.entries(parameters) as Array<[Name, string[]]>) {
    const definition = definitions[name];
    const input = inputOf[name];
    const problem = definition ? parameterProblem(definition, values) : 'is not a parameter of the document';
    if (!problem) continue;
    const what = joined.has(input) ? `, its items joined by spaces as the document's ${name},` : ` (the document's ${name})`;
    problems.push({ input, message: `Input '${input}'${what} ${problem}` });
  }
  return problems;
}

// ---- The SendCommand request ---------------------------------------------------------------------------------------

export interface PinnedDocument {
  name: string;
  version: string;
  /** SHA-256 of the content: SSM refuses the command if that version holds anything else. */
  hash: string;
}

export interface RunContext {
  repository: string;
  sha: string;
  runId: string;
  runAttempt: string;
}

/** SendCommand's limit on `Comment`. */
export const MAX_COMMENT = 100;

export function runContext(env: NodeJS.ProcessEnv): RunContext {
  return {
    repository: env.GITHUB_REPOSITORY ?? '',
    sha: env.GITHUB_SHA ?? '',
    runId: env.GITHUB_RUN_ID ?? '',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '',
  };
}

/** `octo-org/octo-repo@a1b2c3d run 4242424242/1`: who sent the command, for the console and CloudTrail. */
export function commandComment(run: RunContext): string {
  const commit = run.sha ? `@${run.sha.slice(0, 7)}` : '';
  const attempt = run.runAttempt ? `/${run.runAttempt}` : '';
  const runPart = run.runId ? ` run ${run.runId}${attempt}` : '';
  const text = `${run.repository || 'nixos-aws'}${commit}${runPart}`;
  return text.length <= MAX_COMMENT ? text : `${text.slice(0, MAX_COMMENT - 3)}...`;
}

/** The SendCommand request of a deploy, from the inputs, the prepared document and the workflow run. */
export function sendCommandInput(
  inputs: SsmDeployInputs,
  document: PinnedDocument,
  run: RunContext,
): SendCommandCommandInput {
  return {
    DocumentName: document.name,
    DocumentVersion: document.version,
    DocumentHash: document.hash,
    DocumentHashType: 'Sha256',
    ...(inputs.instanceIds.length > 0 ? { InstanceIds: inputs.instanceIds } : { Targets: inputs.targets }),
    Parameters: documentParameters(inputs),
    MaxConcurrency: inputs.maxConcurrency,
    MaxErrors: inputs.maxErrors,
    TimeoutSeconds: inputs.deliveryTimeoutSeconds,
    Comment: commandComment(run),
    ...(inputs.cloudwatchLogGroup
      ? { CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: inputs.cloudwatchLogGroup } }
      : {}),
    ...(inputs.outputS3Bucket ? { OutputS3BucketName: inputs.outputS3Bucket, OutputS3Region: inputs.awsRegion } : {}),
  };
}

/** `tag:Role=web,api AND tag:Environment=production`, as a user wrote the selectors. */
export function describeTargets(targets: TagTarget[]): string {
  return targets.map((target) => `${target.Key}=${target.Values.join(',')}`).join(' AND ');
}

/** The deploy's targets in words: the instance IDs, or the tag selectors. */
export function targetsText(inputs: Pick<SsmDeployInputs, 'instanceIds' | 'targets'>): string {
  return inputs.instanceIds.length > 0 ? inputs.instanceIds.join(', ') : describeTargets(inputs.targets);
}

/**
 * Whether `command` (as ListCommands describes it) is the one `request` would have created: SendCommand takes no
 * client token, so an unanswered send is followed by a look for it before any resend (see aws.ts).
 */
export function isSameCommand(command: Command, request: SendCommandCommandInput): boolean {
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  return (
    command.DocumentName === request.DocumentName &&
    command.Comment === request.Comment &&
    same(command.InstanceIds?.length ? command.InstanceIds : undefined, request.InstanceIds) &&
    same(command.Targets?.length ? command.Targets : undefined, request.Targets) &&
    same(command.Parameters, request.Parameters)
  );
}

// ---- A failed send -------------------------------------------------------------------------------------------------
// AWS refuses the whole command when any instance given by ID is not an online SSM managed node, with
// `InvalidInstanceId` and a bare `Instances [[i-...]] not in a valid state for account ...`: the message a user needs
// names the instances, the usual causes, and that nothing ran anywhere.

/**
 * The Run Command console's list of commands that have not ended, in `region`: where to look for a command whose
 * SendCommand answer never came and that no ListCommands look found.
 */
export function runningCommandsUrl(region: string): string {
  return consoleUrl(region, 'systems-manager/run-command/executing-commands');
}

/** The instance IDs in AWS's `Instances [[i-0abc, i-0def]] not in a valid state` message; none if it names none. */
export function refusedInstances(message: string): string[] {
  const listed = /\[\[([^\]]*)\]\]/.exec(message)?.[1] ?? '';
  return listed.match(/\bi-[0-9a-f]{8,17}\b/g) ?? [];
}

/**
 * The step's error message for a SendCommand that threw `error`. `InvalidInstanceId` is an answer from AWS that
 * created no command, so it says that nothing was sent; `unanswered` (the last attempt got no answer, and the look
 * for what it may have created found nothing) says that a command may be running and where to look; any other
 * error is passed through as it is.
 */
export function explainSendFailure(error: unknown, region: string, unanswered = false): string {
  const message = errorMessage(error);
  if (unanswered) {
    return (
      `SendCommand failed: ${message}; its answer never came and no command of this run was found, so a command ` +
      `may be running: look in ${runningCommandsUrl(region)}`
    );
  }
  if ((error as Error | undefined)?.name !== 'InvalidInstanceId') return `SendCommand failed: ${message}`;
  const ids = refusedInstances(message);
  const which =
    ids.length > 1
      ? `Instances ${ids.join(', ')} are not online SSM managed nodes`
      : `${ids.length === 1 ? `Instance ${ids[0]}` : 'An instance in instance-ids'} is not an online SSM managed node`;
  return (
    `SendCommand refused the command (${message}). ${which} in ${region} for these ` +
    'credentials: the instance is stopped or terminated, its SSM Agent is stopped, not registered or too old, its ' +
    'instance profile lacks AmazonSSMManagedInstanceCore, or it is in another region or account (Fleet Manager ' +
    'lists the managed nodes). Nothing was sent to any instance.'
  );
}

// ---- The outcome ---------------------------------------------------------------------------------------------------
// The deploy succeeded only when the command ended `Success` on every instance it chose: one instance that failed,
// timed out, was undeliverable, terminated or rolled back (exit code 2) fails the step, and so does a tag selector
// that matched nothing.

/** How the wait for the command ended. */
export type Ending =
  | { kind: 'done'; state: CommandState }
  | { kind: 'timeout'; state?: CommandState; timeoutMinutes: number; cancel: CancelResult }
  | { kind: 'aborted'; state?: CommandState; cancel: CancelResult }
  /** The wait lost sight of the command: SSM kept failing, or failed in a way waiting cannot fix. */
  | { kind: 'failed'; state?: CommandState; error: string; cancel: CancelResult };

/** Whether CancelCommand was accepted; the error message when it was not. */
export type CancelResult = { sent: true } | { sent: false; error: string };

/** What happened, in the summary's title: sent (not waited for), deployed, failed, cancelled, timed out. */
export type DeployResult = 'sent' | 'deployed' | 'failed' | 'cancelled' | 'timed out';

export interface Outcome {
  ok: boolean;
  result: DeployResult;
  message: string;
  /** Failed before any command was sent (the summary says so first). */
  nothingSent?: boolean;
}

/** How many failing instances a message names; the job summary lists them all. */
export const NAMED_IN_MESSAGE = 10;

function failing(instances: InstanceResult[]): string {
  const bad = instances.filter((i) => !succeeded(i));
  const named = bad.slice(0, NAMED_IN_MESSAGE).map(describeInstance);
  if (bad.length > NAMED_IN_MESSAGE) named.push(`and ${bad.length - NAMED_IN_MESSAGE} more (see the job summary)`);
  return named.join('; ');
}

/** `1 minute`, `90 minutes`, `3 seconds`. */
function span(minutes: number): string {
  if (minutes < 1) return `${Math.round(minutes * 60)} seconds`;
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

function cancelText(cancel: CancelResult, commandId: string | undefined): string {
  const command = commandId ? ` ${commandId}` : '';
  return cancel.sent
    ? `the command${command} was cancelled (CancelCommand)`
    : `cancelling the command${command} failed: ${cancel.error}`;
}

export function decideOutcome(ending: Ending, targets: string): Outcome {
  const state = ending.state;
  const instances = state?.instances ?? [];
  const counts = countInstances(instances);
  const progress = instances.length > 0 ? ` ${counts.succeeded} of ${counts.total} instances had succeeded.` : '';
  if (ending.kind === 'timeout') {
    const cancelled = cancelText(ending.cancel, state?.commandId);
    return {
      ok: false,
      result: 'timed out',
      message: `The command did not end within ${span(ending.timeoutMinutes)}; ${cancelled}.${progress}`,
    };
  }
  if (ending.kind === 'aborted') {
    const cancelled = cancelText(ending.cancel, state?.commandId);
    return { ok: false, result: 'cancelled', message: `The run was cancelled; ${cancelled}.${progress}` };
  }
  if (ending.kind === 'failed') {
    const cancelled = cancelText(ending.cancel, state?.commandId);
    return { ok: false, result: 'failed', message: `Stopped waiting for the command (${ending.error}); ${cancelled}.${progress}` };
  }
  const { status, statusDetails } = ending.state;
  if (statusDetails === 'NoInstancesInTag') {
    return { ok: false, result: 'failed', message: `No instance matches the targets ${targets}: nothing was deployed.` };
  }
  const allSucceeded = counts.total > 0 && counts.succeeded === counts.total;
  if (status === 'Success' && allSucceeded && (statusDetails === 'Success' || statusDetails === '')) {
    return { ok: true, result: 'deployed', message: `Deployed to ${counts.total} instance${counts.total === 1 ? '' : 's'}.` };
  }
  const what =
    counts.total === 0
      ? 'no instance ran it'
      : `${counts.total - counts.succeeded} of ${counts.total} instances did not deploy: ${failing(instances)}`;
  return { ok: false, result: 'failed', message: `The command ended ${statusText(status, statusDetails)}; ${what}.` };
}

/** The step's outputs, as named in action.yml. */
export interface StepOutputs {
  'command-id'?: string;
  /** The command in the Systems Manager console. */
  'console-url'?: string;
  status?: string;
  /** One entry per instance, in the order SSM listed them. */
  instances?: Array<{ instanceId: string; status: string; statusDetails: string; responseCode: number }>;
  'succeeded-count'?: number;
  'failed-count'?: number;
}

/**
 * The outputs once the command `commandId` is sent: its `status` (SendCommand's answer, or the last read) and, from
 * the last read `state`, the instances and their counts.
 */
export function stepOutputs(commandId: string, consoleUrl: string, status: string, state: CommandState | undefined): StepOutputs {
  const instances = state?.instances ?? [];
  const counts = countInstances(instances);
  return {
    'command-id': commandId,
    'console-url': consoleUrl,
    status,
    instances: instances.map(({ instanceId, status, statusDetails, responseCode }) => ({
      instanceId,
      status,
      statusDetails,
      responseCode,
    })),
    'succeeded-count': counts.succeeded,
    // Ended without success: an instance still running or cancelling when the step stopped is not counted.
    'failed-count': counts.failed,
  };
}
