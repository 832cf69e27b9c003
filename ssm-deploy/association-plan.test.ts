/** The decisions of association mode, as tables of cases. */
import { describe, expect, it } from '@jest/globals';
import type { AssociationExecution, AssociationExecutionTarget } from '@aws-sdk/client-ssm';
import {
  allowedErrors,
  associationOutputs,
  associationUrl,
  createAssociationInput,
  decideAssociationOutcome,
  decideRevert,
  describeExecution,
  desiredSettings,
  differences,
  executionCounts,
  executionFinished,
  executionState,
  newestCreated,
  parseCounts,
  pickExecution,
  planAssociation,
  settingsOf,
  updateAssociationInput,
  type AssociationPlan,
  type AssociationSettings,
  type ExecutionEnding,
  type ExecutionState,
} from './association-plan.js';
import { readInputs } from './inputs.js';
import type { InstanceResult } from './plan.js';

const STORE_PATH = '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05';
const OLD_PATH = '/nix/store/1c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05';
const inputs = (extra: Record<string, string> = {}) =>
  readInputs(
    (name) =>
      ({ mode: 'association', 'association-name': 'nixos-web', targets: 'tag:Role=web', 'store-path': STORE_PATH, ...extra })[name] ?? '',
    { AWS_REGION: 'eu-central-1' },
  );
const DESIRED: AssociationSettings = desiredSettings(inputs(), { name: 'NixOS-Deploy', version: '3' });
const OLD: AssociationSettings = { ...DESIRED, parameters: { ...DESIRED.parameters, storePath: [OLD_PATH] } };
const ID = '8dfe3659-4309-493a-8755-0123456789ab';

describe('desiredSettings and settingsOf', () => {
  it('pins the document version by number and carries the inputs', () => {
    expect(desiredSettings(inputs({ schedule: 'rate(1 day)', 'max-errors': '1' }), { name: 'NixOS-Deploy', version: '3' })).toEqual({
      documentName: 'NixOS-Deploy',
      documentVersion: '3',
      parameters: {
        storePath: [STORE_PATH],
        action: ['switch'],
        healthCheckTimeoutSeconds: ['60'],
        rollbackOnFailure: ['true'],
        executionTimeout: ['3600'],
      },
      targets: [{ Key: 'tag:Role', Values: ['web'] }],
      maxConcurrency: '50%',
      maxErrors: '1',
      schedule: 'rate(1 day)',
      outputS3Bucket: '',
    });
  });

  it('reads back what CreateAssociation was given', () => {
    const request = createAssociationInput('nixos-web', { ...DESIRED, schedule: 'rate(1 day)', outputS3Bucket: 'logs' }, 'eu-central-1');
    expect(settingsOf({ ...request, AssociationId: ID, AssociationVersion: '1' })).toEqual({
      ...DESIRED,
      schedule: 'rate(1 day)',
      outputS3Bucket: 'logs',
    });
  });
});

describe('planAssociation', () => {
  const found = (settings: AssociationSettings) => ({ id: ID, version: '4', settings });
  it.each<[string, AssociationSettings | undefined, AssociationPlan]>([
    ['none by that name: create', undefined, { kind: 'create' }],
    ['the same settings: apply once', DESIRED, { kind: 'apply-once', id: ID, version: '4' }],
    ['the same parameters in another key order: apply once', { ...DESIRED, parameters: Object.fromEntries(Object.entries(DESIRED.parameters).reverse()) }, { kind: 'apply-once', id: ID, version: '4' }],
    ['another store path: update', OLD, { kind: 'update', id: ID, version: '4', previous: OLD, changed: ['parameters'] }],
    ['another document version: update', { ...DESIRED, documentVersion: '2' }, { kind: 'update', id: ID, version: '4', previous: { ...DESIRED, documentVersion: '2' }, changed: ['document version 2 -> 3'] }],
    ['other targets: update', { ...DESIRED, targets: [{ Key: 'tag:Role', Values: ['db'] }] }, expect.objectContaining({ kind: 'update', changed: ['targets'] }) as unknown as AssociationPlan],
    ['other rates: update', { ...DESIRED, maxConcurrency: '1', maxErrors: '2' }, expect.objectContaining({ kind: 'update', changed: ['max-concurrency 1 -> 50%', 'max-errors 2 -> 0'] }) as unknown as AssociationPlan],
    ['a schedule no longer wanted: update', { ...DESIRED, schedule: 'rate(1 day)' }, expect.objectContaining({ kind: 'update', changed: ['schedule rate(1 day) -> (none)'] }) as unknown as AssociationPlan],
    ['another output bucket: update', { ...DESIRED, outputS3Bucket: 'logs' }, expect.objectContaining({ kind: 'update', changed: ['output-s3-bucket logs -> (none)'] }) as unknown as AssociationPlan],
  ])('%s', (_case, current, expected) => {
    expect(planAssociation(current && found(current), DESIRED)).toEqual(expected);
  });

  it('names every difference at once', () => {
    expect(differences({ ...OLD, documentVersion: '1', schedule: 'rate(1 hour)' }, DESIRED)).toEqual([
      'document version 1 -> 3',
      'parameters',
      'schedule rate(1 hour) -> (none)',
    ]);
  });
});

describe('the requests', () => {
  it('creates by name, pinned to the version number, with S3 output in the region', () => {
    expect(createAssociationInput('nixos-web', { ...DESIRED, schedule: 'cron(0 2 * * ? *)', outputS3Bucket: 'logs' }, 'eu-central-1')).toEqual({
      AssociationName: 'nixos-web',
      Name: 'NixOS-Deploy',
      DocumentVersion: '3',
      Parameters: DESIRED.parameters,
      Targets: [{ Key: 'tag:Role', Values: ['web'] }],
      MaxConcurrency: '50%',
      MaxErrors: '0',
      ScheduleExpression: 'cron(0 2 * * ? *)',
      OutputLocation: { S3Location: { OutputS3BucketName: 'logs', OutputS3Region: 'eu-central-1' } },
    });
  });

  it('updates held to the version read, with every setting (an omitted one is cleared), no schedule when none', () => {
    expect(updateAssociationInput(ID, 'nixos-web', DESIRED, 'eu-central-1', '4')).toEqual({
      AssociationId: ID,
      AssociationName: 'nixos-web',
      AssociationVersion: '4',
      Name: 'NixOS-Deploy',
      DocumentVersion: '3',
      Parameters: DESIRED.parameters,
      Targets: [{ Key: 'tag:Role', Values: ['web'] }],
      MaxConcurrency: '50%',
      MaxErrors: '0',
    });
  });

  it('links the association in the console', () => {
    expect(associationUrl('eu-central-1', ID)).toBe(
      `https://eu-central-1.console.aws.amazon.com/systems-manager/state-manager/${ID}/description?region=eu-central-1`,
    );
  });
});

describe('the execution this change caused', () => {
  const at = (seconds: number) => new Date(Date.UTC(2026, 10, 29, 16, 0, seconds));
  const execution = (id: string, version: string, seconds: number): AssociationExecution => ({
    AssociationId: ID,
    ExecutionId: id,
    AssociationVersion: version,
    CreatedTime: at(seconds),
    Status: 'Success',
  });
  const listed = [execution('e-old', '4', 10), execution('e-sched', '5', 50), execution('e-ours', '5', 30), execution('e-v4', '4', 40)];

  it.each<[string, string, Date | undefined, string | undefined]>([
    ['the oldest of the new version, not a later scheduled one', '5', undefined, 'e-ours'],
    ['applied once: after the newest before the change', '4', at(10), 'e-v4'],
    ['none yet after the change', '4', at(40), undefined],
    ['none of that version', '6', undefined, undefined],
  ])('%s', (_case, version, after, expected) => {
    expect(pickExecution(listed, version, after)?.ExecutionId).toBe(expected);
  });

  const counted = (id: string, seconds: number, status: string, counts: string): AssociationExecution => ({
    ...execution(id, '5', seconds),
    Status: status,
    ResourceCountByStatus: counts,
  });
  it.each<[string, AssociationExecution[], string | undefined]>([
    ['a launched instance\'s execution, older, loses to the fleet-wide one', [counted('e-late', 31, 'Success', '{Success=1}'), counted('e-fleet', 32, 'InProgress', '{InProgress=4}')], 'e-fleet'],
    ['a sibling: the fleet-wide one already failed, the late one still runs', [counted('e-late', 31, 'InProgress', '{InProgress=1}'), counted('e-fleet', 32, 'Failed', '{Failed=1, Success=3}')], 'e-fleet'],
    ['a later scheduled run with as many targets loses the tie', [counted('e-fleet', 31, 'Success', '{Success=4}'), counted('e-sched', 60, 'InProgress', '{InProgress=4}')], 'e-fleet'],
    ['none while one is Pending and uncounted', [counted('e-late', 31, 'Success', '{Success=1}'), counted('e-fleet', 32, 'Pending', '{}')], undefined],
    ['a Pending one already counted is chosen', [counted('e-late', 31, 'Success', '{Success=1}'), counted('e-fleet', 32, 'Pending', '{Pending=4}')], 'e-fleet'],
  ])('chooses the fleet-wide execution: %s', (_case, executions, expected) => {
    expect(pickExecution(executions, '5', at(30))?.ExecutionId).toBe(expected);
  });

  it('counts the instances from the execution\'s own counts while its targets are not read', () => {
    expect(parseCounts('{Failed=1, In Progress=2, Success=3}')).toEqual({ Failed: 1, 'In Progress': 2, Success: 3 });
    expect(parseCounts(undefined)).toEqual({});
    const state: ExecutionState = { executionId: 'e-1', status: 'InProgress', detailedStatus: 'InProgress', instances: [], counts: { Success: 3, Failed: 1, InProgress: 2, Pending: 4 } };
    expect(executionCounts(state)).toEqual({ total: 10, succeeded: 3, failed: 1, running: 2, pending: 4 });
    expect(describeExecution(state)).toBe('Execution e-1 InProgress: 3 of 10 instances succeeded, 1 failed, 2 running, 4 pending');
    expect(executionState({ ExecutionId: 'e-2', Status: 'InProgress', ResourceCountByStatus: '{InProgress=2}' }, []).counts).toEqual({ InProgress: 2 });
  });

  it('takes the newest creation time as the baseline', () => {
    expect(newestCreated(listed)).toEqual(at(50));
    expect(newestCreated([])).toBeUndefined();
  });

  it('reads targets as instances, with the command that ran on each and a span from the execution start', () => {
    const targets: AssociationExecutionTarget[] = [
      { ResourceId: 'i-00000000000000001', Status: 'Success', DetailedStatus: 'Success', LastExecutionDate: at(20), OutputSource: { OutputSourceId: 'c-1', OutputSourceType: 'RunCommand' } },
      { ResourceId: 'i-00000000000000002', Status: 'Failed', DetailedStatus: 'Failed', LastExecutionDate: at(25), OutputSource: { OutputSourceId: 'c-2', OutputSourceType: 'RunCommand' } },
      { ResourceId: 'i-00000000000000003', Status: 'InProgress', DetailedStatus: 'InProgress', LastExecutionDate: at(12) },
    ];
    const state = executionState({ ...execution('e-1', '5', 10), Status: 'InProgress', DetailedStatus: 'InProgress' }, targets);
    expect(state.instances).toEqual([
      { instanceId: 'i-00000000000000001', status: 'Success', statusDetails: 'Success', responseCode: -1, commandId: 'c-1', startedAt: at(10), endedAt: at(20) },
      { instanceId: 'i-00000000000000002', status: 'Failed', statusDetails: 'Failed', responseCode: -1, commandId: 'c-2', startedAt: at(10), endedAt: at(25) },
      { instanceId: 'i-00000000000000003', status: 'InProgress', statusDetails: 'InProgress', responseCode: -1 },
    ]);
    expect(executionFinished(state)).toBe(false);
    expect(describeExecution(state)).toBe('Execution e-1 InProgress: 1 of 3 instances succeeded, 1 failed, 1 running, 0 pending');
    expect(describeExecution({ status: 'Pending', detailedStatus: '', instances: [] })).toBe('Waiting for the association to start its execution');
    expect(executionFinished({ status: 'Pending', detailedStatus: '', instances: [] })).toBe(false);
    expect(executionFinished({ ...state, status: 'Failed' })).toBe(true);
  });
});

describe('the outcome', () => {
  const instance = (n: number, status: string, responseCode = status === 'Success' ? 0 : -1): InstanceResult => ({
    instanceId: `i-0000000000000000${n}`,
    status,
    statusDetails: status,
    responseCode,
  });
  const done = (status: string, ...instances: InstanceResult[]): ExecutionEnding => ({
    kind: 'done',
    state: { executionId: 'e-1', status, detailedStatus: status, instances },
  });
  const context = { targets: 'tag:Role=web', maxErrors: '0' };

  it.each<[string, ExecutionEnding, Partial<typeof context> & { revert?: Parameters<typeof decideAssociationOutcome>[1]['revert'] }, { ok: boolean; result: string; message: string }]>([
    ['every instance deployed', done('Success', instance(1, 'Success'), instance(2, 'Success')), {}, { ok: true, result: 'deployed', message: 'Deployed to 2 of 2 instances.' }],
    ['no instance matched', done('Success'), {}, { ok: false, result: 'failed', message: 'No instance matches the targets tag:Role=web: nothing was deployed (execution Success).' }],
    [
      'one failed and rolled back, the association returned',
      done('Failed', instance(1, 'Success'), instance(2, 'Failed', 2)),
      { revert: { kind: 'reverted', storePath: OLD_PATH, version: '6' } },
      {
        ok: false,
        result: 'failed',
        message: `The association's execution ended Failed; 1 of 2 instances failed: i-00000000000000002 Failed (exit 2: rolled back to the previous generation). Deploy failed; association returned to ${OLD_PATH}, version 6.`,
      },
    ],
    [
      'failed and not rolled back, kept',
      done('Failed', instance(1, 'Failed', 3)),
      { revert: { kind: 'kept', why: 'on-failure is keep' } },
      { ok: false, result: 'failed', message: "The association's execution ended Failed; 1 of 1 instances failed: i-00000000000000001 Failed (exit 3: not rolled back). The association keeps the new settings (on-failure is keep)." },
    ],
    [
      'one failure within max-errors 1',
      done('Failed', instance(1, 'Success'), instance(2, 'Failed', 1)),
      { maxErrors: '1' },
      { ok: true, result: 'deployed', message: 'Deployed to 1 of 2 instances; 1 failed, within max-errors 1: i-00000000000000002 Failed (exit 1: failed before anything changed).' },
    ],
    ['two failures beyond 10% of 10', done('Failed', ...[1, 2].map((n) => instance(n, 'Failed', 1)), ...[3, 4, 5, 6, 7, 8, 9].map((n) => instance(n, 'Success')), instance(0, 'Success')), { maxErrors: '10%' }, expect.objectContaining({ ok: false, message: expect.stringContaining('2 of 10 instances failed') }) as never],
    [
      'a timeout, the association returned',
      { kind: 'timeout', timeoutMinutes: 0.5, state: { executionId: 'e-1', status: 'InProgress', detailedStatus: '', instances: [instance(1, 'Success'), instance(2, 'InProgress')] } },
      { revert: { kind: 'reverted', storePath: OLD_PATH, version: '6' } },
      { ok: false, result: 'timed out', message: `The association's execution did not end within 30 seconds. 1 of 2 instances had succeeded. Deploy failed; association returned to ${OLD_PATH}, version 6.` },
    ],
    ['a cancellation, left', { kind: 'aborted' }, { revert: { kind: 'kept', why: 'on-abort is leave' } }, { ok: false, result: 'cancelled', message: "The run was cancelled while the association's execution ran. The association keeps the new settings (on-abort is leave)." }],
    [
      'a revert that failed',
      { kind: 'failed', error: 'Gave up after 6 failed checks in a row: ThrottlingException' },
      { revert: { kind: 'revert-failed', storePath: OLD_PATH, error: 'AccessDenied' } },
      { ok: false, result: 'failed', message: `Stopped waiting for the association's execution (Gave up after 6 failed checks in a row: ThrottlingException). Returning the association to ${OLD_PATH} failed: AccessDenied.` },
    ],
  ])('%s', (_case, ending, extra, expected) => {
    expect(decideAssociationOutcome(ending, { ...context, ...extra })).toEqual(expected);
  });

  it.each<[string, string, number, number]>([
    ['a count', '3', 100, 3],
    ['zero', '0', 100, 0],
    ['a percentage rounded down', '10%', 15, 1],
    ['100%', '100%', 7, 7],
  ])('allows %s of errors', (_case, maxErrors, total, expected) => {
    expect(allowedErrors(maxErrors, total)).toBe(expected);
  });
});

describe('decideRevert', () => {
  const update: AssociationPlan = { kind: 'update', id: ID, version: '4', previous: OLD, changed: ['parameters'] };
  const settings = (onFailure: 'revert' | 'keep', onAbort: 'revert' | 'leave') => ({ onFailure, onAbort });
  it.each<[string, AssociationPlan, ExecutionEnding['kind'], ReturnType<typeof settings>, ReturnType<typeof decideRevert>]>([
    ['a failed update, revert', update, 'done', settings('revert', 'leave'), { revert: true, to: OLD }],
    ['a failed update, keep', update, 'done', settings('keep', 'revert'), { revert: false, why: 'on-failure is keep' }],
    ['a wait that gave up counts as a failure', update, 'failed', settings('revert', 'leave'), { revert: true, to: OLD }],
    ['a timeout, on-abort revert', update, 'timeout', settings('keep', 'revert'), { revert: true, to: OLD }],
    ['a cancellation, on-abort leave', update, 'aborted', settings('revert', 'leave'), { revert: false, why: 'on-abort is leave' }],
    ['a created association has nothing to return to: it is deleted', { kind: 'create' }, 'done', settings('revert', 'revert'), { revert: false, delete: true }],
    ['a created association, on timeout with on-abort revert: deleted', { kind: 'create' }, 'timeout', settings('keep', 'revert'), { revert: false, delete: true }],
    ['a created association, on-failure keep: kept', { kind: 'create' }, 'done', settings('keep', 'revert'), { revert: false, why: 'on-failure is keep' }],
    ['an association applied once still holds its settings', { kind: 'apply-once', id: ID, version: '4' }, 'timeout', settings('revert', 'revert'), { revert: false, why: 'the association was not changed by this deploy' }],
  ])('%s', (_case, plan, ending, given, expected) => {
    expect(decideRevert(plan, ending, given)).toEqual(expected);
  });
});

describe('associationOutputs', () => {
  const state: ExecutionState = {
    executionId: 'e-1',
    status: 'Failed',
    detailedStatus: 'Failed',
    instances: [
      { instanceId: 'i-00000000000000001', status: 'Success', statusDetails: 'Success', responseCode: 0, commandId: 'c-1' },
      { instanceId: 'i-00000000000000002', status: 'Failed', statusDetails: 'Failed', responseCode: 2, commandId: 'c-2' },
    ],
  };
  it('names the association, the execution, the revert and each instance', () => {
    expect(associationOutputs('eu-central-1', { id: ID, version: '5' }, state, { kind: 'reverted', storePath: OLD_PATH, version: '6' })).toEqual({
      'association-id': ID,
      'association-version': '5',
      'execution-id': 'e-1',
      'reverted-version': '6',
      'console-url': associationUrl('eu-central-1', ID),
      status: 'Failed',
      instances: [
        { instanceId: 'i-00000000000000001', status: 'Success', statusDetails: 'Success', responseCode: 0 },
        { instanceId: 'i-00000000000000002', status: 'Failed', statusDetails: 'Failed', responseCode: 2 },
      ],
      'succeeded-count': 1,
      'failed-count': 1,
    });
  });
  it('before the execution is listed: the association only', () => {
    expect(associationOutputs('eu-central-1', { id: ID, version: '1' }, undefined)).toEqual({
      'association-id': ID,
      'association-version': '1',
      'console-url': associationUrl('eu-central-1', ID),
      instances: [],
      'succeeded-count': 0,
      'failed-count': 0,
    });
  });
});
