/**
 * `on-abort`: what happens to this deploy's refresh when the timeout passes or the run is cancelled. It must be done
 * before the runner kills the process (SIGTERM 7.5 s after SIGINT), so every call shares one short budget.
 */
import {
  ActiveInstanceRefreshNotFoundFault,
  IrreversibleInstanceRefreshFault,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';
import { errorMessage } from '../shared/errors.js';
import { describeRefresh, stopRefresh } from './auto-scaling.js';
import type { InstanceRefreshInputs } from './inputs.js';
import { ACTIVE_STATUSES } from './refresh-status.js';

/** All calls of the abort action together; leaves room to report before the runner's SIGTERM. */
export const ABORT_BUDGET_MS = 5000;

export interface AbortTarget {
  groupName: string;
  refreshId: string;
  /** Where a rollback returns the group (`3`, `3 of launch template web`). */
  sourceVersion: number | string;
}

/** Carries out `onAbort` and says, in a sentence, what was done. Never throws. */
export async function carryOutAbort(
  asg: AutoScalingClient,
  target: AbortTarget,
  onAbort: InstanceRefreshInputs['onAbort'],
): Promise<string> {
  const { groupName, refreshId } = target;
  if (onAbort === 'leave') return `Left instance refresh ${refreshId} running (on-abort: leave).`;
  const signal = AbortSignal.timeout(ABORT_BUDGET_MS);
  try {
    // Cancel and rollback act on whatever refresh the group is running: make sure it is still this one.
    const refresh = await describeRefresh(asg, groupName, refreshId, signal);
    if (!ACTIVE_STATUSES.has(refresh.Status ?? '')) {
      return `Instance refresh ${refreshId} had already ended (${refresh.Status}): nothing to ${onAbort}.`;
    }
    if (onAbort === 'rollback') {
      try {
        await stopRefresh(asg, groupName, 'rollback', signal);
        return `Rolling instance refresh ${refreshId} back to launch template version ${target.sourceVersion} (on-abort: rollback).`;
      } catch (error) {
        if (!(error instanceof IrreversibleInstanceRefreshFault)) throw error;
        await stopRefresh(asg, groupName, 'cancel', signal);
        return `AWS refused to roll back (${errorMessage(error)}); cancelled instance refresh ${refreshId} instead.`;
      }
    }
    await stopRefresh(asg, groupName, 'cancel', signal);
    return `Cancelled instance refresh ${refreshId} (on-abort: cancel).`;
  } catch (error) {
    if (error instanceof ActiveInstanceRefreshNotFoundFault) {
      return `Instance refresh ${refreshId} had already ended: nothing to ${onAbort}.`;
    }
    return `Could not ${onAbort} instance refresh ${refreshId}, which may still be running: ${errorMessage(error)}`;
  }
}
