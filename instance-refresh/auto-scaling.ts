/** The Auto Scaling calls of a deploy, each one request and one answer, with the group named in every failure. */
import {
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  type AutoScalingClient,
  type AutoScalingGroup,
  type InstanceRefresh,
  type StartInstanceRefreshCommandInput,
} from '@aws-sdk/client-auto-scaling';
import { ACTIVE_STATUSES } from './refresh-status.js';

export async function describeGroup(asg: AutoScalingClient, name: string, signal?: AbortSignal): Promise<AutoScalingGroup> {
  const answer = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }), {
    abortSignal: signal,
  });
  const group = answer.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === name);
  if (!group) throw new Error(`Auto Scaling group ${name} does not exist in this account and region.`);
  return group;
}

/** This refresh, by its ID: never the group's newest one, which another deploy may have started. */
export async function describeRefresh(
  asg: AutoScalingClient,
  groupName: string,
  id: string,
  signal?: AbortSignal,
): Promise<InstanceRefresh> {
  const answer = await asg.send(
    new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: groupName, InstanceRefreshIds: [id] }),
    { abortSignal: signal },
  );
  const refresh = answer.InstanceRefreshes?.find((r) => r.InstanceRefreshId === id);
  if (!refresh) throw new Error(`Instance refresh ${id} of group ${groupName} is not known to AWS.`);
  return refresh;
}

/** How many of the group's newest refreshes to look through for a running one (AWS runs one at a time). */
const RECENT_REFRESHES = 10;

/** The group's running refresh, if any. */
export async function activeRefresh(
  asg: AutoScalingClient,
  groupName: string,
  signal?: AbortSignal,
): Promise<InstanceRefresh | undefined> {
  const answer = await asg.send(
    new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: groupName, MaxRecords: RECENT_REFRESHES }),
    { abortSignal: signal },
  );
  return answer.InstanceRefreshes?.find((r) => ACTIVE_STATUSES.has(r.Status ?? ''));
}

/**
 * Whether `refresh` is the one `request` started: StartInstanceRefresh takes no client token, so a start whose answer
 * was lost (the SDK then retries and meets `InstanceRefreshInProgress` from its own refresh) is recognised by what it
 * asked for, the launch template version this deploy made (a number, never made twice), and its start time, no
 * earlier than `sinceMs` (the first attempt, less an allowance for clock skew).
 */
export function isRequestedRefresh(refresh: InstanceRefresh, request: StartInstanceRefreshCommandInput, sinceMs: number): boolean {
  const wanted = request.DesiredConfiguration?.LaunchTemplate;
  const desired = refresh.DesiredConfiguration?.LaunchTemplate;
  return (
    wanted !== undefined &&
    desired?.LaunchTemplateId === wanted.LaunchTemplateId &&
    desired?.Version === wanted.Version &&
    (refresh.StartTime?.getTime() ?? 0) >= sinceMs
  );
}

/** The group's newest refresh, if it is the one `request` started (see {@link isRequestedRefresh}). */
export async function findRequestedRefresh(
  asg: AutoScalingClient,
  request: StartInstanceRefreshCommandInput,
  sinceMs: number,
  signal?: AbortSignal,
): Promise<InstanceRefresh | undefined> {
  const answer = await asg.send(
    new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: request.AutoScalingGroupName, MaxRecords: RECENT_REFRESHES }),
    { abortSignal: signal },
  );
  const newest = [...(answer.InstanceRefreshes ?? [])].sort((a, b) => (b.StartTime?.getTime() ?? 0) - (a.StartTime?.getTime() ?? 0))[0];
  return newest && isRequestedRefresh(newest, request, sinceMs) ? newest : undefined;
}

export async function startRefresh(asg: AutoScalingClient, request: StartInstanceRefreshCommandInput): Promise<string> {
  const answer = await asg.send(new StartInstanceRefreshCommand(request));
  if (!answer.InstanceRefreshId) throw new Error('StartInstanceRefresh answered without an instance refresh ID.');
  return answer.InstanceRefreshId;
}

/** Cancels or rolls back the group's running refresh (AWS takes no refresh ID: there is only one). */
export async function stopRefresh(
  asg: AutoScalingClient,
  groupName: string,
  how: 'cancel' | 'rollback',
  signal?: AbortSignal,
): Promise<void> {
  const input = { AutoScalingGroupName: groupName };
  if (how === 'cancel') await asg.send(new CancelInstanceRefreshCommand(input), { abortSignal: signal });
  else await asg.send(new RollbackInstanceRefreshCommand(input), { abortSignal: signal });
}
