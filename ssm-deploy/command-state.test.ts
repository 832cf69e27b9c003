import { describe, expect, it } from '@jest/globals';
import { countInstances, describeState, isFinished, normaliseDetails, type CommandState, type InstanceResult } from './command-state.js';

const instance = (status: string, statusDetails = status): InstanceResult => ({
  instanceId: 'i-0123456789abcdef0',
  status,
  statusDetails,
  responseCode: -1,
});
const state = (status: string, statusDetails: string, instances: InstanceResult[]): CommandState => ({
  commandId: 'c',
  status,
  statusDetails,
  instances,
});

describe('command state', () => {
  it.each([
    ['Execution Timed Out', 'ExecutionTimedOut'],
    ['DeliveryTimedOut', 'DeliveryTimedOut'],
    [undefined, ''],
  ])('normalises the details %j to %j', (details, expected) => {
    expect(normaliseDetails(details)).toBe(expected);
  });

  it.each([
    ['Pending', false],
    ['InProgress', false],
    ['Cancelling', false],
    ['Success', true],
    ['Failed', true],
    ['TimedOut', true],
    ['Cancelled', true],
  ])('a command %s has ended: %s', (status, finished) => {
    expect(isFinished(state(status, status, []))).toBe(finished);
  });

  it('counts instances by how they stand', () => {
    const instances = [
      instance('Success'),
      instance('Failed'),
      instance('TimedOut', 'DeliveryTimedOut'),
      instance('Cancelled', 'Terminated'),
      instance('Failed', 'Undeliverable'),
      instance('InProgress'),
      instance('Delayed'),
      instance('Cancelling'),
      instance('Pending'),
    ];
    expect(countInstances(instances)).toEqual({ total: 9, succeeded: 1, failed: 4, running: 3, pending: 1 });
  });

  it.each<[string, CommandState, string]>([
    ['before the targets resolve', state('Pending', 'Pending', []), 'Command Pending: waiting for the instances to be chosen'],
    ['no instance in the tag', state('Success', 'NoInstancesInTag', []), 'Command Success (NoInstancesInTag)'],
    [
      'counts while running',
      state('InProgress', 'InProgress', [instance('Success'), instance('Failed'), instance('InProgress'), instance('Pending')]),
      'Command InProgress: 1 of 4 instances succeeded, 1 failed, 1 running, 1 pending',
    ],
  ])('describes %s', (_case, command, line) => {
    expect(describeState(command)).toBe(line);
  });
});
