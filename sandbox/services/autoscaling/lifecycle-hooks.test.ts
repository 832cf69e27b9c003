import { describe, expect, it } from '@jest/globals';
import {
  abandonedLaunchReason,
  putLifecycleHook,
  resolveAction,
  resolveLaunch,
  type ActionEvent,
  type GateHook,
  type LifecycleHook,
} from './lifecycle-hooks.js';

const s = (seconds: number): number => seconds * 1000;

describe('putLifecycleHook', () => {
  const base = { AutoScalingGroupName: 'web', LifecycleHookName: 'ready' };
  const existing: LifecycleHook = {
    name: 'ready',
    groupName: 'web',
    transition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
    heartbeatTimeout: 900,
    globalTimeout: 90_000,
    defaultResult: 'CONTINUE',
    notificationTargetArn: 'arn:aws:sns:us-east-1:123456789012:hooks',
    roleArn: 'arn:aws:iam::123456789012:role/hooks',
  };
  it.each<[string, Record<string, unknown>, LifecycleHook | undefined, Partial<LifecycleHook>]>([
    ['defaults: an hour, ABANDON', { LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' }, undefined, { heartbeatTimeout: 3600, globalTimeout: 172_800, defaultResult: 'ABANDON' }],
    ['global timeout is 100 heartbeats below 48 h', { LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: '300' }, undefined, { heartbeatTimeout: 300, globalTimeout: 30_000 }],
    ['an update keeps what it does not name', { HeartbeatTimeout: '600' }, existing, { transition: existing.transition, defaultResult: 'CONTINUE', heartbeatTimeout: 600, globalTimeout: 60_000, roleArn: existing.roleArn }],
    ['an empty notification target clears it', { NotificationTargetARN: '' }, existing, { notificationTargetArn: undefined, heartbeatTimeout: 900 }],
    ['a terminating hook', { LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', DefaultResult: 'CONTINUE' }, undefined, { transition: 'autoscaling:EC2_INSTANCE_TERMINATING', defaultResult: 'CONTINUE' }],
  ])('%s', (_name, params, before, expected) => {
    expect(putLifecycleHook({ ...base, ...params }, before, 0)).toMatchObject(expected);
  });

  it.each<[string, Record<string, unknown>, number, RegExp]>([
    ['a new hook without a transition', {}, 0, /LifecycleTransition is required/],
    ['a 51st hook', { LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' }, 50, /maximum of 50 lifecycle hooks/],
  ])('refuses %s', (_name, params, count, message) => {
    expect(() => putLifecycleHook({ ...base, ...params }, undefined, count)).toThrow(message);
  });
});

const hook: GateHook = { name: 'ready', heartbeatMs: s(300), globalMs: s(1000), defaultResult: 'ABANDON' };
const at = (seconds: number, kind: ActionEvent['kind'], result?: ActionEvent['result'], slot = 0, name = 'ready'): ActionEvent => ({
  slot,
  hook: name,
  kind,
  atMs: s(seconds),
  result,
});

describe('resolveAction (launched at 100 s, heartbeat 300 s, global 1000 s, default ABANDON)', () => {
  it.each<[string, ActionEvent[], number, object | undefined]>([
    ['waiting', [], 399, undefined],
    ['heartbeat timeout applies the default', [], 400, { result: 'ABANDON', atMs: s(400), cause: 'heartbeat-timeout' }],
    ['completed CONTINUE', [at(150, 'complete', 'CONTINUE')], 500, { result: 'CONTINUE', atMs: s(150), cause: 'completed' }],
    ['completed ABANDON', [at(150, 'complete', 'ABANDON')], 500, { result: 'ABANDON', atMs: s(150), cause: 'completed' }],
    ['a completion not yet made does not count', [at(150, 'complete', 'CONTINUE')], 149, undefined],
    ['a heartbeat restarts the timeout', [at(350, 'heartbeat')], 649, undefined],
    ['... which then elapses', [at(350, 'heartbeat')], 650, { result: 'ABANDON', atMs: s(650), cause: 'heartbeat-timeout' }],
    ['completion after a heartbeat', [at(350, 'heartbeat'), at(600, 'complete', 'CONTINUE')], 700, { result: 'CONTINUE', atMs: s(600) }],
    ['events in any order', [at(600, 'complete', 'CONTINUE'), at(350, 'heartbeat')], 700, { result: 'CONTINUE', atMs: s(600) }],
    ['a completion after the timeout is too late', [at(450, 'complete', 'CONTINUE')], 500, { result: 'ABANDON', atMs: s(400) }],
    ['heartbeats cannot pass the global timeout', [at(350, 'heartbeat'), at(600, 'heartbeat'), at(850, 'heartbeat'), at(1050, 'heartbeat')], 1100, { result: 'ABANDON', atMs: s(1100), cause: 'global-timeout' }],
  ])('%s', (_name, events, nowSeconds, expected) => {
    const resolution = resolveAction(hook, s(100), events, s(nowSeconds));
    if (expected === undefined) expect(resolution).toBeUndefined();
    else expect(resolution).toMatchObject(expected);
  });

  it('applies CONTINUE when that is the default', () => {
    expect(resolveAction({ ...hook, defaultResult: 'CONTINUE' }, 0, [], s(300))).toMatchObject({ result: 'CONTINUE', cause: 'heartbeat-timeout' });
  });
});

describe('resolveLaunch with two hooks', () => {
  const hooks: GateHook[] = [hook, { ...hook, name: 'warm', defaultResult: 'CONTINUE' }];
  it.each<[string, ActionEvent[], number, object | undefined]>([
    ['one of two continued: still waiting', [at(10, 'complete', 'CONTINUE')], 20, undefined],
    ['both continued: at the last', [at(10, 'complete', 'CONTINUE'), at(20, 'complete', 'CONTINUE', 0, 'warm')], 30, { result: 'CONTINUE', atMs: s(20), hook: 'warm' }],
    ['one abandons: at once, the other still open', [at(10, 'complete', 'ABANDON', 0, 'warm')], 30, { result: 'ABANDON', atMs: s(10), hook: 'warm' }],
    ["another slot's events do not count", [at(10, 'complete', 'CONTINUE', 1), at(10, 'complete', 'CONTINUE', 1, 'warm')], 30, undefined],
    ['the earliest abandon wins', [at(290, 'heartbeat', undefined, 0, 'warm'), at(250, 'complete', 'CONTINUE', 0, 'warm')], 400, { result: 'ABANDON', atMs: s(300), hook: 'ready', cause: 'heartbeat-timeout' }],
  ])('%s', (_name, events, nowSeconds, expected) => {
    const resolution = resolveLaunch(hooks, 0, 0, events, s(nowSeconds));
    if (expected === undefined) expect(resolution).toBeUndefined();
    else expect(resolution).toMatchObject(expected);
  });
});

describe('abandonedLaunchReason', () => {
  it.each([
    ['completed', 'Lifecycle Action Completed with ABANDON Result'],
    ['heartbeat-timeout', 'Heartbeat Timeout'],
    ['global-timeout', 'Global Timeout'],
  ] as const)('%s', (cause, words) => {
    expect(abandonedLaunchReason('i-0abc', 'tok', { result: 'ABANDON', atMs: 0, cause, hook: 'ready' })).toBe(
      `Launching a new EC2 instance: i-0abc. Status Reason: Instance failed to complete user's Lifecycle Action: Lifecycle Action with token tok was abandoned: ${words}`,
    );
  });
});
