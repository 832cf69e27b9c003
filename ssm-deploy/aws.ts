/**
 * Every Systems Manager call of a deploy: opening it in either mode (its clients and the document), making sure the
 * document holds this action's content, sending the command exactly once, reading it, following it until it ends
 * (cancelling it when the wait stops first), and showing what failed instances printed. Each returns what it
 * learned; the decisions are in plan.ts, the order in main.ts.
 */
import {
  CancelCommandCommand,
  CreateDocumentCommand,
  DescribeDocumentCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  UpdateDocumentCommand,
  UpdateDocumentDefaultVersionCommand,
  type Command,
  type CommandInvocation,
  type DocumentDescription,
  type SendCommandCommandInput,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { abortBudgetMs, abortCalls, type AbortCalls, type AbortCause } from '../shared/abort-budget.js';
import { actionClients } from '../shared/action-clients.js';
import { attemptTimeouts, clientFactory } from '../shared/aws-clients.js';
import { errorMessage, isRefusal } from '../shared/errors.js';
import { showUntrusted } from '../shared/log.js';
import { poll, type PollOptions } from '../shared/poller.js';
import { AttemptTimeoutError, retry } from '../shared/retry.js';
import { isTransientError } from '../shared/transient.js';
import { DEPLOY_STEP, DOCUMENT_CONTENT, DOCUMENT_HASH } from './document.js';
import type { SsmDeployInputs } from './inputs.js';
import {
  describeInstance,
  describeState,
  explainSendFailure,
  instancesWithOutput,
  isFinished,
  isSameCommand,
  normaliseDetails,
  planDocument,
  type CancelResult,
  type CommandState,
  type Ending,
  type FoundDocument,
  type InstanceResult,
} from './plan.js';

// ---- Opening a deploy: its clients and its document, alike in both modes -------------------------------------------

/** What a deploy in either mode starts from. */
export interface OpenedDeploy {
  /** Systems Manager with the step's credentials and the SDK's retries. */
  ssm: SSMClient;
  /** The document version that holds this action's content. */
  document: ReadyDocument;
  /**
   * Runs `use` with a Systems Manager client of the same credentials whose SDK retries are off, destroyed after: for
   * the calls that look for what an unanswered attempt did before sending again (sendCommandOnce,
   * association.ts's createAssociationOnce).
   */
  once<T>(use: (ssm: SSMClient) => Promise<T>): Promise<T>;
}

/**
 * The start of a deploy in either mode: the clients (with `role-to-assume`, the role assumed in-process from the
 * job's OIDC token, shared/action-clients.ts), then the document made to hold this action's content as its default
 * version ({@link prepareDocument}). Throws what either throws.
 */
export async function openDeploy(inputs: SsmDeployInputs, signal: AbortSignal, log: (line: string) => void): Promise<OpenedDeploy> {
  const { clients, assumed } = await actionClients(inputs, { signal });
  const ssm = clients(SSMClient);
  const document = await prepareDocument(ssm, {
    name: inputs.documentName,
    content: DOCUMENT_CONTENT,
    hash: DOCUMENT_HASH,
    manage: inputs.manageDocument,
    signal,
    log,
  });
  const once = async <T>(use: (ssm: SSMClient) => Promise<T>): Promise<T> => {
    const client = clientFactory({ region: inputs.awsRegion, credentials: assumed?.credentials, maxAttempts: 1, retryMode: 'standard' })(SSMClient);
    try {
      return await use(client);
    } finally {
      client.destroy();
    }
  };
  return { ssm, document, once };
}

// ---- The document: created, given a version and made default, or left as it is (plan.ts: planDocument) ------------

export type DocumentChange = 'created' | 'updated' | 'made default' | 'unchanged';

export interface ReadyDocument {
  name: string;
  /** The version that holds this action's content. */
  version: string;
  change: DocumentChange;
}

export interface DocumentOptions {
  name: string;
  content: string;
  hash: string;
  manage: boolean;
  signal?: AbortSignal;
  log: (line: string) => void;
}

/** A new document or version is `Creating`/`Updating` for a moment; SendCommand needs it `Active`. */
const ACTIVE_WAIT = { intervalMs: 1000, timeoutMs: 60_000 };
/** Another job deploying at the same moment may create or update the document between our read and write. */
const RACES = new Set(['DocumentAlreadyExists', 'DuplicateDocumentContent']);

/**
 * Makes sure the SSM document holds this action's content as its default version: creates it, adds a version and
 * makes it the default, or leaves it as it is (plan.ts's planDocument decides which). Returns the version to run.
 * Retries once when another job changed the document between the read and the write.
 */
export async function prepareDocument(ssm: SSMClient, options: DocumentOptions): Promise<ReadyDocument> {
  try {
    return await applyPlan(ssm, options);
  } catch (error) {
    if (!RACES.has((error as Error).name)) throw error;
    options.log(`The document ${options.name} changed while being prepared (${(error as Error).name}); reading it again`);
    return applyPlan(ssm, options);
  }
}

async function applyPlan(ssm: SSMClient, options: DocumentOptions): Promise<ReadyDocument> {
  const { name, content, hash, signal } = options;
  const plan = planDocument(name, await findDocument(ssm, name, hash, signal), hash, options.manage);
  switch (plan.kind) {
    case 'refuse':
      throw new Error(plan.message);
    case 'use':
      options.log(`The document ${name} is up to date (version ${plan.version})`);
      return { name, version: plan.version, change: 'unchanged' };
    case 'set-default':
      await setDefault(ssm, name, plan.version, signal);
      options.log(`Made version ${plan.version} of the document ${name} its default`);
      return { name, version: plan.version, change: 'made default' };
    case 'create': {
      const created = await ssm.send(
        new CreateDocumentCommand({ Name: name, Content: content, DocumentType: 'Command', DocumentFormat: 'JSON' }),
        { abortSignal: signal },
      );
      const version = await untilActive(ssm, name, versionOf(created.DocumentDescription), signal);
      options.log(`Created the document ${name}`);
      return { name, version, change: 'created' };
    }
    case 'update': {
      const updated = await ssm.send(
        new UpdateDocumentCommand({ Name: name, Content: content, DocumentVersion: '$LATEST', DocumentFormat: 'JSON' }),
        { abortSignal: signal },
      );
      const version = await untilActive(ssm, name, versionOf(updated.DocumentDescription), signal);
      await setDefault(ssm, name, version, signal);
      options.log(`Added version ${version} to the document ${name} and made it the default`);
      return { name, version, change: 'updated' };
    }
  }
}

async function findDocument(
  ssm: SSMClient,
  name: string,
  hash: string,
  signal?: AbortSignal,
): Promise<FoundDocument | undefined> {
  let described: DocumentDescription | undefined;
  try {
    described = (await ssm.send(new DescribeDocumentCommand({ Name: name }), { abortSignal: signal })).Document;
  } catch (error) {
    if ((error as Error).name === 'InvalidDocument') return undefined;
    throw error;
  }
  const found: FoundDocument = {
    defaultVersion: versionOf(described),
    defaultHash: described?.Hash ?? '',
    latestVersion: described?.LatestVersion ?? versionOf(described),
  };
  if (found.defaultHash !== hash && found.latestVersion !== found.defaultVersion) {
    const latest = await ssm.send(new DescribeDocumentCommand({ Name: name, DocumentVersion: found.latestVersion }), {
      abortSignal: signal,
    });
    found.latestHash = latest.Document?.Hash;
  }
  return found;
}

function versionOf(description: DocumentDescription | undefined): string {
  const version = description?.DocumentVersion;
  if (!version) throw new Error(`SSM described the document ${description?.Name ?? ''} without a version`);
  return version;
}

async function setDefault(ssm: SSMClient, name: string, version: string, signal?: AbortSignal): Promise<void> {
  await ssm.send(new UpdateDocumentDefaultVersionCommand({ Name: name, DocumentVersion: version }), {
    abortSignal: signal,
  });
}

async function untilActive(ssm: SSMClient, name: string, version: string, signal?: AbortSignal): Promise<string> {
  const waited = await poll({
    check: async (attempt) =>
      (await ssm.send(new DescribeDocumentCommand({ Name: name, DocumentVersion: version }), { abortSignal: attempt }))
        .Document,
    done: (document) => document?.Status !== 'Creating' && document?.Status !== 'Updating',
    describe: (document) => `Document ${name} version ${version}: ${document?.Status ?? 'unknown'}`,
    ...ACTIVE_WAIT,
    signal,
    log: () => undefined,
  });
  if (waited.outcome === 'aborted') throw waited.reason;
  if (waited.outcome === 'failed') throw waited.error;
  const status = waited.last?.Status;
  if (waited.outcome === 'timeout' || status !== 'Active') {
    const reason = waited.last?.StatusInformation ? `: ${waited.last.StatusInformation}` : '';
    throw new Error(`Version ${version} of the document ${name} is ${status ?? 'not active'}${reason}`);
  }
  return version;
}

// ---- Sending the command exactly once ------------------------------------------------------------------------------

/*
 * Sends the deploy command exactly once. SendCommand takes no client token: every call that reaches AWS creates a
 * command, so an attempt that got no answer (a timeout, a dropped connection, a 5xx) may have created one, and the
 * SDK's blind retry would then deploy twice at once. Here an unanswered attempt is followed, before any resend, by a
 * look for the command it may have created: one sent since the first attempt (with a minute's allowance for clock
 * skew), of the same document, comment (which names the run), targets and parameters is taken as this deploy's.
 */

/** What this needs of an SSM client; give it one whose own retries are off (`maxAttempts: 1`). */
export interface SendApi {
  send(command: SendCommandCommand | ListCommandsCommand, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** Like the SDK's own (5 attempts), with room for a look between them. */
export const SEND_RETRY = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 4_000, budgetMs: 60_000 };

/** Whether the last attempt of {@link sendUnlessSent} went unanswered: AWS may have acted on it. */
export interface SendTrack {
  unanswered: boolean;
}

/**
 * The retry loop of a call that creates something and takes no client token (SendCommand, CreateAssociation), so
 * that it creates it once: `send` is tried up to {@link SEND_RETRY} while it fails transiently (shared/transient.ts),
 * and after an attempt that got no answer (any error but AWS's refusal: a timeout, a dropped connection, a 5xx),
 * `look` (which logs what it found) is asked before the resend for what that attempt may have created; what it
 * finds is returned instead. `track.unanswered` tells the caller, once this throws, whether the last attempt was
 * unanswered. Each retry is logged as `<operation> attempt N failed (...); retrying in M ms`.
 */
export function sendUnlessSent<T>(
  operation: string,
  calls: { send: () => Promise<T>; look: () => Promise<T | undefined> },
  options: { signal?: AbortSignal; log: (line: string) => void },
  track: SendTrack = { unanswered: false },
): Promise<T> {
  return retry(
    async () => {
      if (track.unanswered) {
        const found = await calls.look();
        if (found !== undefined) return found;
      }
      try {
        return await calls.send();
      } catch (error) {
        track.unanswered = !isRefusal(error);
        throw error;
      }
    },
    {
      ...SEND_RETRY,
      isRetryable: isTransientError,
      signal: options.signal,
      onRetry: (error, attempt, delayMs) => options.log(`${operation} attempt ${attempt} failed (${errorMessage(error)}); retrying in ${delayMs} ms`),
    },
  );
}
const CLOCK_SKEW_MS = 60_000;

/**
 * The command SendCommand created for `request`, or the one an unanswered attempt had created; throws with
 * {@link explainSendFailure}'s message when no attempt got one within {@link SEND_RETRY}. When the last attempt went
 * unanswered (the run was cancelled, or the retries ran out, while AWS may have acted), one more look is made within
 * the abort's budget (shared/abort-budget.ts), so that a command this step created is never left unseen: it is
 * returned (the caller, seeing its signal aborted, cancels it); if none is found the error says where to look.
 */
export async function sendCommandOnce(
  ssm: SendApi,
  request: SendCommandCommandInput,
  options: { region: string; signal?: AbortSignal; log: (line: string) => void },
): Promise<Command> {
  const since = new Date(Date.now() - CLOCK_SKEW_MS).toISOString();
  const track: SendTrack = { unanswered: false };
  const send = async () => {
    const sent = (await ssm.send(new SendCommandCommand(request), { abortSignal: options.signal })) as { Command?: Command };
    if (!sent.Command?.CommandId) throw new Error('SendCommand answered without a command ID');
    return sent.Command;
  };
  const look = async () => {
    const found = await findSentCommand(ssm, request, since, options.signal);
    if (found) options.log(`The unanswered SendCommand had created the command ${found.CommandId}: following it, not sending again.`);
    return found;
  };
  try {
    return await sendUnlessSent('SendCommand', { send, look }, options, track);
  } catch (error) {
    if (!track.unanswered) throw new Error(explainSendFailure(error, options.region), { cause: error });
    const found = await lastLook(ssm, request, since, options);
    if (found) return found;
    throw new SendUnknownError(explainSendFailure(options.signal?.aborted ? options.signal.reason : error, options.region, true), {
      cause: error,
    });
  }
}

/** SendCommand's answer never came and no command of this run was found: one may be running, unseen. */
export class SendUnknownError extends Error {
  override readonly name = 'SendUnknownError';
}

/** The look after the send gave up unanswered, within the abort's budget; `undefined` when it found none or failed. */
async function lastLook(
  ssm: SendApi,
  request: SendCommandCommandInput,
  since: string,
  options: { signal?: AbortSignal; log: (line: string) => void },
): Promise<Command | undefined> {
  const cause: AbortCause = options.signal?.aborted ? 'cancelled' : 'gave-up';
  try {
    const found = await abortCalls(abortBudgetMs(cause), options.log).call('ListCommands', (signal) =>
      findSentCommand(ssm, request, since, signal),
    );
    if (found) options.log(`The unanswered SendCommand had created the command ${found.CommandId}.`);
    return found;
  } catch (error) {
    options.log(`Could not look for the command an unanswered SendCommand may have created: ${errorMessage(error)}`);
    return undefined;
  }
}

/** The look an unanswered send is followed by: a command of this run sent since `since` (see isSameCommand). */
async function findSentCommand(
  ssm: SendApi,
  request: SendCommandCommandInput,
  since: string,
  signal: AbortSignal | undefined,
): Promise<Command | undefined> {
  const listed = (await ssm.send(
    new ListCommandsCommand({
      Filters: [
        { key: 'InvokedAfter', value: since },
        { key: 'DocumentName', value: request.DocumentName ?? '' },
      ],
    }),
    { abortSignal: signal },
  )) as { Commands?: Command[] };
  return listed.Commands?.find((command) => isSameCommand(command, request));
}

// ---- Reading the command -------------------------------------------------------------------------------------------

/** The largest page ListCommandInvocations serves. */
export const PAGE_SIZE = 50;

/**
 * A command's state: one ListCommands call and a walk over every page of ListCommandInvocations. `details` also
 * reads each invocation's plugin results (exit code, start and end): more bytes per page, so it is
 * asked for once, when the command has ended.
 */
export async function readCommand(
  ssm: SSMClient,
  commandId: string,
  options: { signal?: AbortSignal; details?: boolean } = {},
): Promise<CommandState> {
  const listed = await ssm.send(new ListCommandsCommand({ CommandId: commandId }), { abortSignal: options.signal });
  const command = listed.Commands?.find((c) => c.CommandId === commandId);
  if (!command) throw new Error(`ListCommands does not know the command ${commandId}`);
  const instances: InstanceResult[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ssm.send(
      new ListCommandInvocationsCommand({
        CommandId: commandId,
        MaxResults: PAGE_SIZE,
        NextToken: nextToken,
        Details: options.details === true,
      }),
      { abortSignal: options.signal },
    );
    instances.push(...(page.CommandInvocations ?? []).map(toResult));
    nextToken = page.NextToken;
  } while (nextToken);
  return {
    commandId,
    status: command.Status ?? 'Pending',
    statusDetails: normaliseDetails(command.StatusDetails),
    instances,
  };
}

function toResult(invocation: CommandInvocation): InstanceResult {
  const plugins = invocation.CommandPlugins ?? [];
  // The document has one step; were there more, the first that did not succeed explains the outcome.
  const telling = plugins.find((p) => (p.ResponseCode ?? 0) !== 0) ?? plugins[plugins.length - 1];
  const starts = plugins.flatMap((p) => (p.ResponseStartDateTime ? [p.ResponseStartDateTime.getTime()] : []));
  const ends = plugins.flatMap((p) => (p.ResponseFinishDateTime ? [p.ResponseFinishDateTime.getTime()] : []));
  return {
    instanceId: invocation.InstanceId ?? '',
    status: invocation.Status ?? 'Pending',
    statusDetails: normaliseDetails(invocation.StatusDetails),
    responseCode: telling?.ResponseCode ?? -1,
    ...(starts.length > 0 ? { startedAt: new Date(Math.min(...starts)) } : {}),
    ...(ends.length > 0 ? { endedAt: new Date(Math.max(...ends)) } : {}),
  };
}

// ---- Waiting for the command ---------------------------------------------------------------------------------------

/** How a wait of either mode polls (waitForCommand, and association.ts's waitForExecution), for states `S`. */
export interface WaitOptions<S> {
  intervalMs: number;
  timeoutMs: number;
  signal?: AbortSignal;
  log: (line: string) => void;
  /** Told each state read, as it is read: what the step reports if it is ended before the wait returns. */
  onState?: (state: S) => void;
}

/**
 * The wait options the inputs ask for: a look every `poll-interval-seconds`, for at most `timeout-minutes` (both
 * already checked by inputs.ts), ended early by `signal`; each state read goes to `onState`.
 */
export function waitOptions<S>(
  inputs: Pick<SsmDeployInputs, 'pollIntervalSeconds' | 'timeoutMinutes'>,
  signal: AbortSignal,
  log: (line: string) => void,
  onState: (state: S) => void,
): WaitOptions<S> {
  return { intervalMs: inputs.pollIntervalSeconds * 1000, timeoutMs: inputs.timeoutMinutes * 60_000, signal, log, onState };
}

/**
 * The shared poller's options for a wait that reads its state with `read` (one look, cut by the signal it is given):
 * each state read is told to `options.onState` before `done` judges it, so that a wait ended by a cancellation or a
 * hung check still leaves the step the last state it saw.
 */
export function pollOptions<S>(
  options: WaitOptions<S>,
  read: (signal: AbortSignal) => Promise<S>,
  judge: { done: (state: S) => boolean; describe: (state: S) => string },
): PollOptions<S> {
  return {
    check: async (signal) => {
      const state = await read(signal);
      options.onState?.(state);
      return state;
    },
    done: judge.done,
    describe: judge.describe,
    intervalMs: options.intervalMs,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    log: options.log,
  };
}

/**
 * Follows a sent command through the shared poller until it ends, the wait times out, the run is cancelled or the
 * wait loses sight of it (SSM kept failing); in the last three cases the command is cancelled (CancelCommand) before
 * the step ends, so that no instance goes on switching after the workflow said it stopped.
 * Never throws for SSM's failures: they end the wait as `failed`, with the command cancelled.
 */
export async function waitForCommand(ssm: SSMClient, commandId: string, options: WaitOptions<CommandState>): Promise<Ending> {
  const read = (signal: AbortSignal) => readCommand(ssm, commandId, { signal });
  const waited = await poll(pollOptions(options, read, { done: isFinished, describe: describeState }));
  if (waited.outcome === 'done') {
    const state = await withDetails(ssm, waited.value, options);
    options.onState?.(state);
    return { kind: 'done', state };
  }
  const cause = waited.outcome === 'timeout' ? 'timeout' : waited.outcome === 'failed' ? 'gave-up' : 'cancelled';
  const stopped = await stopCommand(ssm, commandId, cause, options.log);
  const state = stopped.state ?? waited.last;
  if (stopped.state) options.onState?.(stopped.state);
  if (waited.outcome === 'timeout') {
    return { kind: 'timeout', state, timeoutMinutes: options.timeoutMs / 60_000, cancel: stopped.cancel };
  }
  if (waited.outcome === 'failed') return { kind: 'failed', state, error: errorMessage(waited.error), cancel: stopped.cancel };
  return { kind: 'aborted', state, cancel: stopped.cancel };
}

/**
 * The abort action, within one abort budget (shared/abort-budget.ts: seconds after a cancellation, a minute after a
 * timeout): CancelCommand, then one more read of the command with its instances' exit codes and times, so that the
 * report is the command as it stands after the cancel (`Cancelling`, or `Cancelled`; finished instances with their
 * exit codes), not the last poll's. `state` is absent when that read failed. Never throws.
 */
export async function stopCommand(
  ssm: SSMClient,
  commandId: string,
  cause: AbortCause,
  log: (line: string) => void,
): Promise<{ cancel: CancelResult; state?: CommandState }> {
  const calls = abortCalls(abortBudgetMs(cause), log);
  const cancel = await cancelCommand(ssm, commandId, calls, log);
  try {
    const state = await calls.call('Reading the command after CancelCommand', (signal) =>
      readCommand(ssm, commandId, { signal, details: true }),
    );
    return { cancel, state };
  } catch (error) {
    log(`Could not read the command ${commandId} after cancelling it: ${errorMessage(error)}`);
    return { cancel };
  }
}

/** The ended command again, with exit codes and times for the report; the plain state if that read fails. */
async function withDetails(ssm: SSMClient, state: CommandState, options: WaitOptions<CommandState>): Promise<CommandState> {
  try {
    return await readCommand(ssm, state.commandId, { signal: options.signal, details: true });
  } catch (error) {
    options.log(`Could not read the exit codes of the instances: ${errorMessage(error)}`);
    return state;
  }
}

/** CancelCommand within `calls`' budget, a hung attempt cut and tried again. Never throws. */
async function cancelCommand(
  ssm: SSMClient,
  commandId: string,
  calls: AbortCalls,
  log: (line: string) => void,
): Promise<CancelResult> {
  try {
    await calls.call('CancelCommand', (signal) =>
      ssm.send(new CancelCommandCommand({ CommandId: commandId }), { abortSignal: signal }),
    );
    log(`Cancelled the command ${commandId}`);
    return { sent: true };
  } catch (error) {
    const message = errorMessage(error);
    log(`Could not cancel the command ${commandId}: ${message}`);
    return { sent: false, error: message };
  }
}

// ---- The output of failed instances --------------------------------------------------------------------------------

/** Instances whose output is fetched; the rest are only named (their output is in the console). */
export const MAX_OUTPUTS = 20;

/**
 * SSM lists an invocation a moment before GetCommandInvocation knows it (`InvocationDoesNotExist`); that answer
 * is a "not yet", like throttling.
 */
const FETCH_RETRY = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 2000 };

/**
 * All the reads together, from the end of the wait: the command has ended and its status is known, so a hung or
 * failing SSM costs the report at most this long (whatever the number of failed instances). Each attempt is cut at
 * a third of it, or the client's own per-attempt timeout if shorter: the client's five attempts of 15 s each would
 * otherwise hold one read for 77 s.
 */
export const OUTPUT_BUDGET_MS = 30_000;

const isRetryable = (error: unknown) =>
  isTransientError(error) || (error as Error | undefined)?.name === 'InvocationDoesNotExist';

/**
 * Shows, in collapsed log groups, what the deploy script printed on instances where it ran and failed:
 * GetCommandInvocation returns the first 24,000 characters of its output and 8,000 of its errors (the full
 * output goes to CloudWatch Logs or S3 when the inputs name them).
 * Reads at most {@link MAX_OUTPUTS} instances of `ran` (by default those of `instances` where the script ran) within
 * {@link OUTPUT_BUDGET_MS}; names those it could not read. Each instance's invocation is of its own `commandId` when it
 * has one (an association's target), else of `commandId`. Returns the exit codes read, by instance ID.
 */
export async function showFailedOutput(
  ssm: SSMClient,
  commandId: string | undefined,
  instances: InstanceResult[],
  log: (line: string) => void,
  signal?: AbortSignal,
  ran: InstanceResult[] = instancesWithOutput(instances),
): Promise<Map<string, number>> {
  const codes = new Map<string, number>();
  const shown = ran.slice(0, MAX_OUTPUTS);
  const deadline = Date.now() + OUTPUT_BUDGET_MS;
  const attemptTimeoutMs = Math.min(Math.floor(OUTPUT_BUDGET_MS / 3), attemptTimeouts().attemptMs);
  for (const [index, instance] of shown.entries()) {
    const budgetMs = deadline - Date.now();
    if (budgetMs <= 0) {
      const unread = shown.slice(index).map((i) => i.instanceId);
      log(`Reading output took the whole ${OUTPUT_BUDGET_MS / 1000} s; not read: ${unread.join(', ')} (see the Run Command console).`);
      break;
    }
    // An association's targets each ran their own command (OutputSource.OutputSourceId).
    const invocationCommand = instance.commandId ?? commandId;
    if (!invocationCommand) continue;
    try {
      const answer = await retry(
        (_attempt, attemptSignal) =>
          ssm.send(
            new GetCommandInvocationCommand({ CommandId: invocationCommand, InstanceId: instance.instanceId, PluginName: DEPLOY_STEP }),
            { abortSignal: attemptSignal },
          ),
        { ...FETCH_RETRY, isRetryable, signal, budgetMs, attemptTimeoutMs },
      );
      if (answer.ResponseCode !== undefined) codes.set(instance.instanceId, answer.ResponseCode);
      const described = { ...instance, responseCode: answer.ResponseCode ?? instance.responseCode };
      const text = [
        answer.StandardOutputContent ?? '',
        answer.StandardErrorContent ? `----- standard error -----\n${answer.StandardErrorContent}` : '',
      ]
        .filter(Boolean)
        .join('\n');
      await showUntrusted(`Output of ${describeInstance(described)}`, text || '(no output)');
    } catch (error) {
      if (signal?.aborted) return codes;
      const why = error instanceof AttemptTimeoutError ? `GetCommandInvocation had ${error.message}` : errorMessage(error);
      log(`Could not read the output of ${instance.instanceId}: ${why}`);
    }
  }
  if (ran.length > MAX_OUTPUTS) {
    log(`The output of ${ran.length - MAX_OUTPUTS} more failed instances is in the Run Command console.`);
  }
  return codes;
}
