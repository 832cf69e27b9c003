/**
 * What an instance refresh's status means for the deploy: still going, succeeded, or failed (and how to say so).
 * Pure: the wait loop feeds it what DescribeInstanceRefreshes answered.
 */
import type { InstanceRefresh } from '@aws-sdk/client-auto-scaling';

/** While one of these lasts, AWS refuses to start another refresh on the group. `Baking` is one of them. */
export const ACTIVE_STATUSES: ReadonlySet<string> = new Set([
  'Pending',
  'InProgress',
  'Baking',
  'Cancelling',
  'RollbackInProgress',
]);

export type Verdict =
  | { kind: 'waiting' }
  | { kind: 'succeeded'; message: string }
  | { kind: 'failed'; message: string };

export interface DeployVersions {
  /** The version the group had, as the rollback message names it (`3`, `3 of launch template web`). */
  source: number | string;
  /** The version this deploy made. */
  target: number;
}

/**
 * The deploy's verdict on the refresh. Any status not known to be final counts as still going, so a status AWS
 * adds later ends in the timeout's `on-abort` rather than in a false success.
 */
export function verdict(refresh: InstanceRefresh, versions: DeployVersions): Verdict {
  const reason = refresh.StatusReason ? `: ${refresh.StatusReason}` : '';
  const rollbackReason = refresh.RollbackDetails?.RollbackReason ?? refresh.StatusReason;
  const because = rollbackReason ? `: ${rollbackReason}` : '';
  switch (refresh.Status) {
    case 'Successful':
      return { kind: 'succeeded', message: `Deployed: the group runs launch template version ${versions.target}.` };
    case 'Failed':
      return { kind: 'failed', message: `Deploy failed, the instance refresh failed${reason}` };
    case 'Cancelled':
      return { kind: 'failed', message: `Deploy failed, the instance refresh was cancelled${reason}` };
    case 'RollbackSuccessful':
      return { kind: 'failed', message: `Deploy failed, group rolled back to version ${versions.source}${because}` };
    case 'RollbackFailed':
      return {
        kind: 'failed',
        message:
          `Deploy failed, and so did the rollback to version ${versions.source}: the group may run both versions` +
          reason,
      };
    default:
      return { kind: 'waiting' };
  }
}

/** One log line: changes when the status, the percentage, the instances left or AWS's reason change. */
export function progressLine(refresh: InstanceRefresh): string {
  const rollback = refresh.RollbackDetails;
  const left =
    refresh.InstancesToUpdate === undefined
      ? ''
      : ` (${refresh.InstancesToUpdate} instance${refresh.InstancesToUpdate === 1 ? '' : 's'} to update)`;
  const rolledBack =
    rollback?.PercentageCompleteOnRollback === undefined
      ? ''
      : `, rolling back from ${rollback.PercentageCompleteOnRollback}%`;
  const reason = refresh.StatusReason ? ` - ${refresh.StatusReason}` : '';
  return `${refresh.Status ?? 'Unknown'} ${refresh.PercentageComplete ?? 0}%${left}${rolledBack}${reason}`;
}

/** What to do about another refresh that is running, by `if-in-progress`. */
export type InProgressAction = 'fail' | 'wait' | 'cancel';

/**
 * `cancel` never cancels a rollback (that would leave the group half on a broken version) nor a refresh that is
 * already being cancelled: those are waited for.
 */
export function inProgressAction(policy: InProgressAction, status: string | undefined): InProgressAction {
  if (policy === 'cancel' && (status === 'RollbackInProgress' || status === 'Cancelling')) return 'wait';
  return policy;
}
