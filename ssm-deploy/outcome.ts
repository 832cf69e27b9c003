/**
 * Whether the deploy succeeded, and the message that says so. It succeeded only when the command ended `Success`
 * on every instance it chose: one instance that failed, timed out, was undeliverable, terminated or rolled back
 * (exit code 2) fails the step, and so does a tag selector that matched nothing.
 */
import { countInstances, succeeded, type CommandState, type InstanceResult } from './command-state.js';

export type Ending =
  | { kind: 'done'; state: CommandState }
  | { kind: 'timeout'; state?: CommandState; timeoutMinutes: number; cancel: CancelResult }
  | { kind: 'aborted'; state?: CommandState; cancel: CancelResult }
  /** The wait lost sight of the command: SSM kept failing, or failed in a way waiting cannot fix. */
  | { kind: 'failed'; state?: CommandState; error: string; cancel: CancelResult };

/** Whether CancelCommand was accepted; the error message when it was not. */
export type CancelResult = { sent: true } | { sent: false; error: string };

export interface Outcome {
  ok: boolean;
  message: string;
}

/** How many failing instances a message names; the job summary lists them all. */
export const NAMED_IN_MESSAGE = 10;

/** What the NixOS-Deploy script's exit codes mean (see nixos-deploy.json). */
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
  return notes.length > 0 ? `${instance.instanceId} ${instance.status} (${notes.join(', ')})` : `${instance.instanceId} ${instance.status}`;
}

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
    return { ok: false, message: `The command did not end within ${span(ending.timeoutMinutes)}; ${cancelled}.${progress}` };
  }
  if (ending.kind === 'aborted') {
    return { ok: false, message: `The run was cancelled; ${cancelText(ending.cancel, state?.commandId)}.${progress}` };
  }
  if (ending.kind === 'failed') {
    const cancelled = cancelText(ending.cancel, state?.commandId);
    return { ok: false, message: `Stopped waiting for the command (${ending.error}); ${cancelled}.${progress}` };
  }
  const { status, statusDetails } = ending.state;
  if (statusDetails === 'NoInstancesInTag') {
    return { ok: false, message: `No instance matches the targets ${targets}: nothing was deployed.` };
  }
  const allSucceeded = counts.total > 0 && counts.succeeded === counts.total;
  if (status === 'Success' && allSucceeded && (statusDetails === 'Success' || statusDetails === '')) {
    return { ok: true, message: `Deployed to ${counts.total} instance${counts.total === 1 ? '' : 's'}.` };
  }
  const shown = statusDetails && statusDetails !== status ? `${status} (${statusDetails})` : status;
  const what =
    counts.total === 0
      ? 'no instance ran it'
      : `${counts.total - counts.succeeded} of ${counts.total} instances did not deploy: ${failing(instances)}`;
  return { ok: false, message: `The command ended ${shown}; ${what}.` };
}

/** The step's outputs, as named in action.yml. */
export interface StepOutputs {
  'command-id': string;
  status: string;
  /** One entry per instance, in the order SSM listed them. */
  instances: Array<{ instanceId: string; status: string; statusDetails: string; responseCode: number }>;
  'succeeded-count': number;
  'failed-count': number;
}

export function stepOutputs(commandId: string, status: string, state: CommandState | undefined): StepOutputs {
  const instances = state?.instances ?? [];
  const counts = countInstances(instances);
  return {
    'command-id': commandId,
    status,
    instances: instances.map(({ instanceId, status, statusDetails, responseCode }) => ({
      instanceId,
      status,
      statusDetails,
      responseCode,
    })),
    'succeeded-count': counts.succeeded,
    'failed-count': counts.total - counts.succeeded,
  };
}
