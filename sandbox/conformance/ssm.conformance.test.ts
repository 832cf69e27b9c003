import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Sandbox } from '../server.js';
import { DEPLOY_CONTENT, STORE_PATH } from '../services/ssm/fixtures.js';
import { awsCli, expectAllOperationsCovered } from './aws-cli.js';

const NAME = 'NixOS-Deploy';
const CHANGED = DEPLOY_CONTENT.replace('Switch an instance', 'Switch a machine');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const IDS = ['i-0000000000000000a', 'i-0000000000000000b', 'i-0000000000000000c'];

describe('SSM through the AWS CLI', () => {
  // Frozen: time moves only by clock.advance, however long each CLI process takes.
  const sandbox = new Sandbox({ speed: 0 });
  const seen = new Set<string>();
  let commandId = '';
  beforeAll(async () => {
    await sandbox.start();
    for (const instanceId of IDS) {
      sandbox.ssm.addInstance({ instanceId, tags: { Role: 'web' }, outcome: { status: 'Success', stdout: `switched ${instanceId}\n` } });
    }
    sandbox.ssm.putParameter({ name: '/nixos/cache-key', value: 'cache:secret', type: 'SecureString' });
  });
  afterAll(() => sandbox.stop());
  const record = () => sandbox.calls.all().forEach((c) => c.status === 200 && seen.add(c.operation));
  const ssm = async (...args: string[]) => {
    const result = await awsCli(sandbox, ['ssm', ...args]);
    record();
    return result;
  };
  const expectTime = (value: string, expectedMs: number) => expect(Math.abs(Date.parse(value) - expectedMs)).toBeLessThan(2);
  const sentAt = () => sandbox.ssm.command(commandId).requestedAt.getTime();

  it('create-document', async () => {
    const result = await ssm('create-document', '--name', NAME, '--content', DEPLOY_CONTENT, '--document-type', 'Command');
    expect(result).toMatchObject({
      code: 0,
      json: {
        DocumentDescription: {
          Name: NAME,
          Hash: sha256(DEPLOY_CONTENT),
          HashType: 'Sha256',
          Status: 'Creating',
          DocumentVersion: '1',
          SchemaVersion: '2.2',
          Parameters: expect.arrayContaining([{ Name: 'action', Type: 'String', DefaultValue: 'switch' }]),
        },
      },
    });
    expect(Math.abs(Date.parse(result.json.DocumentDescription.CreatedDate) - sandbox.clock.nowMs())).toBeLessThan(60_000);
  });

  it('update-document', async () => {
    const result = await ssm('update-document', '--name', NAME, '--content', CHANGED, '--document-version', '$LATEST');
    expect(result).toMatchObject({ code: 0, json: { DocumentDescription: { DocumentVersion: '2', DefaultVersion: '1' } } });
  });

  it('update-document refuses unchanged content', async () => {
    const result = await ssm('update-document', '--name', NAME, '--content', CHANGED, '--document-version', '$LATEST');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('(DuplicateDocumentContent) when calling the UpdateDocument operation');
  });

  it('update-document-default-version', async () => {
    const result = await ssm('update-document-default-version', '--name', NAME, '--document-version', '2');
    expect(result).toMatchObject({ code: 0, json: { Description: { Name: NAME, DefaultVersion: '2' } } });
  });

  it('describe-document', async () => {
    const result = await ssm('describe-document', '--name', NAME);
    expect(result).toMatchObject({
      code: 0,
      json: { Document: { Hash: sha256(CHANGED), Status: 'Active', DefaultVersion: '2', LatestVersion: '2', PlatformTypes: ['Linux', 'MacOS'] } },
    });
  });

  it('get-document', async () => {
    const result = await ssm('get-document', '--name', NAME, '--document-version', '1');
    expect(result).toMatchObject({ code: 0, json: { Name: NAME, Content: DEPLOY_CONTENT, DocumentVersion: '1', DocumentFormat: 'JSON' } });
  });

  it('send-command by tag, pinned by hash', async () => {
    const result = await ssm(
      'send-command',
      '--document-name', NAME,
      '--document-hash', sha256(CHANGED),
      '--document-hash-type', 'Sha256',
      '--targets', JSON.stringify([{ Key: 'tag:Role', Values: ['web'] }]),
      '--parameters', JSON.stringify({ storePath: [STORE_PATH] }),
      '--max-concurrency', '50%',
      '--max-errors', '0',
      '--timeout-seconds', '600',
      '--comment', 'deploy from CI',
      '--cloud-watch-output-config', 'CloudWatchOutputEnabled=true,CloudWatchLogGroupName=/nixos/deploy',
    );
    expect(result).toMatchObject({
      code: 0,
      json: {
        Command: {
          DocumentName: NAME,
          Status: 'Pending',
          TargetCount: 0,
          MaxConcurrency: '50%',
          Targets: [{ Key: 'tag:Role', Values: ['web'] }],
          CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: '/nixos/deploy' },
        },
      },
    });
    commandId = result.json.Command.CommandId;
    expect(sandbox.ssm.command(commandId).parameters.action).toEqual(['switch']);
  });

  it('send-command refuses a parameter outside its pattern', async () => {
    const result = await ssm(
      'send-command', '--document-name', NAME, '--instance-ids', IDS[0],
      '--parameters', JSON.stringify({ storePath: ['/nix/store/x;reboot'] }),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('(InvalidParameters) when calling the SendCommand operation');
  });

  it('get-command-invocation before the targets are resolved', async () => {
    const result = await ssm('get-command-invocation', '--command-id', commandId, '--instance-id', IDS[0]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('(InvocationDoesNotExist) when calling the GetCommandInvocation operation');
  });

  it('list-command-invocations, following every page', async () => {
    sandbox.clock.advance(120_000);
    const before = sandbox.calls.of('ListCommandInvocations').length;
    const result = await ssm('list-command-invocations', '--command-id', commandId, '--details', '--page-size', '2');
    expect(result.code).toBe(0);
    expect(sandbox.calls.of('ListCommandInvocations').length - before).toBe(2);
    expect(result.json.CommandInvocations).toHaveLength(3);
    expect(result.json.CommandInvocations[0]).toMatchObject({
      CommandId: commandId,
      InstanceId: IDS[0],
      Status: 'Success',
      StatusDetails: 'Success',
      CommandPlugins: [{ Name: 'deploy', Status: 'Success', ResponseCode: 0, Output: `switched ${IDS[0]}\n` }],
    });
    expectTime(result.json.CommandInvocations[0].RequestedDateTime, sentAt());
  });

  it('get-command-invocation', async () => {
    const result = await ssm('get-command-invocation', '--command-id', commandId, '--instance-id', IDS[1], '--plugin-name', 'deploy');
    expect(result).toMatchObject({
      code: 0,
      json: {
        Status: 'Success',
        ResponseCode: 0,
        PluginName: 'deploy',
        ExecutionElapsedTime: 'PT10S',
        StandardOutputContent: `switched ${IDS[1]}\n`,
        StandardErrorContent: '',
      },
    });
    // 50% of three instances runs one at a time: the second starts when the first has run its 10 s.
    expectTime(result.json.ExecutionStartDateTime, sentAt() + 2_000 + 500 + 10_000);
  });

  it('list-commands', async () => {
    const result = await ssm('list-commands', '--command-id', commandId);
    expect(result).toMatchObject({
      code: 0,
      json: { Commands: [{ CommandId: commandId, Status: 'Success', StatusDetails: 'Success', TargetCount: 3, CompletedCount: 3, ErrorCount: 0 }] },
    });
  });

  it('cancel-command', async () => {
    const sent = await ssm('send-command', '--document-name', NAME, '--instance-ids', ...IDS, '--parameters', JSON.stringify({ storePath: [STORE_PATH] }));
    const id = sent.json.Command.CommandId as string;
    await expect(ssm('cancel-command', '--command-id', id)).resolves.toMatchObject({ code: 0 });
    sandbox.clock.advance(5_000);
    const listed = await ssm('list-commands', '--command-id', id);
    expect(listed.json.Commands[0]).toMatchObject({ Status: 'Cancelled', StatusDetails: 'Cancelled' });
  });

  it('get-parameter', async () => {
    const hidden = await ssm('get-parameter', '--name', '/nixos/cache-key');
    expect(hidden).toMatchObject({ code: 0, json: { Parameter: { Name: '/nixos/cache-key', Type: 'SecureString', Version: 1 } } });
    expect(hidden.json.Parameter.Value).not.toContain('secret');
    const shown = await ssm('get-parameter', '--name', '/nixos/cache-key', '--with-decryption');
    expect(shown).toMatchObject({ code: 0, json: { Parameter: { Value: 'cache:secret' } } });
  });

  it('covers every SSM operation the sandbox implements (State Manager\'s in ssm-associations.conformance.test.ts)', () => {
    expectAllOperationsCovered(sandbox, 'ssm', seen, (operation) => !Object.hasOwn(sandbox.ssm.associations.operations, operation));
  });
});
