import { describe, expect, it } from '@jest/globals';
import type { CommandView, InvocationView } from './commands.js';
import type { AssociationRecord } from './associations.js';
import { countByStatus, executionView, overview, targetStatus, type ExecutionView } from './associations-views.js';

const invocation = (instanceId: string, status: InvocationView['status'], statusDetails: string = status): InvocationView => ({
  instanceId,
  status,
  statusDetails,
  responseCode: -1,
  stdout: '',
  stderr: '',
  endedAtMs: ['Success', 'Failed', 'TimedOut', 'Cancelled'].includes(status) ? 1000 : undefined,
});

const command = (status: CommandView['status'], invocations: InvocationView[]): CommandView => ({
  status,
  statusDetails: status,
  targetCount: invocations.length,
  completedCount: 0,
  errorCount: 0,
  deliveryTimedOutCount: 0,
  invocations,
});

describe('targetStatus: an invocation as an association target', () => {
  it.each([
    ['Pending', 'Pending', 'Pending'],
    ['Delayed', 'Delayed', 'Pending'],
    ['InProgress', 'InProgress', 'InProgress'],
    ['Cancelling', 'Cancelling', 'InProgress'],
    ['Success', 'Success', 'Success'],
    ['Failed', 'Failed', 'Failed'],
    ['Failed', 'Undeliverable', 'Failed'],
    ['TimedOut', 'ExecutionTimedOut', 'Failed'],
    ['TimedOut', 'DeliveryTimedOut', 'Failed'],
    ['Cancelled', 'Terminated', 'Cancelled'],
    ['Cancelled', 'Cancelled', 'Cancelled'],
  ] as const)('%s (%s) is %s', (status, details, expected) => {
    expect(targetStatus(invocation('i-1', status, details))).toBe(expected);
  });
});

describe('executionView', () => {
  it.each([
    ['targets not yet resolved', command('Pending', []), 'Pending'],
    ['no instance matched', command('Success', []), 'Success'],
    ['queued', command('Pending', [invocation('i-1', 'Pending')]), 'InProgress'],
    ['one running', command('InProgress', [invocation('i-1', 'Success'), invocation('i-2', 'InProgress')]), 'InProgress'],
    ['all succeeded', command('Success', [invocation('i-1', 'Success'), invocation('i-2', 'Success')]), 'Success'],
    ['one failed within MaxErrors', command('Success', [invocation('i-1', 'Success'), invocation('i-2', 'Failed')]), 'Failed'],
    ['stopped by MaxErrors', command('Failed', [invocation('i-1', 'Failed'), invocation('i-2', 'Cancelled', 'Terminated')]), 'Failed'],
  ])('%s: %s', (_, view, expected) => {
    expect(executionView(view).status).toBe(expected);
  });

  it('keeps the invocation\'s details and end per target', () => {
    const view = executionView(command('Failed', [invocation('i-1', 'TimedOut', 'ExecutionTimedOut'), invocation('i-2', 'Pending')]));
    expect(view.targets).toEqual([
      { instanceId: 'i-1', status: 'Failed', detailedStatus: 'ExecutionTimedOut', endedAtMs: 1000 },
      { instanceId: 'i-2', status: 'Pending', detailedStatus: 'Pending', endedAtMs: undefined },
    ]);
    expect(view.lastEndMs).toBe(1000);
  });
});

describe('countByStatus', () => {
  it.each([
    [[], '{}'],
    [['Success', 'Success'], '{Success=2}'],
    [['Success', 'Failed', 'Pending', 'Failed'], '{Failed=2, Pending=1, Success=1}'],
  ])('%j is %s', (statuses, expected) => {
    expect(countByStatus(statuses)).toBe(expected);
  });
});

describe('overview', () => {
  const association = (applyOnlyAtCronInterval = false, executions = 0) =>
    ({
      versions: [{ applyOnlyAtCronInterval }],
      executions: Array.from({ length: executions }, (_, i) => ({ createdAtMs: i })),
    }) as unknown as AssociationRecord;
  const view = (status: ExecutionView['status'], targets: [string, ExecutionView['targets'][number]['status']][]): ExecutionView => ({
    status,
    targets: targets.map(([instanceId, s]) => ({ instanceId, status: s, detailedStatus: s, endedAtMs: 5 })),
    lastEndMs: 5,
  });
  it.each([
    ['nothing has run yet', association(), [], 'Pending', 'Creating', {}],
    ['waiting for its cron', association(true), [], 'Pending', 'Associated', {}],
    ['first run resolving', association(false, 1), [view('Pending', [])], 'Pending', 'Creating', {}],
    ['first run going', association(false, 1), [view('InProgress', [['i-1', 'InProgress']])], 'Pending', 'InProgress', { InProgress: 1 }],
    ['all succeeded', association(false, 1), [view('Success', [['i-1', 'Success'], ['i-2', 'Success']])], 'Success', 'Success', { Success: 2 }],
    [
      'a later run fixed the failed instance',
      association(false, 2),
      [view('Failed', [['i-1', 'Success'], ['i-2', 'Failed']]), view('Success', [['i-2', 'Success']])],
      'Success',
      'Success',
      { Success: 2 },
    ],
    [
      'a late instance failed',
      association(false, 2),
      [view('Success', [['i-1', 'Success']]), view('Failed', [['i-3', 'Failed']])],
      'Failed',
      'Failed',
      { Success: 1, Failed: 1 },
    ],
  ])('%s', (_, record, views, status, detailedStatus, counts) => {
    expect(overview(record, views)).toMatchObject({ status, detailedStatus, counts });
  });
});
