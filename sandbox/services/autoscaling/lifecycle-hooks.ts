/**
 * Auto Scaling lifecycle hooks: the hooks a group holds (PutLifecycleHook, DescribeLifecycleHooks,
 * DeleteLifecycleHook) and when a launching instance's lifecycle action ends. Pure functions: the group and the
 * refresh that launches instances live in `autoscaling.ts`, the instance refresh's timeline in `instance-refresh.ts`.
 *
 * AWS ("Amazon EC2 Auto Scaling lifecycle hooks", the API reference): a launching hook keeps each new instance in
 * `Pending:Wait` until `CompleteLifecycleAction` (CONTINUE or ABANDON) or until the heartbeat timeout elapses
 * (30-7200 s, default 3600), when the hook's DefaultResult (default ABANDON) applies. A heartbeat restarts the
 * timeout; an instance waits at most the global timeout, 100 heartbeat timeouts or 48 hours, whichever is smaller.
 */
import { AwsError, validationError } from '../../errors.js';
import { integer, text } from './query-params.js';

export type LifecycleResult = 'CONTINUE' | 'ABANDON';
export const LAUNCHING = 'autoscaling:EC2_INSTANCE_LAUNCHING';
export const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';

const DEFAULT_HEARTBEAT_SECONDS = 3600;
const MAX_GLOBAL_SECONDS = 172_800;
/** "Lifecycle hooks per Auto Scaling group: 50" (Auto Scaling service quotas). */
export const MAX_HOOKS_PER_GROUP = 50;

export interface LifecycleHook {
  name: string;
  groupName: string;
  transition: string;
  /** Seconds. */
  heartbeatTimeout: number;
  /** Seconds: min(100 x heartbeatTimeout, 48 h). */
  globalTimeout: number;
  defaultResult: LifecycleResult;
  notificationTargetArn?: string;
  roleArn?: string;
  notificationMetadata?: string;
}

/**
 * PutLifecycleHook's create-or-update, on parameters the model has checked (HeartbeatTimeout 30-7200 and the
 * enums are documented limits the model is given, `../../models/models.ts`). Returns the hook as stored; throws
 * AWS's ValidationError when a new hook has no transition, LimitExceeded beyond 50 hooks.
 */
export function putLifecycleHook(
  params: Record<string, unknown>,
  existing: LifecycleHook | undefined,
  hookCount: number,
): LifecycleHook {
  const name = String(params.LifecycleHookName);
  const transition = text(params.LifecycleTransition) ?? existing?.transition;
  if (transition === undefined) {
    throw validationError('LifecycleTransition is required when you create a lifecycle hook.');
  }
  if (!existing && hookCount >= MAX_HOOKS_PER_GROUP) {
    throw new AwsError(
      'LimitExceeded',
      `Lifecycle hook limit reached. You can have a maximum of ${MAX_HOOKS_PER_GROUP} lifecycle hooks per Auto Scaling group.`,
    );
  }
  const heartbeatTimeout = integer(params.HeartbeatTimeout) ?? existing?.heartbeatTimeout ?? DEFAULT_HEARTBEAT_SECONDS;
  // The empty string clears the notification target, as PutLifecycleHook documents.
  const target = text(params.NotificationTargetARN);
  return {
    name,
    groupName: String(params.AutoScalingGroupName),
    transition,
    heartbeatTimeout,
    globalTimeout: Math.min(100 * heartbeatTimeout, MAX_GLOBAL_SECONDS),
    defaultResult: (text(params.DefaultResult) ?? existing?.defaultResult ?? 'ABANDON') as LifecycleResult,
    notificationTargetArn: target === undefined ? existing?.notificationTargetArn : target || undefined,
    roleArn: text(params.RoleARN) ?? existing?.roleArn,
    notificationMetadata: text(params.NotificationMetadata) ?? existing?.notificationMetadata,
  };
}

/** A hook as DescribeLifecycleHooks answers it. */
export function lifecycleHookView(hook: LifecycleHook): Record<string, unknown> {
  return {
    LifecycleHookName: hook.name,
    AutoScalingGroupName: hook.groupName,
    LifecycleTransition: hook.transition,
    NotificationTargetARN: hook.notificationTargetArn,
    RoleARN: hook.roleArn,
    NotificationMetadata: hook.notificationMetadata,
    HeartbeatTimeout: hook.heartbeatTimeout,
    GlobalTimeout: hook.globalTimeout,
    DefaultResult: hook.defaultResult,
  };
}

/** A launching hook as an instance refresh captures it when it starts: milliseconds. */
export interface GateHook {
  name: string;
  heartbeatMs: number;
  globalMs: number;
  defaultResult: LifecycleResult;
}

export const gateHook = (hook: LifecycleHook): GateHook => ({
  name: hook.name,
  heartbeatMs: 1000 * hook.heartbeatTimeout,
  globalMs: 1000 * hook.globalTimeout,
  defaultResult: hook.defaultResult,
});

/** A CompleteLifecycleAction or RecordLifecycleActionHeartbeat accepted for one replacement (`slot`) and hook. */
export interface ActionEvent {
  slot: number;
  hook: string;
  kind: 'complete' | 'heartbeat';
  atMs: number;
  result?: LifecycleResult;
}

export interface Resolution {
  result: LifecycleResult;
  atMs: number;
  /** `completed` by CompleteLifecycleAction, or the timeout that applied the DefaultResult. */
  cause: 'completed' | 'heartbeat-timeout' | 'global-timeout';
  /** The hook whose action decided it. */
  hook: string;
}

/**
 * How one hook's action for an instance launched at `launchMs` ended, by `nowMs`; undefined while it waits.
 * `events` are that instance's and hook's, in any order.
 */
export function resolveAction(hook: GateHook, launchMs: number, events: readonly ActionEvent[], nowMs: number): Resolution | undefined {
  const globalEnd = launchMs + hook.globalMs;
  let deadline = launchMs + hook.heartbeatMs;
  const inTime = [...events].filter((e) => e.atMs <= nowMs).sort((a, b) => a.atMs - b.atMs);
  for (const event of inTime) {
    if (event.atMs >= Math.min(deadline, globalEnd)) break;
    if (event.kind === 'complete') return { result: event.result ?? 'CONTINUE', atMs: event.atMs, cause: 'completed', hook: hook.name };
    deadline = event.atMs + hook.heartbeatMs;
  }
  const end = Math.min(deadline, globalEnd);
  if (nowMs < end) return undefined;
  return { result: hook.defaultResult, atMs: end, cause: deadline <= globalEnd ? 'heartbeat-timeout' : 'global-timeout', hook: hook.name };
}

/**
 * How an instance that waits on every hook in `hooks` leaves `Pending:Wait`: at the first ABANDON, or CONTINUE once
 * all hooks continued (at the last one); undefined while that is still open at `nowMs`.
 */
export function resolveLaunch(
  hooks: readonly GateHook[],
  slot: number,
  launchMs: number,
  events: readonly ActionEvent[],
  nowMs: number,
): Resolution | undefined {
  const mine = events.filter((e) => e.slot === slot);
  const ends = hooks.map((hook) => resolveAction(hook, launchMs, mine.filter((e) => e.hook === hook.name), nowMs));
  const abandons = ends.filter((r): r is Resolution => r?.result === 'ABANDON').sort((a, b) => a.atMs - b.atMs);
  if (abandons.length > 0) return abandons[0];
  if (ends.some((r) => r === undefined)) return undefined;
  const done = ends as Resolution[];
  return done.reduce((last, r) => (r.atMs > last.atMs ? r : last), done[0]);
}

/**
 * The words of an abandoned launch, as Auto Scaling's scaling activity gives them ("Instance failed to complete
 * user's Lifecycle Action: Lifecycle Action with token ... was abandoned: ..."). The description and the first two
 * causes are quoted from AWS's knowledge-center article "lifecycle-actions-code-deploy" (DescribeScalingActivities
 * output); the global-timeout wording follows their form and is not quoted from AWS.
 */
export function abandonedLaunchReason(instanceId: string, token: string, resolution: Resolution): string {
  const why = {
    completed: 'Lifecycle Action Completed with ABANDON Result',
    'heartbeat-timeout': 'Heartbeat Timeout',
    'global-timeout': 'Global Timeout',
  }[resolution.cause];
  return (
    `Launching a new EC2 instance: ${instanceId}. Status Reason: Instance failed to complete user's Lifecycle Action: ` +
    `Lifecycle Action with token ${token} was abandoned: ${why}`
  );
}

/** CompleteLifecycleAction and RecordLifecycleActionHeartbeat when no action waits, in AWS's words. */
export const noActiveAction = (by: { instanceId?: string; token?: string }): AwsError =>
  validationError(
    by.token !== undefined
      ? `No active Lifecycle Action found with token ${by.token}`
      : `No active Lifecycle Action found with instance ID ${by.instanceId}`,
  );
