/**
 * State Manager associations through the real SDK client over HTTP: versions, executions on the fleet model,
 * per-target results with their Run Command output, late instances, schedules, pagination and AWS's errors.
 */
import {
  CreateAssociationCommand,
  CreateDocumentCommand,
  DeleteAssociationCommand,
  DescribeAssociationCommand,
  DescribeAssociationExecutionsCommand,
  DescribeAssociationExecutionTargetsCommand,
  GetCommandInvocationCommand,
  ListAssociationsCommand,
  ListAssociationVersionsCommand,
  ListCommandsCommand,
  paginateDescribeAssociationExecutionTargets,
  SSMClient,
  StartAssociationsOnceCommand,
  UpdateAssociationCommand,
  type AssociationExecutionTarget,
  type CreateAssociationCommandInput,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Sandbox, STATIC_CREDENTIALS } from '../../server.js';
import { DEPLOY_CONTENT, STORE_PATH } from './fixtures.js';

// Frozen: time moves only by clock.advance, so every status below is read at an exact moment.
const sandbox = new Sandbox({ speed: 0 });
let ssm: SSMClient;
beforeAll(async () => {
  await sandbox.start();
  ssm = new SSMClient({ region: 'us-east-1', endpoint: sandbox.url, credentials: STATIC_CREDENTIALS, maxAttempts: 1 });
});
afterAll(() => sandbox.stop());
beforeEach(async () => {
  sandbox.reset();
  await ssm.send(new CreateDocumentCommand({ Name: NAME, Content: DEPLOY_CONTENT, DocumentType: 'Command' }));
});

const NAME = 'NixOS-Deploy';
const OTHER_PATH = STORE_PATH.replace('web-24.11', 'web-25.05');
const id = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
const seconds = (s: number) => sandbox.clock.advance(s * 1000);
const TARGETS = [{ Key: 'tag:Role', Values: ['monitoring'] }];

function fleet(count: number, from = 1, tags: Record<string, string> = { Role: 'monitoring' }): string[] {
  const ids = Array.from({ length: count }, (_, i) => id(from + i));
  for (const instanceId of ids) sandbox.ssm.addInstance({ instanceId, tags });
  return ids;
}

async function create(input: Partial<CreateAssociationCommandInput> = {}) {
  const { AssociationDescription } = await ssm.send(
    new CreateAssociationCommand({
      Name: NAME,
      DocumentVersion: '1',
      AssociationName: 'monitoring',
      Targets: TARGETS,
      Parameters: { storePath: [STORE_PATH] },
      ...input,
    }),
  );
  return AssociationDescription!;
}

async function executions(associationId: string) {
  const { AssociationExecutions } = await ssm.send(new DescribeAssociationExecutionsCommand({ AssociationId: associationId }));
  return AssociationExecutions!;
}

async function targets(associationId: string, executionId: string): Promise<AssociationExecutionTarget[]> {
  const all: AssociationExecutionTarget[] = [];
  const pages = paginateDescribeAssociationExecutionTargets(
    { client: ssm, pageSize: 50 },
    { AssociationId: associationId, ExecutionId: executionId },
  );
  for await (const page of pages) all.push(...(page.AssociationExecutionTargets ?? []));
  return all;
}

describe('CreateAssociation and its first execution', () => {
  it('creates version 1, pending, and runs it on the instances of the tag', async () => {
    const ids = fleet(3);
    fleet(1, 10, { Role: 'web' });
    const created = await create({ MaxConcurrency: '50%', MaxErrors: '1' });
    expect(created).toMatchObject({
      Name: NAME,
      DocumentVersion: '1',
      AssociationVersion: '1',
      AssociationName: 'monitoring',
      Targets: TARGETS,
      Parameters: { storePath: [STORE_PATH] },
      MaxConcurrency: '50%',
      MaxErrors: '1',
      ApplyOnlyAtCronInterval: false,
      Overview: { Status: 'Pending', DetailedStatus: 'Creating', AssociationStatusAggregatedCount: {} },
    });
    expect(created.AssociationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const [pending] = await executions(created.AssociationId!);
    expect(pending).toMatchObject({ AssociationVersion: '1', Status: 'Pending', ResourceCountByStatus: '{}' });

    seconds(3);
    const running = (await executions(created.AssociationId!))[0];
    expect(running).toMatchObject({ ExecutionId: pending.ExecutionId, Status: 'InProgress', ResourceCountByStatus: '{InProgress=1, Pending=2}' });

    seconds(60);
    const [done] = await executions(created.AssociationId!);
    expect(done).toMatchObject({ Status: 'Success', DetailedStatus: 'Success', ResourceCountByStatus: '{Success=3}' });
    const listed = await targets(created.AssociationId!, done.ExecutionId!);
    expect(listed.map((t) => t.ResourceId)).toEqual(ids);
    expect(listed[0]).toMatchObject({
      ResourceType: 'ManagedInstance',
      Status: 'Success',
      DetailedStatus: 'Success',
      OutputSource: { OutputSourceType: 'RunCommand' },
    });
    const { Association } = { Association: (await ssm.send(new DescribeAssociationCommand({ AssociationId: created.AssociationId }))).AssociationDescription! };
    expect(Association.Overview).toEqual({ Status: 'Success', DetailedStatus: 'Success', AssociationStatusAggregatedCount: { Success: 3 } });
    expect(Association.LastSuccessfulExecutionDate).toBeInstanceOf(Date);
  });

  it('reads a failed target\'s output with GetCommandInvocation(OutputSourceId), and keeps it out of ListCommands', async () => {
    const [first, second] = fleet(2);
    sandbox.ssm.setOutcome(second, { status: 'Failed', responseCode: 2, stdout: 'switching\n', stderr: 'unit failed\n' });
    const created = await create({ MaxErrors: '1' });
    seconds(120);
    const [execution] = await executions(created.AssociationId!);
    expect(execution).toMatchObject({ Status: 'Failed', ResourceCountByStatus: '{Failed=1, Success=1}' });
    const listed = await targets(created.AssociationId!, execution.ExecutionId!);
    const failed = listed.find((t) => t.ResourceId === second)!;
    expect(failed).toMatchObject({ Status: 'Failed', DetailedStatus: 'Failed' });
    const invocation = await ssm.send(
      new GetCommandInvocationCommand({ CommandId: failed.OutputSource!.OutputSourceId, InstanceId: second }),
    );
    expect(invocation).toMatchObject({ ResponseCode: 2, StandardOutputContent: 'switching\n', StandardErrorContent: 'unit failed\n' });
    expect(listed.find((t) => t.ResourceId === first)!.Status).toBe('Success');
    const { Commands } = await ssm.send(new ListCommandsCommand({}));
    expect(Commands).toEqual([]);
    const { AssociationDescription } = await ssm.send(new DescribeAssociationCommand({ AssociationId: created.AssociationId }));
    expect(AssociationDescription!.Overview).toMatchObject({ Status: 'Failed', AssociationStatusAggregatedCount: { Failed: 1, Success: 1 } });
  });
});

describe('UpdateAssociation', () => {
  it('makes version 2 with the new parameters and runs it; version 1 stays readable', async () => {
    fleet(2);
    const created = await create();
    seconds(120);
    const { AssociationDescription: updated } = await ssm.send(
      new UpdateAssociationCommand({
        AssociationId: created.AssociationId,
        AssociationVersion: '1',
        Name: NAME,
        DocumentVersion: '1',
        AssociationName: 'monitoring',
        Targets: TARGETS,
        Parameters: { storePath: [OTHER_PATH] },
      }),
    );
    expect(updated).toMatchObject({ AssociationVersion: '2', Parameters: { storePath: [OTHER_PATH] } });
    const [second, first] = await executions(created.AssociationId!);
    expect(second).toMatchObject({ AssociationVersion: '2', Status: 'Pending' });
    expect(first).toMatchObject({ AssociationVersion: '1', Status: 'Success' });
    const commandId = (sandbox.ssm.commands.at(-1)!).commandId;
    expect(sandbox.ssm.command(commandId).parameters.storePath).toEqual([OTHER_PATH]);

    const old = await ssm.send(new DescribeAssociationCommand({ AssociationId: created.AssociationId, AssociationVersion: '1' }));
    expect(old.AssociationDescription).toMatchObject({ AssociationVersion: '1', Parameters: { storePath: [STORE_PATH] } });
    const { AssociationVersions } = await ssm.send(new ListAssociationVersionsCommand({ AssociationId: created.AssociationId }));
    expect(AssociationVersions!.map((v) => [v.AssociationVersion, v.Parameters!.storePath[0]])).toEqual([
      ['1', STORE_PATH],
      ['2', OTHER_PATH],
    ]);
  });

  it('clears the optional members an update leaves out, as AWS documents', async () => {
    fleet(1);
    const created = await create({ MaxConcurrency: '1', ScheduleExpression: 'rate(1 hour)' });
    const { AssociationDescription } = await ssm.send(
      new UpdateAssociationCommand({ AssociationId: created.AssociationId, Parameters: { storePath: [OTHER_PATH] } }),
    );
    expect(AssociationDescription).toMatchObject({ Name: NAME, Targets: TARGETS, DocumentVersion: '$DEFAULT' });
    expect(AssociationDescription!.AssociationName).toBeUndefined();
    expect(AssociationDescription!.MaxConcurrency).toBeUndefined();
    expect(AssociationDescription!.ScheduleExpression).toBeUndefined();
  });

  it.each([
    ['an older AssociationVersion', { AssociationVersion: '1' }, 'InvalidAssociationVersion'],
    ['a version that does not exist', { AssociationVersion: '9' }, 'InvalidAssociationVersion'],
    ['an unknown document version', { DocumentVersion: '7' }, 'InvalidDocumentVersion'],
    ['an unknown document', { Name: 'Missing-Document' }, 'InvalidDocument'],
    ['a parameter outside its pattern', { Parameters: { storePath: ['/tmp/x'] } }, 'InvalidParameters'],
    ['a schedule faster than 30 minutes', { ScheduleExpression: 'rate(10 minutes)' }, 'InvalidSchedule'],
    ['a target key of another form', { Targets: [{ Key: 'Role', Values: ['x'] }] }, 'InvalidTarget'],
  ])('refuses %s (%p) with %s and makes no version', async (_, change, code) => {
    fleet(1);
    const created = await create();
    await ssm.send(new UpdateAssociationCommand({ AssociationId: created.AssociationId, Parameters: { storePath: [STORE_PATH] } }));
    await expect(
      ssm.send(new UpdateAssociationCommand({ AssociationId: created.AssociationId, Parameters: { storePath: [OTHER_PATH] }, ...change })),
    ).rejects.toMatchObject({ name: code });
    const { AssociationVersions } = await ssm.send(new ListAssociationVersionsCommand({ AssociationId: created.AssociationId }));
    expect(AssociationVersions).toHaveLength(2);
  });
});

describe('ListAssociations', () => {
  it('finds an association by AssociationName and pages through many', async () => {
    fleet(1);
    for (let i = 0; i < 7; i++) await create({ AssociationName: `svc-${i}` });
    const { Associations } = await ssm.send(
      new ListAssociationsCommand({ AssociationFilterList: [{ key: 'AssociationName', value: 'svc-3' }] }),
    );
    expect(Associations).toHaveLength(1);
    expect(Associations![0]).toMatchObject({ AssociationName: 'svc-3', AssociationVersion: '1', Name: NAME, Targets: TARGETS });
    const first = await ssm.send(new ListAssociationsCommand({ MaxResults: 5 }));
    expect(first.Associations).toHaveLength(5);
    const second = await ssm.send(new ListAssociationsCommand({ MaxResults: 5, NextToken: first.NextToken }));
    expect(second.Associations).toHaveLength(2);
    expect(second.NextToken).toBeUndefined();
  });
});

describe('late instances, StartAssociationsOnce, DeleteAssociation', () => {
  it('runs the current version on an instance that appears later with the tag, alone', async () => {
    fleet(2);
    const created = await create();
    await ssm.send(new UpdateAssociationCommand({ AssociationId: created.AssociationId, Name: NAME, Targets: TARGETS, Parameters: { storePath: [OTHER_PATH] } }));
    seconds(120);
    const [late] = fleet(1, 20);
    fleet(1, 30, { Role: 'web' });
    const [newest] = await executions(created.AssociationId!);
    expect(newest).toMatchObject({ AssociationVersion: '2', Status: 'Pending' });
    seconds(60);
    const listed = await targets(created.AssociationId!, (await executions(created.AssociationId!))[0].ExecutionId!);
    expect(listed.map((t) => [t.ResourceId, t.Status])).toEqual([[late, 'Success']]);
    expect(sandbox.ssm.commands.at(-1)!.parameters.storePath).toEqual([OTHER_PATH]);
  });

  it('applies once on StartAssociationsOnce; refuses unknown IDs before running any', async () => {
    fleet(1);
    const created = await create();
    await ssm.send(new StartAssociationsOnceCommand({ AssociationIds: [created.AssociationId!] }));
    expect(await executions(created.AssociationId!)).toHaveLength(2);
    await expect(
      ssm.send(new StartAssociationsOnceCommand({ AssociationIds: [created.AssociationId!, '00000000-0000-0000-0000-000000000000'] })),
    ).rejects.toMatchObject({ name: 'AssociationDoesNotExist' });
    expect(await executions(created.AssociationId!)).toHaveLength(2);
  });

  it('deletes: the association no longer exists for any operation', async () => {
    fleet(1);
    const created = await create();
    await ssm.send(new DeleteAssociationCommand({ AssociationId: created.AssociationId }));
    for (const command of [
      new DescribeAssociationCommand({ AssociationId: created.AssociationId }),
      new DescribeAssociationExecutionsCommand({ AssociationId: created.AssociationId }),
      new DeleteAssociationCommand({ AssociationId: created.AssociationId }),
    ]) {
      await expect(ssm.send(command as never)).rejects.toMatchObject({ name: 'AssociationDoesNotExist' });
    }
  });

  it('answers AssociationExecutionDoesNotExist for an execution of another association', async () => {
    fleet(1);
    const a = await create();
    const b = await create();
    const [execution] = await executions(b.AssociationId!);
    await expect(
      ssm.send(new DescribeAssociationExecutionTargetsCommand({ AssociationId: a.AssociationId, ExecutionId: execution.ExecutionId })),
    ).rejects.toMatchObject({ name: 'AssociationExecutionDoesNotExist' });
  });
});

describe('schedules on the sandbox clock', () => {
  it('runs a rate schedule at each tick after the version was made', async () => {
    fleet(1);
    const created = await create({ ScheduleExpression: 'rate(30 minutes)' });
    seconds(29 * 60);
    expect(await executions(created.AssociationId!)).toHaveLength(1);
    seconds(2 * 60);
    const [tick, first] = await executions(created.AssociationId!);
    expect(first.Status).toBe('Success');
    expect(tick.CreatedTime!.getTime() - first.CreatedTime!.getTime()).toBe(30 * 60_000);
    seconds(60 * 60);
    expect(await executions(created.AssociationId!)).toHaveLength(4);
  });

  it('with ApplyOnlyAtCronInterval, waits for the cron (Overview Associated until then)', async () => {
    fleet(1);
    const created = await create({ ScheduleExpression: 'cron(0/30 * * * ? *)', ApplyOnlyAtCronInterval: true });
    expect(created.Overview).toMatchObject({ Status: 'Pending', DetailedStatus: 'Associated' });
    expect(await executions(created.AssociationId!)).toHaveLength(0);
    seconds(31 * 60);
    const [tick] = await executions(created.AssociationId!);
    expect(tick.CreatedTime!.getUTCMinutes() % 30).toBe(0);
    expect(tick.CreatedTime!.getUTCSeconds()).toBe(0);
  });

  it('runs at most the latest missed ticks when the clock is pushed far ahead', async () => {
    fleet(1);
    const created = await create({ ScheduleExpression: 'rate(30 minutes)' });
    seconds(30 * 24 * 60 * 60);
    expect(await executions(created.AssociationId!)).toHaveLength(21);
  });
});

describe('executions on the fleet model', () => {
  it('a new run stops the one still running: its unfinished targets are cancelled', async () => {
    const ids = fleet(4);
    const created = await create({ MaxConcurrency: '1' });
    seconds(15);
    await ssm.send(new StartAssociationsOnceCommand({ AssociationIds: [created.AssociationId!] }));
    seconds(120);
    const [again, first] = await executions(created.AssociationId!);
    expect(again).toMatchObject({ Status: 'Success', ResourceCountByStatus: '{Success=4}' });
    expect(first.Status).toBe('Failed');
    const listed = await targets(created.AssociationId!, first.ExecutionId!);
    expect(listed.map((t) => [t.ResourceId, t.Status, t.DetailedStatus])).toEqual([
      [ids[0], 'Success', 'Success'],
      [ids[1], 'Cancelled', 'Cancelled'],
      [ids[2], 'Cancelled', 'Cancelled'],
      [ids[3], 'Cancelled', 'Cancelled'],
    ]);
  });

  it('MaxErrors: past the budget the rest is Terminated, and MaxConcurrency ramps as Run Command does', async () => {
    const ids = fleet(5);
    for (const instanceId of ids.slice(0, 2)) sandbox.ssm.setOutcome(instanceId, { status: 'Failed' });
    const created = await create({ MaxConcurrency: '1', MaxErrors: '1' });
    seconds(120);
    const [execution] = await executions(created.AssociationId!);
    expect(execution).toMatchObject({ Status: 'Failed', ResourceCountByStatus: '{Cancelled=3, Failed=2}' });
    const listed = await targets(created.AssociationId!, execution.ExecutionId!);
    expect(listed.map((t) => t.DetailedStatus)).toEqual(['Failed', 'Failed', 'Terminated', 'Terminated', 'Terminated']);
  });

  it('pages 500 targets 50 at a time, and refuses a token of another query', async () => {
    fleet(500);
    const created = await create({ MaxConcurrency: '100%', MaxErrors: '100%' });
    seconds(600);
    const [execution] = await executions(created.AssociationId!);
    expect(execution.ResourceCountByStatus).toBe('{Success=500}');
    const before = sandbox.calls.of('DescribeAssociationExecutionTargets').length;
    expect(await targets(created.AssociationId!, execution.ExecutionId!)).toHaveLength(500);
    expect(sandbox.calls.of('DescribeAssociationExecutionTargets').length - before).toBe(10);
    const { NextToken } = await ssm.send(
      new DescribeAssociationExecutionTargetsCommand({ AssociationId: created.AssociationId, ExecutionId: execution.ExecutionId }),
    );
    expect(NextToken).toBeDefined();
    await expect(
      ssm.send(new DescribeAssociationExecutionsCommand({ AssociationId: created.AssociationId, NextToken })),
    ).rejects.toMatchObject({ name: 'InvalidNextToken' });
    await expect(
      ssm.send(new DescribeAssociationExecutionTargetsCommand({ AssociationId: created.AssociationId, ExecutionId: execution.ExecutionId, MaxResults: 51 })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('filters executions by status and creation time, and targets by status', async () => {
    const [, failing] = fleet(2);
    sandbox.ssm.setOutcome(failing, { status: 'Failed' });
    const created = await create({ MaxErrors: '1' });
    seconds(120);
    sandbox.ssm.setOutcome(failing, undefined);
    await ssm.send(new StartAssociationsOnceCommand({ AssociationIds: [created.AssociationId!] }));
    seconds(120);
    const [second, first] = await executions(created.AssociationId!);
    const filtered = async (Key: 'Status' | 'CreatedTime' | 'ExecutionId', Value: string, Type: 'EQUAL' | 'LESS_THAN' | 'GREATER_THAN' = 'EQUAL') =>
      (await ssm.send(new DescribeAssociationExecutionsCommand({ AssociationId: created.AssociationId, Filters: [{ Key, Value, Type }] })))
        .AssociationExecutions!.map((e) => e.ExecutionId);
    expect(await filtered('Status', 'Failed')).toEqual([first.ExecutionId]);
    expect(await filtered('ExecutionId', second.ExecutionId!)).toEqual([second.ExecutionId]);
    expect(await filtered('CreatedTime', second.CreatedTime!.toISOString(), 'LESS_THAN')).toEqual([first.ExecutionId]);
    expect(await filtered('CreatedTime', first.CreatedTime!.toISOString(), 'GREATER_THAN')).toEqual([second.ExecutionId]);
    const { AssociationExecutionTargets } = await ssm.send(
      new DescribeAssociationExecutionTargetsCommand({
        AssociationId: created.AssociationId,
        ExecutionId: first.ExecutionId,
        Filters: [{ Key: 'Status', Value: 'Failed' }],
      }),
    );
    expect(AssociationExecutionTargets!.map((t) => t.ResourceId)).toEqual([failing]);
    await expect(
      ssm.send(new DescribeAssociationExecutionsCommand({ AssociationId: created.AssociationId, Filters: [{ Key: 'Status', Value: 'Failed', Type: 'LESS_THAN' }] })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('CreateAssociation refuses, and creates nothing', () => {
  it.each([
    ['both InstanceId and Targets', { InstanceId: id(1) }, 'InvalidTarget'],
    ['neither InstanceId nor Targets', { Targets: [] }, 'InvalidTarget'],
    ['an InstanceId that is not managed', { Targets: undefined, InstanceId: id(99) }, 'InvalidInstanceId'],
    ['a target without values', { Targets: [{ Key: 'tag:Role', Values: [] }] }, 'InvalidTarget'],
    ['InstanceIds that are not instance IDs', { Targets: [{ Key: 'InstanceIds', Values: ['web-1'] }] }, 'InvalidTarget'],
    ['resource groups', { Targets: [{ Key: 'resource-groups:Name', Values: ['g'] }] }, 'InvalidTarget'],
    ['a required parameter left out', { Parameters: {} }, 'InvalidParameters'],
    ['a parameter with two values', { Parameters: { storePath: [STORE_PATH, STORE_PATH] } }, 'InvalidParameters'],
    ['a value outside allowedValues', { Parameters: { storePath: [STORE_PATH], action: ['rollback'] } }, 'InvalidParameters'],
    ['$LATEST as a typo', { DocumentVersion: 'LATEST' }, 'ValidationException'],
    ['an AssociationName with a space', { AssociationName: 'my deploy' }, 'ValidationException'],
    ['an AssociationName of 2 characters', { AssociationName: 'ab' }, 'ValidationException'],
    ['MaxConcurrency 0', { MaxConcurrency: '0' }, 'ValidationException'],
    ['six targets', { Targets: Array.from({ length: 6 }, (_, i) => ({ Key: `tag:K${i}`, Values: ['v'] })) }, 'ValidationException'],
    ['a ScheduleOffset with a rate', { ScheduleExpression: 'rate(1 day)', ScheduleOffset: 2 }, 'InvalidSchedule'],
    ['ApplyOnlyAtCronInterval without a schedule', { ApplyOnlyAtCronInterval: true }, 'InvalidSchedule'],
    ['TargetMaps, which the sandbox does not serve', { TargetMaps: [{ a: ['b'] }] }, 'ValidationException'],
  ])('%s', async (_, change, code) => {
    fleet(1);
    const before = sandbox.ssm.commands.length;
    await expect(create(change as Partial<CreateAssociationCommandInput>)).rejects.toMatchObject({ name: code });
    expect(sandbox.ssm.associations.store.size).toBe(0);
    expect(sandbox.ssm.commands.length).toBe(before);
  });

  it('allows a second association with the same name, document and targets, as AWS does', async () => {
    fleet(1);
    const a = await create();
    const b = await create();
    expect(b.AssociationId).not.toBe(a.AssociationId);
    const { Associations } = await ssm.send(
      new ListAssociationsCommand({ AssociationFilterList: [{ key: 'AssociationName', value: 'monitoring' }] }),
    );
    expect(Associations).toHaveLength(2);
  });
});

describe('limits', () => {
  it('refuses the 1001st version with AssociationVersionLimitExceeded', async () => {
    fleet(1);
    const created = await create({ ApplyOnlyAtCronInterval: true, ScheduleExpression: 'cron(0 2 ? * SUN *)' });
    const update = sandbox.ssm.associations.operations.UpdateAssociation;
    const request = { AssociationId: created.AssociationId, Name: NAME, Targets: TARGETS, Parameters: { storePath: [STORE_PATH] }, ScheduleExpression: 'cron(0 2 ? * SUN *)', ApplyOnlyAtCronInterval: true };
    for (let v = 2; v <= 1000; v++) update(request, undefined as never);
    await expect(
      ssm.send(new UpdateAssociationCommand(request as never)),
    ).rejects.toMatchObject({ name: 'AssociationVersionLimitExceeded' });
    const { AssociationDescription } = await ssm.send(new DescribeAssociationCommand({ AssociationId: created.AssociationId }));
    expect(AssociationDescription!.AssociationVersion).toBe('1000');
  });
});
