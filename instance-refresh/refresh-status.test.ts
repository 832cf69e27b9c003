import type { InstanceRefresh } from '@aws-sdk/client-auto-scaling';
import { describe, expect, it } from '@jest/globals';
import { inProgressAction, progressLine, verdict, type InProgressAction, type Verdict } from './refresh-status.js';

const VERSIONS = { source: 3, target: 4 };

describe('verdict', () => {
  it.each<[string, Partial<InstanceRefresh>, Verdict]>([
    ['Pending', {}, { kind: 'waiting' }],
    ['InProgress', {}, { kind: 'waiting' }],
    ['Baking', { StatusReason: 'Waiting 600 seconds (BakeTime) before completing.' }, { kind: 'waiting' }],
    ['Cancelling', {}, { kind: 'waiting' }],
    ['RollbackInProgress', {}, { kind: 'waiting' }],
    ['SomethingNew', {}, { kind: 'waiting' }],
    ['Successful', {}, { kind: 'succeeded', message: 'Deployed: the group runs launch template version 4.' }],
    ['Failed', { StatusReason: 'Health checks failed.' }, { kind: 'failed', message: 'Deploy failed, the instance refresh failed: Health checks failed.' }],
    ['Cancelled', {}, { kind: 'failed', message: 'Deploy failed, the instance refresh was cancelled' }],
    [
      'RollbackSuccessful',
      { StatusReason: 'status', RollbackDetails: { RollbackReason: 'Alarm web-5xx went off.' } },
      { kind: 'failed', message: 'Deploy failed, group rolled back to version 3: Alarm web-5xx went off.' },
    ],
    [
      'RollbackFailed',
      { StatusReason: 'Could not replace 1 instance.' },
      {
        kind: 'failed',
        message: 'Deploy failed, and so did the rollback to version 3: the group may run both versions: Could not replace 1 instance.',
      },
    ],
  ])('%s %j', (Status, refresh, expected) => {
    expect(verdict({ Status: Status as InstanceRefresh['Status'], ...refresh }, VERSIONS)).toEqual(expected);
  });

  it('names the other template a rollback returns to', () => {
    expect(verdict({ Status: 'RollbackSuccessful' }, { source: '7 of launch template old', target: 1 })).toEqual({
      kind: 'failed',
      message: 'Deploy failed, group rolled back to version 7 of launch template old',
    });
  });
});

describe('progressLine', () => {
  it.each<[Partial<InstanceRefresh>, string]>([
    [{ Status: 'Pending' }, 'Pending 0%'],
    [{ Status: 'InProgress', PercentageComplete: 50, InstancesToUpdate: 1 }, 'InProgress 50% (1 instance to update)'],
    [
      { Status: 'InProgress', PercentageComplete: 50, InstancesToUpdate: 2, StatusReason: 'Checkpoint 50% reached.' },
      'InProgress 50% (2 instances to update) - Checkpoint 50% reached.',
    ],
    [
      { Status: 'RollbackInProgress', PercentageComplete: 25, InstancesToUpdate: 3, RollbackDetails: { PercentageCompleteOnRollback: 50 } },
      'RollbackInProgress 25% (3 instances to update), rolling back from 50%',
    ],
  ])('%j', (refresh, line) => {
    expect(progressLine(refresh)).toBe(line);
  });
});

describe('inProgressAction', () => {
  it.each<[InProgressAction, string, InProgressAction]>([
    ['fail', 'InProgress', 'fail'],
    ['wait', 'InProgress', 'wait'],
    ['cancel', 'Pending', 'cancel'],
    ['cancel', 'Baking', 'cancel'],
    ['cancel', 'RollbackInProgress', 'wait'],
    ['cancel', 'Cancelling', 'wait'],
    ['fail', 'RollbackInProgress', 'fail'],
  ])('%s on %s: %s', (policy, status, expected) => {
    expect(inProgressAction(policy, status)).toBe(expected);
  });
});
