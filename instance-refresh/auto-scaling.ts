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
