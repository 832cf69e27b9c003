import { describe, expect, it } from '@jest/globals';
import {
  commandAt,
  concurrencyLimit,
  errorBudget,
  schedule,
  TIMING,
  type CommandPlan,
  type InvocationOutcome,
} from './commands.js';

const ok: InvocationOutcome = { status: 'Success', durationSeconds: 10 };
const fail: InvocationOutcome = { status: 'Failed', durationSeconds: 10 };

function plan(outcomes: InvocationOutcome[], overrides: Partial<CommandPlan> = {}): CommandPlan {
  return {
    sentAtMs: 0,
    byTargets: false,
    targets: outcomes.map((outcome, i) => ({ instanceId: `i-0000000${i + 1}`, outcome })),
    maxConcurrency: '50',
    maxErrors: '0',
    deliveryTimeoutSeconds: 3600,
    executionTimeoutSeconds: 3600,
    cancellations: [],
    ...overrides,
  };
}

/** `Status/StatusDetails` of the command, then of each invocation. */
function at(p: CommandPlan, seconds: number): string[] {
  const view = commandAt(schedule(p), seconds * 1000);
  return [`${view.status}/${view.statusDetails}`, ...view.invocations.map((v) => `${v.status}/${v.statusDetails}`)];
}

describe('rate controls', () => {
  it.each([
    ['50', 10, 50],
    ['50%', 10, 5],
    ['10%', 5, 1],
    ['100%', 7, 7],
    ['3', 100, 3],
  ])('MaxConcurrency %s of %i targets runs %i at once', (value, targets, expected) => {
    expect(concurrencyLimit(value, targets)).toBe(expected);
  });

  it.each([
    ['0', 10, 0],
    ['2', 10, 2],
    ['10%', 50, 5],
    ['50%', 3, 1],
    ['9%', 10, 0],
  ])('MaxErrors %s of %i targets tolerates %i errors', (value, targets, expected) => {
    expect(errorBudget(value, targets)).toBe(expected);
  });

  it.each([
    // 10 instances of 10 s each: 1 at a time, then 2, then 4, then the last 3.
    ['50', [1, 1, 2, 4, 3, 0]],
    ['2', [1, 1, 2, 2, 2, 2]],
    ['1', [1, 1, 1, 1, 1, 1]],
  ])('ramps up from one instance (MaxConcurrency %s)', (maxConcurrency, running) => {
    const p = plan(Array(10).fill(ok), { maxConcurrency });
    const inProgress = [1, 10, 11, 21, 31, 41].map((s) => at(p, s).slice(1).filter((x) => x === 'InProgress/InProgress').length);
    expect(inProgress).toEqual(running);
  });
});

describe('command timeline', () => {
  const cases: [string, CommandPlan, [number, string[]][]][] = [
    [
      'three successes',
      plan([ok, ok, ok]),
      [
        [0, ['Pending/Pending', 'Pending/Pending', 'Pending/Pending', 'Pending/Pending']],
        [1, ['InProgress/InProgress', 'InProgress/InProgress', 'Pending/Pending', 'Pending/Pending']],
        [11, ['InProgress/InProgress', 'Success/Success', 'InProgress/InProgress', 'InProgress/InProgress']],
        [20.5, ['Success/Success', 'Success/Success', 'Success/Success', 'Success/Success']],
      ],
    ],
    [
      'a failure beyond MaxErrors terminates what has not started',
      plan([ok, fail, ok, ok, ok], { maxConcurrency: '1' }),
      [
        [15, ['InProgress/InProgress', 'Success/Success', 'InProgress/InProgress', 'Pending/Pending', 'Pending/Pending', 'Pending/Pending']],
        [21, ['Failed/Failed', 'Success/Success', 'Failed/Failed', 'Cancelled/Terminated', 'Cancelled/Terminated', 'Cancelled/Terminated']],
      ],
    ],
    [
      'invocations in flight finish after MaxErrors is exceeded',
      plan([ok, { status: 'Failed', durationSeconds: 1 }, ok, ok], { maxConcurrency: '2' }),
      [
        [12, ['InProgress/InProgress', 'Success/Success', 'Failed/Failed', 'InProgress/InProgress', 'Cancelled/Terminated']],
        [20.5, ['Failed/Failed', 'Success/Success', 'Failed/Failed', 'Success/Success', 'Cancelled/Terminated']],
      ],
    ],
    [
      'a failure within MaxErrors leaves the command incomplete, not failed',
      plan([ok, fail, ok], { maxErrors: '1' }),
      [[30, ['Success/Incomplete', 'Success/Success', 'Failed/Failed', 'Success/Success']]],
    ],
    [
      'MaxErrors as a percentage of the targets',
      plan([fail, ok, ok, ok, ok, ok, ok, ok, ok, ok], { maxErrors: '10%', maxConcurrency: '1' }),
      [[200, ['Success/Incomplete', 'Failed/Failed', ...Array(9).fill('Success/Success')]]],
    ],
    [
      'an execution timeout counts as an error',
      plan([{ status: 'TimedOut' }], { executionTimeoutSeconds: 100 }),
      [
        [100, ['InProgress/InProgress', 'InProgress/InProgress']],
        [100.5, ['TimedOut/ExecutionTimedOut', 'TimedOut/ExecutionTimedOut']],
      ],
    ],
    [
      'a script running past the execution timeout is killed',
      plan([{ status: 'Success', durationSeconds: 500 }], { executionTimeoutSeconds: 100 }),
      [[101, ['TimedOut/ExecutionTimedOut', 'TimedOut/ExecutionTimedOut']]],
    ],
    [
      'an agent that never answers is Delayed until the command expires',
      plan([{ status: 'DeliveryTimedOut' }], { deliveryTimeoutSeconds: 30, executionTimeoutSeconds: 100 }),
      [
        [129, ['InProgress/InProgress', 'Delayed/Delayed']],
        [130, ['TimedOut/DeliveryTimedOut', 'TimedOut/DeliveryTimedOut']],
      ],
    ],
    [
      'instances not reached before the delivery timeout never run',
      plan([{ status: 'Success', durationSeconds: 40 }, ok], { maxConcurrency: '1', deliveryTimeoutSeconds: 30 }),
      [
        [30, ['InProgress/InProgress', 'InProgress/InProgress', 'TimedOut/DeliveryTimedOut']],
        [41, ['Success/Incomplete', 'Success/Success', 'TimedOut/DeliveryTimedOut']],
      ],
    ],
    [
      'undeliverable instances do not count against a success',
      plan([{ status: 'Undeliverable' }, ok]),
      [
        [0.5, ['InProgress/InProgress', 'Failed/Undeliverable', 'InProgress/InProgress']],
        [11, ['Success/Success', 'Failed/Undeliverable', 'Success/Success']],
      ],
    ],
    [
      'nothing but undeliverable instances fails the command',
      plan([{ status: 'Undeliverable' }, { status: 'InvalidPlatform' }]),
      [[1, ['Failed/Failed', 'Failed/Undeliverable', 'Failed/InvalidPlatform']]],
    ],
    ['access denied everywhere', plan([{ status: 'AccessDenied' }]), [[1, ['Failed/AccessDenied', 'Failed/AccessDenied']]]],
    ['cancelled on the instance', plan([{ status: 'Cancelled', durationSeconds: 2 }]), [[3, ['Cancelled/Cancelled', 'Cancelled/Cancelled']]]],
    [
      'tag targets appear only after resolution',
      plan([ok], { byTargets: true }),
      [
        [1, ['Pending/Pending']],
        [2, ['Pending/Pending', 'Pending/Pending']],
        [2.5, ['InProgress/InProgress', 'InProgress/InProgress']],
      ],
    ],
    [
      'tags that match nothing',
      plan([], { byTargets: true }),
      [
        [1, ['Pending/Pending']],
        [2, ['Success/NoInstancesInTag']],
      ],
    ],
    [
      'cancelling the command',
      plan([ok, ok, ok], { cancellations: [{ atMs: 5000 }] }),
      [
        [5, ['Cancelling/Cancelling', 'Cancelling/Cancelling', 'Cancelled/Cancelled', 'Cancelled/Cancelled']],
        [6, ['Cancelled/Cancelled', 'Cancelled/Cancelled', 'Cancelled/Cancelled', 'Cancelled/Cancelled']],
      ],
    ],
    [
      'cancelling one instance',
      plan([ok, ok, ok], { cancellations: [{ atMs: 5000, instanceIds: ['i-00000003'] }] }),
      [
        [5, ['InProgress/InProgress', 'InProgress/InProgress', 'Pending/Pending', 'Cancelled/Cancelled']],
        [21, ['Success/Incomplete', 'Success/Success', 'Success/Success', 'Cancelled/Cancelled']],
      ],
    ],
    [
      'cancelling before the targets are resolved',
      plan([ok], { byTargets: true, cancellations: [{ atMs: 1000 }] }),
      [
        [0.5, ['Pending/Pending']],
        [1, ['Cancelled/Cancelled']],
        [30, ['Cancelled/Cancelled']],
      ],
    ],
  ];

  it.each(cases)('%s', (_, p, points) => {
    for (const [seconds, expected] of points) {
      expect({ seconds, statuses: at(p, seconds) }).toEqual({ seconds, statuses: expected });
    }
  });

  it('counts completions, errors and delivery timeouts', () => {
    const p = plan([fail, { status: 'DeliveryTimedOut' }, ok, { status: 'TimedOut', durationSeconds: 5 }], {
      maxErrors: '5',
      deliveryTimeoutSeconds: 30,
      executionTimeoutSeconds: 60,
    });
    expect(commandAt(schedule(p), 100_000)).toMatchObject({
      targetCount: 4,
      completedCount: 4,
      errorCount: 2,
      deliveryTimedOutCount: 1,
    });
  });

  it('reports exit codes, output and run times', () => {
    const p = plan([{ status: 'Failed', responseCode: 4, stdout: 'out', stderr: 'err', durationSeconds: 3 }]);
    const start = TIMING.dispatchDelayMs;
    expect(commandAt(schedule(p), 1000).invocations[0]).toMatchObject({ responseCode: -1, stdout: '', startedAtMs: start });
    expect(commandAt(schedule(p), 4000).invocations[0]).toMatchObject({
      responseCode: 4,
      stdout: 'out',
      stderr: 'err',
      startedAtMs: start,
      endedAtMs: start + 3000,
    });
  });

  it('a cancellation leaves everything before it unchanged', () => {
    const base = plan(Array(6).fill(ok), { maxConcurrency: '3' });
    const cancelled = { ...base, cancellations: [{ atMs: 25_000 }] };
    for (const ms of [0, 1000, 10_500, 20_000, 24_999]) {
      expect(commandAt(schedule(cancelled), ms)).toEqual(commandAt(schedule(base), ms));
    }
    expect(commandAt(schedule(cancelled), 25_000).status).toBe('Cancelling');
  });
});
