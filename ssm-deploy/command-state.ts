/**
 * A Run Command command as this action follows it: the overall status and one result per instance, and the log
 * line for it. Status details are compared in the form the API returns them (`ExecutionTimedOut`); the console
 * and the user guide spell them with spaces, and either form is read.
 */

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
  const status = state.statusDetails && state.statusDetails !== state.status
    ? `${state.status} (${state.statusDetails})`
    : state.status;
  if (state.instances.length === 0) {
    return isFinished(state) ? `Command ${status}` : `Command ${status}: waiting for the instances to be chosen`;
  }
  const c = countInstances(state.instances);
  return (
    `Command ${status}: ${c.succeeded} of ${c.total} instances succeeded, ${c.failed} failed, ` +
    `${c.running} running, ${c.pending} pending`
  );
}
