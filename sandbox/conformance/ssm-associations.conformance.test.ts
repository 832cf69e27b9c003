/**
 * State Manager through Debian's AWS CLI: every association operation, with its errors, read by AWS's own parsers.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Sandbox } from '../server.js';
import { DEPLOY_CONTENT, STORE_PATH } from '../services/ssm/fixtures.js';
import { awsCli, expectAllOperationsCovered } from './aws-cli.js';

const NAME = 'NixOS-Deploy';
const OTHER_PATH = STORE_PATH.replace('web-24.11', 'web-25.05');
const IDS = ['i-0000000000000000a', 'i-0000000000000000b', 'i-0000000000000000c'];
const TARGETS = JSON.stringify([{ Key: 'tag:Role', Values: ['monitoring'] }]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('State Manager through the AWS CLI', () => {
  // Frozen: time moves only by clock.advance, however long each CLI process takes.
  const sandbox = new Sandbox({ speed: 0 });
  const seen = new Set<string>();
  let associationId = '';
  let executionId = '';
  beforeAll(async () => {
    await sandbox.start();
    sandbox.ssm.createDocument({ name: NAME, content: DEPLOY_CONTENT });
    for (const instanceId of IDS) {
      sandbox.ssm.addInstance({ instanceId, tags: { Role: 'monitoring' }, outcome: { status: 'Success', stdout: `switched ${instanceId}\n` } });
    }
    sandbox.ssm.setOutcome(IDS[2], { status: 'Failed', responseCode: 1, stderr: 'activation failed\n' });
  });
  afterAll(() => sandbox.stop());
  const record = () => sandbox.calls.all().forEach((c) => c.status === 200 && seen.add(c.operation));
  const ssm = async (...args: string[]) => {
    const result = await awsCli(sandbox, ['ssm', ...args]);
    record();
    return result;
  };
  const refused = async (code: string, operation: string, ...args: string[]) => {
    const before = sandbox.calls.all().length;
    const result = await ssm(...args);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`(${code}) when calling the ${operation} operation`);
    expect(sandbox.calls.all().length - before).toBe(1);
  };

  it('create-association', async () => {
    const result = await ssm(
      'create-association',
      '--name', NAME,
      '--document-version', '1',
      '--association-name', 'monitoring',
      '--targets', TARGETS,
      '--parameters', JSON.stringify({ storePath: [STORE_PATH] }),
      '--max-concurrency', '2',
      '--max-errors', '1',
      '--schedule-expression', 'rate(1 day)',
    );
    expect(result).toMatchObject({
      code: 0,
      json: {
        AssociationDescription: {
          Name: NAME,
          AssociationVersion: '1',
          DocumentVersion: '1',
          AssociationName: 'monitoring',
          ScheduleExpression: 'rate(1 day)',
          MaxConcurrency: '2',
          MaxErrors: '1',
          Overview: { Status: 'Pending', DetailedStatus: 'Creating' },
        },
      },
    });
    associationId = result.json.AssociationDescription.AssociationId;
    expect(associationId).toMatch(UUID);
  });

  it.each([
    ['InvalidSchedule', ['--schedule-expression', 'rate(5 minutes)']],
    ['InvalidSchedule', ['--schedule-expression', 'cron(0 2 1 * ? *)']],
    ['InvalidSchedule', ['--schedule-expression', 'rate(1 day)', '--apply-only-at-cron-interval']],
    ['InvalidParameters', ['--parameters', JSON.stringify({ storePath: ['/nix/store/x;reboot'] })]],
    ['InvalidParameters', ['--parameters', JSON.stringify({ storPath: [STORE_PATH] })]],
    ['InvalidDocumentVersion', ['--document-version', '5']],
    ['InvalidTarget', ['--targets', JSON.stringify([{ Key: 'InstanceIds', Values: [IDS[0]] }, { Key: 'tag:Role', Values: ['x'] }])]],
    ['ValidationException', ['--association-name', 'a b']],
    ['ValidationException', ['--max-errors', '101%']],
  ])('create-association refuses with %s: %j', async (code, args) => {
    const base = ['--name', NAME, '--targets', TARGETS, '--parameters', JSON.stringify({ storePath: [STORE_PATH] })];
    await refused(code, 'CreateAssociation', 'create-association', ...base, ...args);
    expect(sandbox.ssm.associations.store.size).toBe(1);
  });

  it('create-association refuses an unknown document', async () => {
    await refused('InvalidDocument', 'CreateAssociation', 'create-association', '--name', 'Nope-Document', '--targets', TARGETS);
  });

  it('create-association refuses a second legacy association of one document with one instance', async () => {
    const args = ['create-association', '--name', NAME, '--instance-id', IDS[0], '--parameters', JSON.stringify({ storePath: [STORE_PATH] })];
    const first = await ssm(...args);
    expect(first).toMatchObject({ code: 0, json: { AssociationDescription: { InstanceId: IDS[0], Status: { Name: 'Pending' } } } });
    await refused('AssociationAlreadyExists', 'CreateAssociation', ...args);
    const deleted = await ssm('delete-association', '--name', NAME, '--instance-id', IDS[0]);
    expect(deleted.code).toBe(0);
  });

  it('describe-association-executions, following every page', async () => {
    sandbox.clock.advance(120_000);
    const result = await ssm('describe-association-executions', '--association-id', associationId);
    expect(result).toMatchObject({
      code: 0,
      json: { AssociationExecutions: [{ AssociationId: associationId, AssociationVersion: '1', Status: 'Failed', DetailedStatus: 'Failed', ResourceCountByStatus: '{Failed=1, Success=2}' }] },
    });
    executionId = result.json.AssociationExecutions[0].ExecutionId;
    expect(executionId).toMatch(UUID);
  });

  it('describe-association-execution-targets, following every page', async () => {
    const before = sandbox.calls.of('DescribeAssociationExecutionTargets').length;
    const result = await ssm(
      'describe-association-execution-targets', '--association-id', associationId, '--execution-id', executionId, '--page-size', '2',
    );
    expect(result.code).toBe(0);
    expect(sandbox.calls.of('DescribeAssociationExecutionTargets').length - before).toBe(2);
    expect(result.json.AssociationExecutionTargets.map((t: { ResourceId: string; Status: string }) => [t.ResourceId, t.Status])).toEqual([
      [IDS[0], 'Success'],
      [IDS[1], 'Success'],
      [IDS[2], 'Failed'],
    ]);
    const failed = result.json.AssociationExecutionTargets[2];
    expect(failed).toMatchObject({ ResourceType: 'ManagedInstance', DetailedStatus: 'Failed', OutputSource: { OutputSourceType: 'RunCommand' } });
    const output = await ssm('get-command-invocation', '--command-id', failed.OutputSource.OutputSourceId, '--instance-id', IDS[2]);
    expect(output).toMatchObject({ code: 0, json: { Status: 'Failed', ResponseCode: 1, StandardErrorContent: 'activation failed\n' } });
  });

  it('describe-association-execution-targets refuses an unknown execution', async () => {
    await refused(
      'AssociationExecutionDoesNotExist', 'DescribeAssociationExecutionTargets',
      'describe-association-execution-targets', '--association-id', associationId, '--execution-id', '00000000-0000-0000-0000-000000000000',
    );
  });

  it('update-association', async () => {
    sandbox.ssm.setOutcome(IDS[2], undefined);
    const result = await ssm(
      'update-association',
      '--association-id', associationId,
      '--association-version', '1',
      '--name', NAME,
      '--document-version', '1',
      '--association-name', 'monitoring',
      '--targets', TARGETS,
      '--parameters', JSON.stringify({ storePath: [OTHER_PATH] }),
      '--max-concurrency', '2',
      '--max-errors', '1',
    );
    expect(result).toMatchObject({ code: 0, json: { AssociationDescription: { AssociationVersion: '2', Parameters: { storePath: [OTHER_PATH] } } } });
  });

  it('update-association refuses a stale version and an unknown association', async () => {
    await refused('InvalidAssociationVersion', 'UpdateAssociation', 'update-association', '--association-id', associationId, '--association-version', '1');
    await refused('AssociationDoesNotExist', 'UpdateAssociation', 'update-association', '--association-id', '00000000-0000-0000-0000-000000000000');
  });

  it('describe-association', async () => {
    sandbox.clock.advance(120_000);
    const result = await ssm('describe-association', '--association-id', associationId);
    expect(result).toMatchObject({
      code: 0,
      json: {
        AssociationDescription: {
          AssociationVersion: '2',
          Overview: { Status: 'Success', DetailedStatus: 'Success', AssociationStatusAggregatedCount: { Success: 3 } },
        },
      },
    });
    await refused('InvalidAssociationVersion', 'DescribeAssociation', 'describe-association', '--association-id', associationId, '--association-version', '3');
  });

  it('list-associations', async () => {
    const result = await ssm('list-associations', '--association-filter-list', 'key=AssociationName,value=monitoring');
    expect(result).toMatchObject({ code: 0, json: { Associations: [{ AssociationId: associationId, AssociationVersion: '2', Name: NAME }] } });
  });

  it('list-association-versions', async () => {
    const result = await ssm('list-association-versions', '--association-id', associationId);
    expect(result.code).toBe(0);
    expect(result.json.AssociationVersions.map((v: { AssociationVersion: string }) => v.AssociationVersion)).toEqual(['1', '2']);
  });

  it('start-associations-once', async () => {
    const result = await ssm('start-associations-once', '--association-ids', associationId);
    expect(result.code).toBe(0);
    const executions = await ssm('describe-association-executions', '--association-id', associationId);
    expect(executions.json.AssociationExecutions).toHaveLength(3);
    await refused('AssociationDoesNotExist', 'StartAssociationsOnce', 'start-associations-once', '--association-ids', '00000000-0000-0000-0000-000000000000');
  });

  it('delete-association', async () => {
    expect(await ssm('delete-association', '--association-id', associationId)).toMatchObject({ code: 0 });
    await refused('AssociationDoesNotExist', 'DescribeAssociation', 'describe-association', '--association-id', associationId);
  });

  it('covers every State Manager operation the sandbox implements', () => {
    expectAllOperationsCovered(sandbox, 'ssm', seen, (operation) => Object.hasOwn(sandbox.ssm.associations.operations, operation));
  });
});
