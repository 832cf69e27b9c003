/**
 * Every AWS call of a deploy, and the waits built from them: the group and its launch template version read, the new
 * version made, another refresh waited for or cancelled, this deploy's refresh started, followed by its ID and, on
 * `on-abort`, cancelled or rolled back. Each function returns what it learned; the decisions are plan.ts's, the
 * outputs and summary main.ts's.
 */
import {
  ActiveInstanceRefreshNotFoundFault,
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  DescribeLifecycleHooksCommand,
  InstanceRefreshInProgressFault,
  IrreversibleInstanceRefreshFault,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  type AutoScalingClient,
  type AutoScalingGroup,
  type InstanceRefresh,
  type LifecycleHook,
  type StartInstanceRefreshCommandInput,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateVersionCommand,
  DescribeImagesCommand,
  DescribeLaunchTemplateVersionsCommand,
  type CreateLaunchTemplateVersionCommandInput,
  type EC2Client,
  type ResponseLaunchTemplateData,
} from '@aws-sdk/client-ec2';
import { abortBudgetMs, abortCalls, type AbortCause } from '../shared/abort-budget.js';
import { errorMessage, isRefusal } from '../shared/errors.js';
import * as log from '../shared/log.js';
import { poll, type PollResult, type TimelineEntry } from '../shared/poller.js';
import type { InstanceRefreshInputs } from './inputs.js';
import {
  ACTIVE_STATUSES,
  groupTemplate,
  inProgressAction,
  isRequestedRefresh,
  progressLine,
  type ImageFacts,
  type InProgressAction,
  type TemplateRef,
} from './plan.js';

// ---- Auto Scaling: one request and one answer each, the group named in every failure ----

export async function describeGroup(asg: AutoScalingClient, name: string, signal?: AbortSignal): Promise<AutoScalingGroup> {
  const answer = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }), {
    abortSignal: signal,
  });
  const group = answer.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === name);
  if (!group) throw new Error(`Auto Scaling group ${name} does not exist in this account and region.`);
  return group;
}

/** The group's lifecycle hooks (all of them: a group has at most 50), for the readiness gate. */
export async function describeLifecycleHooks(asg: AutoScalingClient, groupName: string, signal?: AbortSignal): Promise<LifecycleHook[]> {
  const answer = await asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: groupName }), { abortSignal: signal });
  return answer.LifecycleHooks ?? [];
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

/** The group's newest refresh, if it is the one `request` started (see plan.ts's `isRequestedRefresh`). */
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

// ---- EC2: read the version to start from, make the new one ----

export interface ResolvedVersion {
  templateId: string;
  templateName?: string;
  /** `$Latest` and `$Default` resolved to the number they stand for now. */
  number: number;
  data: ResponseLaunchTemplateData;
}

export async function describeVersion(ec2: EC2Client, ref: TemplateRef, signal?: AbortSignal): Promise<ResolvedVersion> {
  const answer = await ec2.send(
    new DescribeLaunchTemplateVersionsCommand({
      LaunchTemplateId: ref.id,
      LaunchTemplateName: ref.id ? undefined : ref.name,
      Versions: [ref.version],
    }),
    { abortSignal: signal },
  );
  const version = answer.LaunchTemplateVersions?.[0];
  if (!version?.LaunchTemplateId || version.VersionNumber === undefined) {
    throw new Error(`Launch template ${ref.id ?? ref.name} has no version ${ref.version}.`);
  }
  return {
    templateId: version.LaunchTemplateId,
    templateName: version.LaunchTemplateName,
    number: version.VersionNumber,
    data: version.LaunchTemplateData ?? {},
  };
}

/**
 * The AMIs among `ids` that EC2 lists in the client's region, deprecated and disabled ones too (with their state);
 * an ID it does not know is left out, not an error: the IDs go in an `image-id` filter, not `ImageIds` (which fails
 * the whole call with InvalidAMIID.NotFound). AMIs of other accounts are listed when shared with this one.
 */
export async function describeImages(ec2: EC2Client, ids: readonly string[], signal?: AbortSignal): Promise<ImageFacts[]> {
  const answer = await ec2.send(
    new DescribeImagesCommand({ Filters: [{ Name: 'image-id', Values: [...new Set(ids)] }], IncludeDeprecated: true, IncludeDisabled: true }),
    { abortSignal: signal },
  );
  return answer.Images ?? [];
}

export async function createVersion(ec2: EC2Client, request: CreateLaunchTemplateVersionCommandInput): Promise<number> {
  const answer = await ec2.send(new CreateLaunchTemplateVersionCommand(request));
  const number = answer.LaunchTemplateVersion?.VersionNumber;
  if (number === undefined) throw new Error('CreateLaunchTemplateVersion answered without a version number.');
  return number;
}

// ---- Waits on a refresh ----

export interface WaitOptions {
  intervalMs: number;
  timeoutMs: number;
  signal: AbortSignal;
}

/**
 * Looks at refresh `refreshId` every `intervalMs` until `until` says it is over (see shared/poller.ts for the bounds
 * and the four endings), logging each new progress line with `prefix`, and handing every answer to `seen` as it comes.
 */
export function watchRefresh(
  asg: AutoScalingClient,
  target: { groupName: string; refreshId: string },
  until: (refresh: InstanceRefresh) => boolean,
  wait: WaitOptions,
  seen: (refresh: InstanceRefresh) => void = () => undefined,
  prefix = '',
): Promise<PollResult<InstanceRefresh>> {
  return poll({
    check: (attempt) => describeRefresh(asg, target.groupName, target.refreshId, attempt),
    done: until,
    describe: (refresh) => {
      seen(refresh);
      return `${prefix}${progressLine(refresh)}`;
    },
    intervalMs: wait.intervalMs,
    timeoutMs: wait.timeoutMs,
    signal: wait.signal,
  });
}

// ---- if-in-progress: another refresh before this deploy's ----

export interface OtherRefreshOptions extends WaitOptions {
  groupName: string;
  policy: InProgressAction;
  /** What this deploy has done so far, for the messages of a step that ends here. */
  doneSoFar: string;
}

/** Another refresh this deploy waited for (after cancelling it, with if-in-progress: cancel). */
export interface OtherRefresh {
  id: string;
  /** When this deploy found it running, and when it saw it ended. */
  from: Date;
  to: Date;
  timeline: TimelineEntry[];
}

/**
 * `if-in-progress`: AWS runs one refresh per group at a time. Before this deploy changes anything, a refresh that is
 * already running fails the step, is waited for, or is cancelled and then waited for (it takes time to stop).
 * Returns once the group runs no refresh, with the one waited for (none when nothing ran); throws when it cannot.
 */
export async function clearOtherRefresh(asg: AutoScalingClient, options: OtherRefreshOptions): Promise<OtherRefresh | undefined> {
  const { groupName, signal, doneSoFar } = options;
  const from = new Date();
  const other = await activeRefresh(asg, groupName, signal);
  if (!other?.InstanceRefreshId) return undefined;
  const id = other.InstanceRefreshId;
  const action = inProgressAction(options.policy, other.Status);
  const running = `Instance refresh ${id} is ${other.Status} on group ${groupName}`;
  if (action === 'fail') throw new Error(`${running} and if-in-progress is fail: ${doneSoFar}.`);
  if (action === 'cancel') {
    log.info(`${running}: cancelling it (if-in-progress: cancel).`);
    try {
      await stopRefresh(asg, groupName, 'cancel', signal);
    } catch (error) {
      if (!(error instanceof ActiveInstanceRefreshNotFoundFault)) throw error;
    }
  } else {
    log.info(`${running}: waiting for it to end (if-in-progress: ${options.policy}).`);
  }
  const ended = (refresh: InstanceRefresh) => !ACTIVE_STATUSES.has(refresh.Status ?? '');
  const waited = await watchRefresh(asg, { groupName, refreshId: id }, ended, options, undefined, `Other refresh ${id}: `);
  if (waited.outcome === 'timeout') throw new Error(`Timed out waiting for instance refresh ${id} to end: ${doneSoFar}.`);
  if (waited.outcome === 'aborted') {
    throw new Error(`The run was cancelled while waiting for instance refresh ${id} to end: ${doneSoFar}.`);
  }
  if (waited.outcome === 'failed') {
    throw new Error(`Lost sight of instance refresh ${id} while waiting for it to end (${errorMessage(waited.error)}): ${doneSoFar}.`);
  }
  return { id, from, to: new Date(), timeline: waited.timeline };
}

/** How far AWS's clock may be behind ours when a refresh's start time is compared with the first attempt's. */
const CLOCK_SKEW_MS = 60_000;

/** Times StartInstanceRefresh may meet a refresh someone else started after this deploy looked. */
const MAX_START_ATTEMPTS = 3;

/**
 * Starts the refresh and returns its ID. When someone started another one after this deploy looked, that one is
 * settled as if-in-progress says (and handed to `waited`) and the start tried again, provided the group still runs
 * the version the new one was made from (`groupRef`). An unanswered start is looked for before it is taken for
 * another's: StartInstanceRefresh takes no client token.
 */
export async function startWhenFree(
  asg: AutoScalingClient,
  request: StartInstanceRefreshCommandInput,
  options: OtherRefreshOptions,
  groupRef: TemplateRef,
  waited: (other: OtherRefresh) => void,
): Promise<string> {
  const { groupName, doneSoFar } = options;
  const sinceMs = Date.now() - CLOCK_SKEW_MS;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startRefresh(asg, request);
    } catch (error) {
      // An attempt that got no answer may have started the refresh: the SDK's retry then meets it as "in progress",
      // or fails as the first did. Look for it before taking it for another deploy's, or failing.
      if (error instanceof InstanceRefreshInProgressFault || !isRefusal(error)) {
        const own = await findRequestedRefresh(asg, request, sinceMs, options.signal).catch(() => undefined);
        if (own?.InstanceRefreshId) {
          log.info(`An unanswered StartInstanceRefresh had started instance refresh ${own.InstanceRefreshId}: following it, not starting again.`);
          return own.InstanceRefreshId;
        }
      }
      if (!(error instanceof InstanceRefreshInProgressFault) || attempt >= MAX_START_ATTEMPTS) throw error;
    }
    log.info('Another instance refresh started after this deploy looked.');
    const other = await clearOtherRefresh(asg, options);
    if (other) waited(other);
    const now = groupTemplate(await describeGroup(asg, groupName, options.signal));
    if (now.id !== groupRef.id || now.version !== groupRef.version) {
      throw new Error(
        `While this deploy waited, group ${groupName} moved to launch template ${now.name ?? now.id} version ` +
          `${now.version}: ${doneSoFar}. Run the deploy again.`,
      );
    }
  }
}

// ---- on-abort ----

export interface AbortTarget {
  groupName: string;
  refreshId: string;
  /** Where a rollback returns the group (`3`, `3 of launch template web`). */
  sourceVersion: number | string;
}

/**
 * `on-abort`: what happens to this deploy's refresh when the timeout passes or the run is cancelled. It must be done
 * before the runner kills the process (SIGTERM 7.5 s after SIGINT) after a cancellation, so every call shares one
 * budget, short after a cancellation, longer after a timeout (shared/abort-budget.ts).
 *
 * Carries out `onAbort` within the budget `cause` gives it and says, in a sentence, what was done. The refresh is
 * read first (one attempt), since cancel and rollback act on whatever refresh the group is running; if that read
 * fails, the call is made anyway: a wait that lost sight of the refresh lost it by this very read, and AWS answers
 * `ActiveInstanceRefreshNotFound` when nothing runs. Never throws.
 */
export async function carryOutAbort(
  asg: AutoScalingClient,
  target: AbortTarget,
  onAbort: InstanceRefreshInputs['onAbort'],
  cause: AbortCause,
  say: (line: string) => void = log.info,
): Promise<string> {
  const { groupName, refreshId } = target;
  if (onAbort === 'leave') return `Left instance refresh ${refreshId} running (on-abort: leave).`;
  const calls = abortCalls(abortBudgetMs(cause), say);
  let unchecked = '';
  try {
    const refresh = await calls.call('DescribeInstanceRefreshes', (signal) => describeRefresh(asg, groupName, refreshId, signal), 1);
    if (!ACTIVE_STATUSES.has(refresh.Status ?? '')) {
      return `Instance refresh ${refreshId} had already ended (${refresh.Status}): nothing to ${onAbort}.`;
    }
  } catch (error) {
    unchecked = ` (could not read it first: ${errorMessage(error)}; sent ${onAbort} to the group's running refresh anyway)`;
    say(`Could not read instance refresh ${refreshId} before the ${onAbort}: ${errorMessage(error)}; sending it anyway.`);
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
