/**
 * `if-in-progress`: AWS runs one refresh per group at a time. Before this deploy changes anything, a refresh that
 * is already running fails the step, is waited for, or is cancelled and then waited for (it takes time to stop).
 */
import {
  ActiveInstanceRefreshNotFoundFault,
  InstanceRefreshInProgressFault,
  type AutoScalingClient,
  type StartInstanceRefreshCommandInput,
} from '@aws-sdk/client-auto-scaling';
import { errorMessage, isRefusal } from '../shared/errors.js';
import { poll, type TimelineEntry } from '../shared/poller.js';
import { activeRefresh, describeGroup, describeRefresh, findRequestedRefresh, startRefresh, stopRefresh } from './auto-scaling.js';
import { ACTIVE_STATUSES, inProgressAction, progressLine, type InProgressAction } from './refresh-status.js';
import { groupTemplate, type TemplateRef } from './template-ref.js';
import * as log from '../shared/log.js';

export interface OtherRefreshOptions {
  groupName: string;
  policy: InProgressAction;
  intervalMs: number;
  timeoutMs: number;
  signal: AbortSignal;
  /** What this deploy has done so far, for the messages of a step that ends here. */
  doneSoFar: string;
}

/** Returns once the group runs no refresh, with the timeline of the one waited for; throws when it cannot. */
export async function clearOtherRefresh(asg: AutoScalingClient, options: OtherRefreshOptions): Promise<TimelineEntry[]> {
  const { groupName, signal, doneSoFar } = options;
  const other = await activeRefresh(asg, groupName, signal);
  if (!other?.InstanceRefreshId) return [];
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
  const waited = await poll({
    check: (attempt) => describeRefresh(asg, groupName, id, attempt),
    done: (refresh) => !ACTIVE_STATUSES.has(refresh.Status ?? ''),
    describe: (refresh) => `Other refresh ${id}: ${progressLine(refresh)}`,
    intervalMs: options.intervalMs,
    timeoutMs: options.timeoutMs,
    signal,
  });
  if (waited.outcome === 'timeout') throw new Error(`Timed out waiting for instance refresh ${id} to end: ${doneSoFar}.`);
  if (waited.outcome === 'aborted') {
    throw new Error(`The run was cancelled while waiting for instance refresh ${id} to end: ${doneSoFar}.`);
  }
  if (waited.outcome === 'failed') {
    throw new Error(`Lost sight of instance refresh ${id} while waiting for it to end (${errorMessage(waited.error)}): ${doneSoFar}.`);
  }
  return waited.timeline;
}

/** How far AWS's clock may be behind ours when a refresh's start time is compared with the first attempt's. */
const CLOCK_SKEW_MS = 60_000;

/** Times StartInstanceRefresh may meet a refresh someone else started after this deploy looked. */
const MAX_START_ATTEMPTS = 3;

/**
 * Starts the refresh. When someone started another one after this deploy looked, that one is settled as
 * if-in-progress says and the start tried again, provided the group still runs the version the new one was made from.
 */
export async function startWhenFree(
  asg: AutoScalingClient,
  request: StartInstanceRefreshCommandInput,
  options: OtherRefreshOptions,
  made: { groupRef: TemplateRef; timeline: TimelineEntry[] },
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
    made.timeline.push(...(await clearOtherRefresh(asg, options)));
    const now = groupTemplate(await describeGroup(asg, groupName, options.signal));
    if (now.id !== made.groupRef.id || now.version !== made.groupRef.version) {
      throw new Error(
        `While this deploy waited, group ${groupName} moved to launch template ${now.name ?? now.id} version ` +
          `${now.version}: ${doneSoFar}. Run the deploy again.`,
      );
    }
  }
}
