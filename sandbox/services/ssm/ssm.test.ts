import { createHash } from 'node:crypto';
import {
  CancelCommandCommand,
  CreateDocumentCommand,
  DescribeDocumentCommand,
  GetCommandInvocationCommand,
  GetDocumentCommand,
  GetParameterCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  paginateListCommandInvocations,
  SendCommandCommand,
  SSMClient,
  UpdateDocumentCommand,
  UpdateDocumentDefaultVersionCommand,
  type CommandInvocation,
  type SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { stringify as toYaml } from 'yaml';
import { Sandbox, STATIC_CREDENTIALS } from '../../server.js';
import { DEPLOY_CONTENT, DEPLOY_DOCUMENT, STORE_PATH } from './fixtures.js';

// Frozen: time moves only by clock.advance, so every status below is read at an exact moment.
const sandbox = new Sandbox({ speed: 0 });
let ssm: SSMClient;
beforeAll(async () => {
  await sandbox.start();
  ssm = new SSMClient({ region: 'us-east-1', endpoint: sandbox.url, credentials: STATIC_CREDENTIALS, maxAttempts: 1 });
});
afterAll(() => sandbox.stop());
beforeEach(() => sandbox.reset());

const NAME = 'NixOS-Deploy';
const CHANGED = DEPLOY_CONTENT.replace('Switch an instance', 'Switch a machine');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const id = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
const seconds = (s: number) => sandbox.clock.advance(s * 1000);

async function withDocument(): Promise<void> {
  await ssm.send(new CreateDocumentCommand({ Name: NAME, Content: DEPLOY_CONTENT, DocumentType: 'Command' }));
}

function fleet(count: number, tags: Record<string, string> = { Role: 'web' }): string[] {
  const ids = Array.from({ length: count }, (_, i) => id(i + 1));
  for (const instanceId of ids) sandbox.ssm.addInstance({ instanceId, tags });
  return ids;
}

async function send(input: Partial<SendCommandCommandInput> = {}) {
  const { Command } = await ssm.send(
    new SendCommandCommand({ DocumentName: NAME, Parameters: { storePath: [STORE_PATH] }, ...input }),
  );
  return Command!;
}

async function invocations(commandId: string): Promise<CommandInvocation[]> {
  const all: CommandInvocation[] = [];
  for await (const page of paginateListCommandInvocations({ client: ssm }, { CommandId: commandId })) {
    all.push(...(page.CommandInvocations ?? []));
  }
  return all;
}

async function commandStatus(commandId: string) {
  const { Commands } = await ssm.send(new ListCommandsCommand({ CommandId: commandId }));
  return Commands![0];
}

describe('documents', () => {
  it('creates, describes, versions and reads a document', async () => {
    const created = await ssm.send(new CreateDocumentCommand({ Name: NAME, Content: DEPLOY_CONTENT, DocumentType: 'Command' }));
    expect(created.DocumentDescription).toMatchObject({
      Name: NAME,
      Hash: sha256(DEPLOY_CONTENT),
      HashType: 'Sha256',
      Status: 'Creating',
      DocumentVersion: '1',
      LatestVersion: '1',
      DefaultVersion: '1',
      SchemaVersion: '2.2',
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
      Owner: sandbox.accountId,
      PlatformTypes: ['Linux', 'MacOS'],
      Description: DEPLOY_DOCUMENT.description,
    });
    expect(created.DocumentDescription!.CreatedDate).toBeInstanceOf(Date);
    expect(created.DocumentDescription!.Parameters).toEqual([
      { Name: 'storePath', Type: 'String', Description: 'The system closure' },
      { Name: 'action', Type: 'String', DefaultValue: 'switch' },
      { Name: 'substituters', Type: 'String', DefaultValue: '' },
      { Name: 'units', Type: 'StringList', DefaultValue: '[]' },
      { Name: 'executionTimeout', Type: 'String', DefaultValue: '3600' },
    ]);

    const updated = await ssm.send(new UpdateDocumentCommand({ Name: NAME, Content: CHANGED, DocumentVersion: '$LATEST' }));
    expect(updated.DocumentDescription).toMatchObject({ DocumentVersion: '2', LatestVersion: '2', DefaultVersion: '1', Status: 'Updating' });

    const described = await ssm.send(new DescribeDocumentCommand({ Name: NAME }));
    expect(described.Document).toMatchObject({ DocumentVersion: '1', Hash: sha256(DEPLOY_CONTENT), Status: 'Active', LatestVersion: '2' });

    const defaulted = await ssm.send(new UpdateDocumentDefaultVersionCommand({ Name: NAME, DocumentVersion: '2' }));
    expect(defaulted.Description).toEqual({ Name: NAME, DefaultVersion: '2' });
    await expect(ssm.send(new GetDocumentCommand({ Name: NAME }))).resolves.toMatchObject({
      Content: CHANGED,
      DocumentVersion: '2',
      Status: 'Active',
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
    });
    await expect(ssm.send(new GetDocumentCommand({ Name: NAME, DocumentVersion: '1' }))).resolves.toMatchObject({ Content: DEPLOY_CONTENT });
  });

  it('takes YAML and hands it out as JSON', async () => {
    const yaml = toYaml(DEPLOY_DOCUMENT);
    const created = await ssm.send(new CreateDocumentCommand({ Name: NAME, Content: yaml, DocumentFormat: 'YAML' }));
    expect(created.DocumentDescription).toMatchObject({ Hash: sha256(yaml), DocumentFormat: 'YAML' });
    const asJson = await ssm.send(new GetDocumentCommand({ Name: NAME, DocumentFormat: 'JSON' }));
    expect(JSON.parse(asJson.Content!)).toEqual(DEPLOY_DOCUMENT);
  });
});

describe('errors', () => {
  const cases: [string, () => Promise<unknown>][] = [
    ['DocumentAlreadyExists', () => ssm.send(new CreateDocumentCommand({ Name: NAME, Content: DEPLOY_CONTENT }))],
    ['InvalidDocumentContent', () => ssm.send(new CreateDocumentCommand({ Name: 'Other', Content: '{"schemaVersion":"2.2"}' }))],
    ['InvalidDocumentSchemaVersion', () => ssm.send(new CreateDocumentCommand({ Name: 'Other', Content: DEPLOY_CONTENT.replace('"2.2"', '"1.2"') }))],
    ['MaxDocumentSizeExceeded', () => ssm.send(new CreateDocumentCommand({ Name: 'Other', Content: ' '.repeat(70_000) }))],
    ['DuplicateDocumentContent', () => ssm.send(new UpdateDocumentCommand({ Name: NAME, Content: DEPLOY_CONTENT }))],
    ['DuplicateDocumentVersionName', async () => {
      await ssm.send(new UpdateDocumentCommand({ Name: NAME, Content: CHANGED, VersionName: 'v2' }));
      return ssm.send(new UpdateDocumentCommand({ Name: NAME, Content: DEPLOY_CONTENT, VersionName: 'v2' }));
    }],
    ['InvalidDocument', () => ssm.send(new DescribeDocumentCommand({ Name: 'Missing' }))],
    ['InvalidDocumentVersion', () => ssm.send(new GetDocumentCommand({ Name: NAME, DocumentVersion: '9' }))],
    ['InvalidDocumentVersion', () => ssm.send(new UpdateDocumentDefaultVersionCommand({ Name: NAME, DocumentVersion: '2' }))],
    ['ValidationException', () => ssm.send(new DescribeDocumentCommand({ Name: 'no spaces allowed' }))],
    ['ValidationException', () => send({ MaxConcurrency: '0' })],
    ['ValidationException', () => send({ MaxErrors: '101%' })],
    ['ValidationException', () => send({ TimeoutSeconds: 10, InstanceIds: [id(1)] })],
    ['ValidationException', () => send({ InstanceIds: Array.from({ length: 51 }, (_, i) => id(i)) })],
    ['ValidationException', () => send({ InstanceIds: [id(1)], Targets: [{ Key: 'tag:Role', Values: ['web'] }] })],
    ['ValidationException', () => send({})],
    ['ValidationException', () => send({ Targets: Array(6).fill({ Key: 'tag:Role', Values: ['web'] }) })],
    ['ValidationException', () => send({ Targets: [{ Key: 'Role', Values: ['web'] }] })],
    ['InvalidDocument', () => send({ DocumentName: 'Missing', InstanceIds: [id(1)] })],
    ['InvalidDocument', () => send({ InstanceIds: [id(1)], DocumentHash: sha256(CHANGED), DocumentHashType: 'Sha256' })],
    ['InvalidDocumentVersion', () => send({ InstanceIds: [id(1)], DocumentVersion: '3' })],
    ['InvalidParameters', () => send({ InstanceIds: [id(1)], Parameters: { storePath: ['/nix/store/x; reboot'] } })],
    ['InvalidParameters', () => send({ InstanceIds: [id(1)], Parameters: {} })],
    ['InvalidParameters', () => send({ InstanceIds: [id(1)], Parameters: { storePath: [STORE_PATH], substituters: [`https://${'a'.repeat(4089)}`] } })],
    ['InvalidParameters', () => send({ InstanceIds: [id(1)], Parameters: { storePath: [STORE_PATH], extra: ['x'] } })],
    ['InvalidInstanceId', () => send({ InstanceIds: [id(99)] })],
    ['InvalidInstanceId', () => send({ InstanceIds: [id(2)] })],
    ['InvalidInstanceId', () => send({ Targets: [{ Key: 'InstanceIds', Values: [id(1), id(99)] }] })],
    ['InvalidCommandId', () => ssm.send(new ListCommandsCommand({ CommandId: '00000000-0000-4000-8000-000000000000' }))],
    ['InvalidCommandId', () => ssm.send(new CancelCommandCommand({ CommandId: '00000000-0000-4000-8000-000000000000' }))],
    ['InvocationDoesNotExist', () => ssm.send(new GetCommandInvocationCommand({ CommandId: '00000000-0000-4000-8000-000000000000', InstanceId: id(1) }))],
    ['InvalidFilterKey', () => ssm.send(new ListCommandInvocationsCommand({ Filters: [{ key: 'ExecutionStage', value: 'Complete' }] }))],
    ['InvalidNextToken', () => ssm.send(new ListCommandsCommand({ NextToken: 'bm9wZQ==' }))],
    ['ParameterNotFound', () => ssm.send(new GetParameterCommand({ Name: '/missing' }))],
    ['ParameterVersionNotFound', () => ssm.send(new GetParameterCommand({ Name: '/app/token:5' }))],
  ];

  it.each(cases)('%s', async (code, act) => {
    await withDocument();
    sandbox.ssm.addInstance({ instanceId: id(1) });
    sandbox.ssm.addInstance({ instanceId: id(2), pingStatus: 'Inactive' });
    sandbox.ssm.putParameter({ name: '/app/token', value: 'secret', type: 'SecureString' });
    const error = await act().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error).toMatchObject({ name: code, $metadata: { httpStatusCode: 400 } });
    expect(error!.message).not.toBe('');
  });

  it('holds a value to its maxChars though its pattern takes it: 4096 characters pass, 4097 do not', async () => {
    await withDocument();
    fleet(1);
    const substituters = (length: number) => ({ storePath: [STORE_PATH], substituters: [`https://${'a'.repeat(length - 8)}`] });
    await expect(send({ InstanceIds: [id(1)], Parameters: substituters(4096) })).resolves.toMatchObject({ Status: 'Pending' });
    await expect(send({ InstanceIds: [id(1)], Parameters: substituters(4097) })).rejects.toMatchObject({
      name: 'InvalidParameters',
      message: expect.stringContaining('at most 4096 characters'),
    });
    expect(sandbox.ssm.commands).toHaveLength(1);
  });

  it('sends nothing when a parameter fails its pattern', async () => {
    await withDocument();
    fleet(1);
    await expect(send({ InstanceIds: [id(1)], Parameters: { storePath: [`${STORE_PATH}'`] } })).rejects.toMatchObject({
      name: 'InvalidParameters',
    });
    expect(sandbox.ssm.commands).toHaveLength(0);
  });
});

describe('Run Command', () => {
  beforeEach(withDocument);

  it('answers SendCommand like AWS and records what reached the instances', async () => {
    fleet(2);
    const command = await send({ InstanceIds: [id(1), id(2)], Comment: 'deploy abc', TimeoutSeconds: 600 });
    expect(command).toMatchObject({
      DocumentName: NAME,
      DocumentVersion: '',
      Comment: 'deploy abc',
      Status: 'Pending',
      StatusDetails: 'Pending',
      InstanceIds: [id(1), id(2)],
      Targets: [],
      MaxConcurrency: '50',
      MaxErrors: '0',
      TargetCount: 2,
      CompletedCount: 0,
      ErrorCount: 0,
      DeliveryTimedOutCount: 0,
      TimeoutSeconds: 600,
      Parameters: { storePath: [STORE_PATH] },
    });
    expect(command.CommandId).toMatch(/^[0-9a-f-]{36}$/);
    expect(command.ExpiresAfter!.getTime() - command.RequestedDateTime!.getTime()).toBe((600 + 3600) * 1000);
    expect(sandbox.ssm.command(command.CommandId!)).toMatchObject({
      documentVersion: 1,
      documentHash: sha256(DEPLOY_CONTENT),
      resolvedInstanceIds: [id(1), id(2)],
      parameters: { storePath: [STORE_PATH], action: ['switch'], substituters: [''], units: [], executionTimeout: ['3600'] },
    });
  });

  it('runs on instances by tag, resolved a moment after the send', async () => {
    fleet(2, { Role: 'web', Env: 'prod' });
    sandbox.ssm.addInstance({ instanceId: id(3), tags: { Role: 'db', Env: 'prod' } });
    sandbox.ssm.addInstance({ instanceId: id(4), tags: { Role: 'web', Env: 'dev' } });
    const command = await send({
      Targets: [
        { Key: 'tag:Role', Values: ['web', 'api'] },
        { Key: 'tag:Env', Values: ['prod'] },
      ],
    });
    expect(command).toMatchObject({ TargetCount: 0, InstanceIds: [], Targets: [{ Key: 'tag:Role' }, { Key: 'tag:Env' }] });
    await expect(
      ssm.send(new GetCommandInvocationCommand({ CommandId: command.CommandId, InstanceId: id(1) })),
    ).rejects.toMatchObject({ name: 'InvocationDoesNotExist' });
    expect(await invocations(command.CommandId!)).toEqual([]);

    seconds(2);
    expect((await invocations(command.CommandId!)).map((i) => [i.InstanceId, i.Status])).toEqual([
      [id(1), 'Pending'],
      [id(2), 'Pending'],
    ]);
    expect(await commandStatus(command.CommandId!)).toMatchObject({ Status: 'Pending', TargetCount: 2 });
    seconds(30);
    expect(await commandStatus(command.CommandId!)).toMatchObject({
      Status: 'Success',
      StatusDetails: 'Success',
      CompletedCount: 2,
    });
  });

  it('runs on instances named by an InstanceIds target', async () => {
    fleet(3);
    const command = await send({ Targets: [{ Key: 'InstanceIds', Values: [id(3), id(1)] }] });
    expect(command).toMatchObject({ InstanceIds: [], Targets: [{ Key: 'InstanceIds', Values: [id(3), id(1)] }] });
    seconds(2);
    expect((await invocations(command.CommandId!)).map((i) => i.InstanceId)).toEqual([id(3), id(1)]);
  });

  it('finishes with NoInstancesInTag when the tags match nothing', async () => {
    fleet(1);
    const command = await send({ Targets: [{ Key: 'tag:Role', Values: ['nothing'] }] });
    seconds(3);
    expect(await commandStatus(command.CommandId!)).toMatchObject({
      Status: 'Success',
      StatusDetails: 'NoInstancesInTag',
      TargetCount: 0,
    });
  });

  it('gives each instance its scripted outcome and output', async () => {
    fleet(3);
    sandbox.ssm.setOutcome(id(2), { status: 'Failed', responseCode: 4, stdout: 'o'.repeat(30_000), stderr: 'e'.repeat(9_000), durationSeconds: 5 });
    sandbox.ssm.setOutcome(id(3), { status: 'Undeliverable' });
    const command = await send({ InstanceIds: [id(1), id(2), id(3)], MaxErrors: '1' });
    seconds(0.5);
    const running = await ssm.send(new GetCommandInvocationCommand({ CommandId: command.CommandId, InstanceId: id(1) }));
    expect(running).toMatchObject({ Status: 'InProgress', ResponseCode: -1, ExecutionEndDateTime: '', StandardOutputContent: '' });
    seconds(30);
    const failed = await ssm.send(new GetCommandInvocationCommand({ CommandId: command.CommandId, InstanceId: id(2), PluginName: 'deploy' }));
    expect(failed).toMatchObject({
      PluginName: 'deploy',
      Status: 'Failed',
      StatusDetails: 'Failed',
      ResponseCode: 4,
      ExecutionElapsedTime: 'PT5S',
    });
    expect(failed.StandardOutputContent).toHaveLength(24_000);
    expect(failed.StandardErrorContent).toHaveLength(8_000);
    expect(failed.ExecutionStartDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(failed.ExecutionEndDateTime!) - Date.parse(failed.ExecutionStartDateTime!)).toBe(5000);
    await expect(ssm.send(new GetCommandInvocationCommand({ CommandId: command.CommandId, InstanceId: id(3) }))).resolves.toMatchObject({
      Status: 'Failed',
      StatusDetails: 'Undeliverable',
      ResponseCode: -1,
      ExecutionStartDateTime: '',
    });
    await expect(
      ssm.send(new GetCommandInvocationCommand({ CommandId: command.CommandId, InstanceId: id(1), PluginName: 'other' })),
    ).rejects.toMatchObject({ name: 'InvalidPluginName' });
    expect(await commandStatus(command.CommandId!)).toMatchObject({ Status: 'Success', StatusDetails: 'Incomplete', ErrorCount: 1 });
  });

  it('scripts outcomes from the parameters', async () => {
    const bad = STORE_PATH.replace('web', 'broken');
    fleet(2);
    for (const instanceId of [id(1), id(2)]) {
      sandbox.ssm.setOutcome(instanceId, ({ parameters }) =>
        parameters.storePath[0] === bad ? { status: 'Failed', stderr: 'switch failed' } : { status: 'Success' },
      );
    }
    const good = await send({ InstanceIds: [id(1), id(2)] });
    const broken = await send({ InstanceIds: [id(1), id(2)], Parameters: { storePath: [bad] } });
    seconds(60);
    expect((await commandStatus(good.CommandId!)).Status).toBe('Success');
    expect((await commandStatus(broken.CommandId!)).Status).toBe('Failed');
  });

  it('pages through invocations with details', async () => {
    fleet(120);
    const command = await send({ Targets: [{ Key: 'tag:Role', Values: ['web'] }], MaxConcurrency: '100%', MaxErrors: '0' });
    seconds(60);
    const first = await ssm.send(new ListCommandInvocationsCommand({ CommandId: command.CommandId, MaxResults: 50, Details: true }));
    expect(first.CommandInvocations).toHaveLength(50);
    expect(first.CommandInvocations![0].CommandPlugins).toMatchObject([{ Name: 'deploy', Status: 'Success', ResponseCode: 0 }]);
    const pages: number[] = [];
    for await (const page of paginateListCommandInvocations({ client: ssm, pageSize: 50 }, { CommandId: command.CommandId })) {
      pages.push(page.CommandInvocations!.length);
      expect(page.CommandInvocations!.every((i) => i.CommandPlugins!.length === 0)).toBe(true);
    }
    expect(pages).toEqual([50, 50, 20]);
    expect(new Set((await invocations(command.CommandId!)).map((i) => i.InstanceId)).size).toBe(120);
    await expect(
      ssm.send(new ListCommandInvocationsCommand({ CommandId: command.CommandId, NextToken: first.NextToken, Details: false })),
    ).rejects.toMatchObject({ name: 'InvalidNextToken' });
  });

  it('ramps concurrency up from one instance', async () => {
    fleet(10);
    const command = await send({ Targets: [{ Key: 'tag:Role', Values: ['web'] }], MaxConcurrency: '5' });
    const inProgress: number[] = [];
    seconds(2.5 + 5);
    for (let wave = 0; wave < 4; wave++) {
      inProgress.push((await invocations(command.CommandId!)).filter((i) => i.Status === 'InProgress').length);
      seconds(10);
    }
    expect(inProgress).toEqual([1, 2, 4, 3]);
  });

  it('terminates the rest once MaxErrors is exceeded', async () => {
    fleet(5);
    sandbox.ssm.setOutcome(id(1), { status: 'Failed' });
    const command = await send({ Targets: [{ Key: 'tag:Role', Values: ['web'] }], MaxConcurrency: '1', MaxErrors: '0' });
    seconds(20);
    expect((await invocations(command.CommandId!)).map((i) => `${i.Status}/${i.StatusDetails}`)).toEqual([
      'Failed/Failed',
      ...Array(4).fill('Cancelled/Terminated'),
    ]);
    expect(await commandStatus(command.CommandId!)).toMatchObject({ Status: 'Failed', StatusDetails: 'Failed', ErrorCount: 1, CompletedCount: 5 });
  });

  it('pins the document by hash', async () => {
    fleet(1);
    await ssm.send(new UpdateDocumentCommand({ Name: NAME, Content: CHANGED }));
    await expect(send({ InstanceIds: [id(1)], DocumentHash: sha256(CHANGED), DocumentHashType: 'Sha256' })).rejects.toMatchObject({
      name: 'InvalidDocument',
    });
    const pinned = await send({ InstanceIds: [id(1)], DocumentVersion: '$LATEST', DocumentHash: sha256(CHANGED), DocumentHashType: 'Sha256' });
    expect(sandbox.ssm.command(pinned.CommandId!).documentVersion).toBe(2);
  });

  it('cancels pending and running invocations', async () => {
    fleet(3);
    const command = await send({ InstanceIds: [id(1), id(2), id(3)] });
    seconds(5);
    await ssm.send(new CancelCommandCommand({ CommandId: command.CommandId }));
    expect(await commandStatus(command.CommandId!)).toMatchObject({ Status: 'Cancelling' });
    expect((await invocations(command.CommandId!)).map((i) => i.Status)).toEqual(['Cancelling', 'Cancelled', 'Cancelled']);
    seconds(2);
    expect(await commandStatus(command.CommandId!)).toMatchObject({ Status: 'Cancelled', StatusDetails: 'Cancelled' });
    expect((await invocations(command.CommandId!)).map((i) => i.Status)).toEqual(['Cancelled', 'Cancelled', 'Cancelled']);
  });

  it('lists commands newest first, by instance and by filter', async () => {
    fleet(2);
    const first = await send({ InstanceIds: [id(1)] });
    seconds(60);
    const second = await send({ InstanceIds: [id(2)] });
    const { Commands: all } = await ssm.send(new ListCommandsCommand({}));
    expect(all!.map((c) => c.CommandId)).toEqual([second.CommandId, first.CommandId]);
    const { Commands: onFirst } = await ssm.send(new ListCommandsCommand({ InstanceId: id(1) }));
    expect(onFirst!.map((c) => c.CommandId)).toEqual([first.CommandId]);
    const { Commands: done } = await ssm.send(new ListCommandsCommand({ Filters: [{ key: 'ExecutionStage', value: 'Complete' }] }));
    expect(done!.map((c) => c.CommandId)).toEqual([first.CommandId]);
    const { Commands: pending } = await ssm.send(new ListCommandsCommand({ Filters: [{ key: 'Status', value: 'Pending' }] }));
    expect(pending!.map((c) => c.CommandId)).toEqual([second.CommandId]);
    const { Commands: page, NextToken } = await ssm.send(new ListCommandsCommand({ MaxResults: 1 }));
    expect(page!.map((c) => c.CommandId)).toEqual([second.CommandId]);
    const { Commands: rest } = await ssm.send(new ListCommandsCommand({ MaxResults: 1, NextToken }));
    expect(rest!.map((c) => c.CommandId)).toEqual([first.CommandId]);
  });
});

describe('Parameter Store', () => {
  it('decrypts a SecureString only when asked', async () => {
    sandbox.ssm.putParameter({ name: '/app/token', value: 'hunter2', type: 'SecureString' });
    const hidden = await ssm.send(new GetParameterCommand({ Name: '/app/token' }));
    expect(hidden.Parameter).toMatchObject({ Name: '/app/token', Type: 'SecureString', Version: 1, DataType: 'text' });
    expect(hidden.Parameter!.Value).not.toContain('hunter2');
    expect(hidden.Parameter!.Value).toMatch(/^AQICAH[A-Za-z0-9+/=]+$/);
    const shown = await ssm.send(new GetParameterCommand({ Name: '/app/token', WithDecryption: true }));
    expect(shown.Parameter).toMatchObject({
      Value: 'hunter2',
      ARN: `arn:aws:ssm:us-east-1:${sandbox.accountId}:parameter/app/token`,
    });
    expect(shown.Parameter!.LastModifiedDate).toBeInstanceOf(Date);
  });

  it('reads versions and ARNs', async () => {
    sandbox.ssm.putParameter({ name: 'plain', value: 'one' });
    sandbox.ssm.putParameter({ name: 'plain', value: 'two' });
    await expect(ssm.send(new GetParameterCommand({ Name: 'plain' }))).resolves.toMatchObject({ Parameter: { Value: 'two', Version: 2 } });
    await expect(ssm.send(new GetParameterCommand({ Name: 'plain:1' }))).resolves.toMatchObject({
      Parameter: { Value: 'one', Version: 1, Selector: ':1' },
    });
    const arn = `arn:aws:ssm:us-east-1:${sandbox.accountId}:parameter/plain`;
    await expect(ssm.send(new GetParameterCommand({ Name: arn }))).resolves.toMatchObject({ Parameter: { Value: 'two' } });
  });
});
