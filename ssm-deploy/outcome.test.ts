import { describe, expect, it } from '@jest/globals';
import type { CommandState, InstanceResult } from './command-state.js';
import { decideOutcome, describeInstance, stepOutputs, type Ending } from './outcome.js';

let n = 0;
const instance = (status: string, statusDetails = status, responseCode = -1): InstanceResult => ({
  instanceId: `i-${String(++n).padStart(17, '0')}`,
  status,
  statusDetails,
  responseCode,
});
const state = (status: string, statusDetails: string, instances: InstanceResult[]): CommandState => ({
  commandId: '11111111-2222-3333-4444-555555555555',
  status,
  statusDetails,
  instances,
});
const done = (command: CommandState): Ending => ({ kind: 'done', state: command });

describe('decideOutcome', () => {
  it.each<[string, Ending, boolean, string]>([
    ['every instance succeeded', done(state('Success', 'Success', [instance('Success', 'Success', 0), instance('Success', 'Success', 0)])), true, 'Deployed to 2 instances.'],
    ['no instance matched', done(state('Success', 'NoInstancesInTag', [])), false, 'No instance matches the targets tag:Role=web: nothing was deployed.'],
    ['one rolled back within max-errors', done(state('Success', 'Incomplete', [instance('Success'), instance('Failed', 'Failed', 2)])), false, 'The command ended Success (Incomplete); 1 of 2 instances did not deploy'],
    ['MaxErrors exceeded', done(state('Failed', 'Failed', [instance('Failed', 'Failed', 1), instance('Cancelled', 'Terminated')])), false, 'Cancelled (Terminated)'],
    ['only undeliverable instances', done(state('Failed', 'Failed', [instance('Failed', 'Undeliverable')])), false, 'Failed (Undeliverable)'],
    ['delivery timed out', done(state('TimedOut', 'DeliveryTimedOut', [instance('TimedOut', 'DeliveryTimedOut')])), false, 'The command ended TimedOut (DeliveryTimedOut)'],
    ['a success status without instances', done(state('Success', 'Success', [])), false, 'no instance ran it'],
    [
      'the wait timed out',
      { kind: 'timeout', timeoutMinutes: 5, cancel: { sent: true }, state: state('InProgress', 'InProgress', [instance('Success'), instance('InProgress')]) },
      false,
      'The command did not end within 5 minutes; the command 11111111-2222-3333-4444-555555555555 was cancelled (CancelCommand). 1 of 2 instances had succeeded.',
    ],
    ['the run was cancelled', { kind: 'aborted', cancel: { sent: false, error: 'AccessDeniedException: no' } }, false, 'The run was cancelled; cancelling the command failed: AccessDeniedException: no.'],
    [
      'the wait lost sight of the command',
      { kind: 'failed', error: 'Gave up after 6 failed checks in a row: InternalFailure', cancel: { sent: true }, state: state('InProgress', 'InProgress', [instance('InProgress')]) },
      false,
      'Stopped waiting for the command (Gave up after 6 failed checks in a row: InternalFailure); the command 11111111-2222-3333-4444-555555555555 was cancelled (CancelCommand). 0 of 1 instances had succeeded.',
    ],
  ])('%s', (_case, ending, ok, message) => {
    const outcome = decideOutcome(ending, 'tag:Role=web');
    expect(outcome.ok).toBe(ok);
    expect(outcome.message).toContain(message);
  });

  it('names at most ten failing instances in its message', () => {
    const failed = Array.from({ length: 12 }, () => instance('Failed', 'Failed', 1));
    const { message } = decideOutcome(done(state('Failed', 'Failed', failed)), 'x');
    expect(message.match(/i-\d{17}/g)).toHaveLength(10);
    expect(message).toContain('and 2 more (see the job summary)');
  });
});

describe('describeInstance', () => {
  it.each<[InstanceResult, string]>([
    [{ instanceId: 'i-1', status: 'Failed', statusDetails: 'Failed', responseCode: 2 }, 'i-1 Failed (exit 2: rolled back to the previous generation)'],
    [{ instanceId: 'i-1', status: 'Failed', statusDetails: 'Failed', responseCode: 3 }, 'i-1 Failed (exit 3: not rolled back)'],
    [{ instanceId: 'i-1', status: 'TimedOut', statusDetails: 'ExecutionTimedOut', responseCode: 137 }, 'i-1 TimedOut (ExecutionTimedOut, exit 137)'],
    [{ instanceId: 'i-1', status: 'Failed', statusDetails: 'Undeliverable', responseCode: -1 }, 'i-1 Failed (Undeliverable)'],
    [{ instanceId: 'i-1', status: 'Success', statusDetails: 'Success', responseCode: 0 }, 'i-1 Success'],
  ])('%j reads %s', (result, text) => {
    expect(describeInstance(result)).toBe(text);
  });
});

it('outputs the four fields of each instance, and counts what did not succeed as failed', () => {
  const instances = [instance('Success', 'Success', 0), instance('Failed', 'Failed', 2), instance('InProgress')];
  instances[0].startedAt = new Date();
  expect(stepOutputs('c', 'TimedOut', state('TimedOut', 'TimedOut', instances))).toEqual({
    'command-id': 'c',
    status: 'TimedOut',
    instances: instances.map(({ instanceId, status, statusDetails, responseCode }) => ({ instanceId, status, statusDetails, responseCode })),
    'succeeded-count': 1,
    'failed-count': 2,
  });
});
