/**
 * `on-abort`: what happens to this deploy's refresh when the timeout passes or the run is cancelled. It must be done
 * before the runner kills the process (SIGTERM 7.5 s after SIGINT) after a cancellation, so every call shares one
 * budget, short after a cancellation, longer after a timeout (shared/abort-budget.ts).
 */
import {
  ActiveInstanceRefreshNotFoundFault,
  IrreversibleInstanceRefreshFault,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';
import { abortBudgetMs, abortCalls, type AbortCause } from '../shared/abort-budget.js';
import { errorMessage } from '../shared/errors.js';
import { info } from '../shared/log.js';
import { describeRefresh, stopRefresh } from './auto-scaling.js';
import type { InstanceRefreshInputs } from './inputs.js';
import { ACTIVE_STATUSES } from './refresh-status.js';

export interface AbortTarget {
  groupName: string;
  refreshId: string;
  /** Where a rollback returns the group (`3`, `3 of launch template web`). */
  sourceVersion: number | string;
}

/**
 * Carries out `onAbort` within the budget `cause` gives it (shared/abort-budget.ts) and says, in a sentence, what
 * was done. The refresh is read first (one attempt), since cancel and rollback act on whatever refresh the group is
 * running; if that read fails, the call is made anyway: a wait that lost sight of the refresh lost it by this very
 * read, and AWS answers `ActiveInstanceRefreshNotFound` when nothing runs. Never throws.
 */
export async function carryOutAbort(
  asg: AutoScalingClient,
  target: AbortTarget,
  onAbort: InstanceRefreshInputs['onAbort'],
  cause: AbortCause,
  log: (line: string) => void = info,
): Promise<string> {
  const { groupName, refreshId } = target;
  if (onAbort === 'leave') return `Left instance refresh ${refreshId} running (on-abort: leave).`;
  const calls = abortCalls(abortBudgetMs(cause), log);
  let unchecked = '';
  try {
    const refresh = await calls.call('DescribeInstanceRefreshes', (signal) => describeRefresh(asg, groupName, refreshId, signal), 1);
    if (!ACTIVE_STATUSES.has(refresh.Status ?? '')) {
      return `Instance refresh ${refreshId} had already ended (${refresh.Status}): nothing to ${onAbort}.`;
    }
  } catch (error) {
    unchecked = ` (could not read it first: ${errorMessage(error)}; sent ${onAbort} to the group's running refresh anyway)`;
    log(`Could not read instance refresh ${refreshId} before the ${onAbort}: ${errorMessage(error)}; sending it anyway.`);
  }
  const stop = (how: 'cancel' | 'rollback') =>
    calls.call(how === 'cancel' ? 'CancelInstanceRefresh' : 'RollbackInstanceRefresh', (signal) => stopRefresh(asg, groupName, how, signal));
  try {
    if (onAbort === 'rollback') {
      try {
        await stop('rollback');
        return `Rolling instance refresh ${refreshId} back to launch template version ${target.sourceVersion} (on-abort: rollback)${unchecked}.`;
      } catch (error) {
        if (!(error instanceof IrreversibleInstanceRefreshFault)) throw error;
        await stop('cancel');
        return `AWS refused to roll back (${errorMessage(error)}); cancelled instance refresh ${refreshId} instead${unchecked}.`;
      }
    }
    await stop('cancel');
    return `Cancelled instance refresh ${refreshId} (on-abort: cancel)${unchecked}.`;
  } catch (error) {
    if (error instanceof ActiveInstanceRefreshNotFoundFault) {
      return `Instance refresh ${refreshId} had already ended: nothing to ${onAbort}${unchecked ? ' (AWS found no running refresh)' : ''}.`;
    }
    return `Could not ${onAbort} instance refresh ${refreshId}, which may still be running: ${errorMessage(error)}`;
  }
}
