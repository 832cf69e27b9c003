import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../models/models.js';
import { Sandbox } from '../server.js';
import { awsCli, expectAllOperationsCovered } from './aws-cli.js';

/**
 * Debian's AWS CLI 2.9 ships an Auto Scaling model from before instance refresh rollbacks. The CLI reads
 * models in `~/.aws/models` first, so these tests give it a home whose model is Debian's plus the newer
 * shapes, copied from botocore (`../models/autoscaling-overlay.json`): the model the sandbox validates against.
 * Parsing and serialising stay the CLI's own.
 */
function homeWithCurrentModel(): string {
  const model = loadModel('autoscaling');
  const home = mkdtempSync(join(tmpdir(), 'sandbox-cli-home-'));
  const dir = join(home, '.aws', 'models', 'autoscaling', '2011-01-01');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'service-2.json'), JSON.stringify(model));
  return home;
}

describe('Auto Scaling through the AWS CLI', () => {
  const sandbox = new Sandbox({ speed: 0 });
  const seen = new Set<string>();
  const realHome = process.env.HOME;
  let home: string;
  let templateId: string;

  beforeAll(async () => {
    await sandbox.start();
    home = homeWithCurrentModel();
    process.env.HOME = home;
  });
  afterAll(async () => {
    process.env.HOME = realHome;
    rmSync(home, { recursive: true, force: true });
    await sandbox.stop();
  });
  beforeEach(async () => {
    sandbox.reset();
    templateId = sandbox.ec2.createLaunchTemplate({ name: 'web', data: { ImageId: 'ami-11111111' } }).id;
    const version = await awsCli(sandbox, [
      'ec2', 'create-launch-template-version',
      '--launch-template-id', templateId,
      '--source-version', '1',
      '--launch-template-data', '{"ImageId":"ami-22222222"}',
    ]);
    expect(version).toMatchObject({ code: 0, json: { LaunchTemplateVersion: { VersionNumber: 2 } } });
    sandbox.autoscaling.createGroup({ name: 'web', launchTemplate: { id: templateId, version: '1' }, desiredCapacity: 2, tags: { Service: 'web' } });
  });

  const cli = async (...args: string[]) => {
    const result = await awsCli(sandbox, ['autoscaling', ...args]);
    sandbox.calls.all().forEach((c) => c.status === 200 && seen.add(c.operation));
    return result;
  };
  const advance = (seconds: number): void => sandbox.clock.advance(seconds * 1000);
  const start = (preferences: object, version = '2') =>
    cli(
      'start-instance-refresh',
      '--auto-scaling-group-name', 'web',
      '--strategy', 'Rolling',
      '--desired-configuration', JSON.stringify({ LaunchTemplate: { LaunchTemplateId: templateId, Version: version } }),
      '--preferences', JSON.stringify(preferences),
    );
  const describeRefresh = async (id: string) =>
    (await cli('describe-instance-refreshes', '--auto-scaling-group-name', 'web', '--instance-refresh-ids', id)).json
      .InstanceRefreshes[0];
  const groupVersion = async () =>
    (await cli('describe-auto-scaling-groups', '--auto-scaling-group-names', 'web')).json.AutoScalingGroups[0].LaunchTemplate
      .Version;

  it('describe-auto-scaling-groups', async () => {
    const result = await cli('describe-auto-scaling-groups', '--auto-scaling-group-names', 'web');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const [group] = result.json.AutoScalingGroups;
    expect(group).toMatchObject({
      AutoScalingGroupName: 'web',
      LaunchTemplate: { LaunchTemplateId: templateId, LaunchTemplateName: 'web', Version: '1' },
      MinSize: 0,
      MaxSize: 4,
      DesiredCapacity: 2,
      DefaultCooldown: 300,
      AvailabilityZones: ['us-east-1a', 'us-east-1b'],
      LoadBalancerNames: [],
      HealthCheckType: 'EC2',
      Tags: [{ ResourceId: 'web', ResourceType: 'auto-scaling-group', Key: 'Service', Value: 'web', PropagateAtLaunch: true }],
      NewInstancesProtectedFromScaleIn: false,
    });
    expect(new Date(group.CreatedTime).getTime()).toBe(sandbox.clock.nowMs());
    expect(group.Instances).toEqual([
      {
        InstanceId: expect.stringMatching(/^i-[0-9a-f]{17}$/),
        InstanceType: 't3.micro',
        AvailabilityZone: 'us-east-1a',
        LifecycleState: 'InService',
        HealthStatus: 'Healthy',
        LaunchTemplate: { LaunchTemplateId: templateId, LaunchTemplateName: 'web', Version: '1' },
        ProtectedFromScaleIn: false,
      },
      expect.objectContaining({ AvailabilityZone: 'us-east-1b' }),
    ]);
  });

  it('describe-auto-scaling-groups follows NextToken across pages', async () => {
    sandbox.autoscaling.createGroup({ name: 'api', launchTemplate: { id: templateId, version: '1' }, desiredCapacity: 1 });
    const result = await cli('describe-auto-scaling-groups', '--page-size', '1');
    expect(result.json.AutoScalingGroups.map((g: { AutoScalingGroupName: string }) => g.AutoScalingGroupName)).toEqual(['api', 'web']);
    expect(sandbox.calls.of('DescribeAutoScalingGroups')).toHaveLength(2);
  });

  it('start-instance-refresh and describe-instance-refreshes through a checkpoint and baking to Successful', async () => {
    // Every preference, sent and expected back exactly as given.
    const preferences = {
      MinHealthyPercentage: 50,
      MaxHealthyPercentage: 100,
      InstanceWarmup: 60,
      CheckpointPercentages: [50, 100],
      CheckpointDelay: 300,
      SkipMatching: true,
      AutoRollback: true,
      AlarmSpecification: { Alarms: ['web-5xx'] },
      ScaleInProtectedInstances: 'Ignore',
      StandbyInstances: 'Terminate',
      BakeTime: 60,
    };
    const started = await start(preferences);
    expect(started).toMatchObject({ code: 0, json: { InstanceRefreshId: expect.stringMatching(/^[0-9a-f-]{36}$/) } });
    const id = started.json.InstanceRefreshId;
    expect(await describeRefresh(id)).toEqual({
      InstanceRefreshId: id,
      AutoScalingGroupName: 'web',
      Status: 'Pending',
      StatusReason: expect.any(String),
      StartTime: expect.any(String),
      PercentageComplete: 0,
      InstancesToUpdate: 2,
      ProgressDetails: { LivePoolProgress: { PercentageComplete: 0, InstancesToUpdate: 2 } },
      Preferences: preferences,
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: templateId, LaunchTemplateName: 'web', Version: '2' } },
      Strategy: 'Rolling',
    });
    advance(5 + 60);
    expect(await describeRefresh(id)).toMatchObject({
      Status: 'InProgress',
      StatusReason: expect.stringMatching(/^Checkpoint 50% reached/),
      PercentageComplete: 50,
    });
    advance(300 + 60);
    expect(await describeRefresh(id)).toMatchObject({ Status: 'Baking', PercentageComplete: 100, InstancesToUpdate: 0 });
    expect(await groupVersion()).toBe('1');
    advance(60);
    const done = await describeRefresh(id);
    expect(done).toMatchObject({ Status: 'Successful', PercentageComplete: 100 });
    expect(new Date(done.EndTime).getTime() - new Date(done.StartTime).getTime()).toBe((5 + 60 + 300 + 60 + 60) * 1000);
    expect(await groupVersion()).toBe('2');
  });

  it('describe-instance-refreshes shows an automatic rollback', async () => {
    sandbox.autoscaling.scriptRefresh('web', { failAtPercent: 100, failReason: 'instances failed health checks' });
    const id = (await start({ MinHealthyPercentage: 50, InstanceWarmup: 60, AutoRollback: true })).json.InstanceRefreshId;
    advance(5 + 60 + 60);
    const rolling = await describeRefresh(id);
    expect(rolling).toMatchObject({
      Status: 'RollbackInProgress',
      StatusReason: 'instances failed health checks',
      RollbackDetails: {
        RollbackReason: 'instances failed health checks',
        PercentageCompleteOnRollback: 50,
        InstancesToUpdateOnRollback: 1,
        ProgressDetailsOnRollback: { LivePoolProgress: { PercentageComplete: 50, InstancesToUpdate: 1 } },
      },
    });
    expect(new Date(rolling.RollbackDetails.RollbackStartTime).getTime()).toBe(sandbox.clock.nowMs());
    advance(120);
    expect(await describeRefresh(id)).toMatchObject({ Status: 'RollbackSuccessful', EndTime: expect.any(String) });
    expect(await groupVersion()).toBe('1');
  });

  it('cancel-instance-refresh', async () => {
    const id = (await start({ MinHealthyPercentage: 50, InstanceWarmup: 60 })).json.InstanceRefreshId;
    advance(30);
    expect(await cli('cancel-instance-refresh', '--auto-scaling-group-name', 'web')).toMatchObject({
      code: 0,
      json: { InstanceRefreshId: id },
    });
    expect(await describeRefresh(id)).toMatchObject({ Status: 'Cancelling' });
    advance(60);
    expect(await describeRefresh(id)).toMatchObject({ Status: 'Cancelled' });
  });

  it('rollback-instance-refresh', async () => {
    const id = (await start({ MinHealthyPercentage: 50, InstanceWarmup: 60 })).json.InstanceRefreshId;
    advance(65);
    expect(await cli('rollback-instance-refresh', '--auto-scaling-group-name', 'web')).toMatchObject({
      code: 0,
      json: { InstanceRefreshId: id },
    });
    expect(await describeRefresh(id)).toMatchObject({ Status: 'RollbackInProgress', RollbackDetails: { PercentageCompleteOnRollback: 50 } });
    advance(120);
    expect(await describeRefresh(id)).toMatchObject({ Status: 'RollbackSuccessful' });
  });

  it.each<[string, () => Promise<unknown>, string[], string, RegExp]>([
    ['start while another runs', () => start({}), ['start-instance-refresh', '--auto-scaling-group-name', 'web'], 'InstanceRefreshInProgress', /already in progress/],
    ['start on an unknown group', async () => undefined, ['start-instance-refresh', '--auto-scaling-group-name', 'nope'], 'ValidationError', /AutoScalingGroup nope not found/],
    ['start with a bad preference', async () => undefined, ['start-instance-refresh', '--auto-scaling-group-name', 'web', '--preferences', '{"MinHealthyPercentage":101}'], 'ValidationError', /1 validation error detected/],
    ['start when scripted to hit a limit', async () => sandbox.autoscaling.failNextStart('web', 'LimitExceeded'), ['start-instance-refresh', '--auto-scaling-group-name', 'web'], 'LimitExceeded', /limit/],
    ['start during contention', async () => sandbox.autoscaling.failNextStart('web', 'ResourceContention'), ['start-instance-refresh', '--auto-scaling-group-name', 'web'], 'ResourceContention', /pending update/],
    ['cancel with nothing running', async () => undefined, ['cancel-instance-refresh', '--auto-scaling-group-name', 'web'], 'ActiveInstanceRefreshNotFound', /No in progress or pending Instance Refresh/],
    ['rollback with nothing running', async () => undefined, ['rollback-instance-refresh', '--auto-scaling-group-name', 'web'], 'ActiveInstanceRefreshNotFound', /No in progress or pending Instance Refresh/],
    ['rollback without a desired configuration', () => cli('start-instance-refresh', '--auto-scaling-group-name', 'web'), ['rollback-instance-refresh', '--auto-scaling-group-name', 'web'], 'IrreversibleInstanceRefresh', /desired configuration/],
    ['describe refreshes of an unknown group', async () => undefined, ['describe-instance-refreshes', '--auto-scaling-group-name', 'nope'], 'ValidationError', /not found/],
    ['describe groups with a bad token', async () => undefined, ['describe-auto-scaling-groups', '--starting-token', 'bm9wZQ=='], 'InvalidNextToken', /invalid/],
  ])('%s: the CLI reports the error code', async (_name, setup, args, code, message) => {
    await setup();
    const result = await cli(...args);
    expect(result.code).toBe(254);
    expect(result.stderr).toMatch(new RegExp(`An error occurred \\(${code}\\) when calling the \\w+ operation( \\(reached max retries: 0\\))?: `));
    expect(result.stderr).toMatch(message);
  });

  const putHook = (...extra: string[]) =>
    cli(
      'put-lifecycle-hook',
      '--auto-scaling-group-name', 'web',
      '--lifecycle-hook-name', 'ready',
      '--lifecycle-transition', 'autoscaling:EC2_INSTANCE_LAUNCHING',
      ...extra,
    );
  /** The replacements waiting on the hook, and credentials of their instance profile (the CLI signs with them). */
  const waitingInstances = () =>
    (sandbox.autoscaling.describeGroup('web').Instances as Array<{ InstanceId: string; LifecycleState: string }>)
      .filter((i) => i.LifecycleState === 'Pending:Wait')
      .map((i) => i.InstanceId);
  const asInstance = (instanceId: string, ...args: string[]) => {
    const doc = sandbox.instanceProfileCredentials(instanceId, 'web-instance');
    const creds = { accessKeyId: doc.AccessKeyId, secretAccessKey: doc.SecretAccessKey, sessionToken: doc.Token };
    return awsCli(sandbox, ['autoscaling', ...args], creds).then((result) => {
      sandbox.calls.all().forEach((c) => c.status === 200 && seen.add(c.operation));
      return result;
    });
  };
  const completeAs = (instanceId: string, result: string, ...extra: string[]) =>
    asInstance(
      instanceId,
      'complete-lifecycle-action',
      '--auto-scaling-group-name', 'web',
      '--lifecycle-hook-name', 'ready',
      '--lifecycle-action-result', result,
      ...(extra.length > 0 ? extra : ['--instance-id', instanceId]),
    );

  it('put-lifecycle-hook, describe-lifecycle-hooks and delete-lifecycle-hook', async () => {
    expect(await putHook('--heartbeat-timeout', '300')).toMatchObject({ code: 0, stderr: '' });
    expect(await cli('put-lifecycle-hook', '--auto-scaling-group-name', 'web', '--lifecycle-hook-name', 'ready', '--default-result', 'CONTINUE')).toMatchObject({ code: 0 });
    expect(await cli('put-lifecycle-hook', '--auto-scaling-group-name', 'web', '--lifecycle-hook-name', 'drain', '--lifecycle-transition', 'autoscaling:EC2_INSTANCE_TERMINATING', '--notification-metadata', 'x=1')).toMatchObject({ code: 0 });
    const described = await cli('describe-lifecycle-hooks', '--auto-scaling-group-name', 'web');
    expect(described.json.LifecycleHooks).toEqual([
      {
        LifecycleHookName: 'ready',
        AutoScalingGroupName: 'web',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        HeartbeatTimeout: 300,
        GlobalTimeout: 30000,
        DefaultResult: 'CONTINUE',
      },
      {
        LifecycleHookName: 'drain',
        AutoScalingGroupName: 'web',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        NotificationMetadata: 'x=1',
        HeartbeatTimeout: 3600,
        GlobalTimeout: 172800,
        DefaultResult: 'ABANDON',
      },
    ]);
    const named = await cli('describe-lifecycle-hooks', '--auto-scaling-group-name', 'web', '--lifecycle-hook-names', 'drain');
    expect(named.json.LifecycleHooks.map((h: { LifecycleHookName: string }) => h.LifecycleHookName)).toEqual(['drain']);
    expect(await cli('delete-lifecycle-hook', '--auto-scaling-group-name', 'web', '--lifecycle-hook-name', 'drain')).toMatchObject({ code: 0 });
    expect((await cli('describe-lifecycle-hooks', '--auto-scaling-group-name', 'web')).json.LifecycleHooks).toHaveLength(1);
  });

  it('a refresh waits on the launching hook: heartbeat, then CONTINUE by instance ID and by token', async () => {
    await putHook('--heartbeat-timeout', '300');
    const id = (await start({ MinHealthyPercentage: 50, InstanceWarmup: 60 })).json.InstanceRefreshId;
    advance(5);
    const [first] = waitingInstances();
    expect(first).toMatch(/^i-/);
    const group = (await cli('describe-auto-scaling-groups', '--auto-scaling-group-names', 'web')).json.AutoScalingGroups[0];
    expect(group.Instances.find((i: { InstanceId: string }) => i.InstanceId === first)).toMatchObject({ LifecycleState: 'Pending:Wait' });
    expect(await describeRefresh(id)).toMatchObject({ Status: 'InProgress', StatusReason: expect.stringMatching(/lifecycle actions/) });
    advance(250);
    const beat = await asInstance(first, 'record-lifecycle-action-heartbeat', '--auto-scaling-group-name', 'web', '--lifecycle-hook-name', 'ready', '--instance-id', first);
    expect(beat).toMatchObject({ code: 0, stderr: '' });
    advance(250); // 500 s after launch: past the first timeout, within the one the heartbeat restarted
    expect(await completeAs(first, 'CONTINUE')).toMatchObject({ code: 0, stderr: '' });
    advance(60);
    const [second] = waitingInstances();
    const token = (sandbox.autoscaling as unknown as { groups: Map<string, { refreshes: Array<{ plan: { replacements: Array<{ instanceId: string; tokens: Record<string, string> }> } }> }> }).groups
      .get('web')!.refreshes[0].plan.replacements.find((r) => r.instanceId === second)!.tokens.ready;
    expect(await completeAs(second, 'CONTINUE', '--lifecycle-action-token', token)).toMatchObject({ code: 0 });
    advance(60);
    expect(await describeRefresh(id)).toMatchObject({ Status: 'Successful', PercentageComplete: 100 });
  });

  it('ABANDON fails the refresh at once, naming the instance', async () => {
    await putHook('--heartbeat-timeout', '300');
    const id = (await start({ MinHealthyPercentage: 50, InstanceWarmup: 60 })).json.InstanceRefreshId;
    advance(5);
    const [first] = waitingInstances();
    expect(await completeAs(first, 'ABANDON')).toMatchObject({ code: 0 });
    expect(await describeRefresh(id)).toMatchObject({
      Status: 'Failed',
      StatusReason: expect.stringContaining(`Launching a new EC2 instance: ${first}. Status Reason: Instance failed to complete user's Lifecycle Action`),
    });
  });

  it.each<[string, (first: string) => Promise<unknown>, (first: string) => string[], string, (first: string) => string]>([
    ['complete for an instance that does not wait', async () => undefined, () => ['complete-lifecycle-action', '--auto-scaling-group-name', 'web', '--lifecycle-hook-name', 'ready', '--lifecycle-action-result', 'CONTINUE', '--instance-id', 'i-0123456789abcdef0'], 'ValidationError', () => 'No active Lifecycle Action found with instance ID i-0123456789abcdef0'],
    ['complete twice', (first) => completeAs(first, 'CONTINUE'), (first) => ['complete-lifecycle-action', '--auto-scaling-group-name', 'web', '--lifecycle-hook-name', 'ready', '--lifecycle-action-result', 'CONTINUE', '--instance-id', first], 'ValidationError', (first) => `No active Lifecycle Action found with instance ID ${first}`],
    ['complete with an unknown token', async () => undefined, () => ['complete-lifecycle-action', '--auto-scaling-group-name', 'web', '--lifecycle-hook-name', 'ready', '--lifecycle-action-result', 'CONTINUE', '--lifecycle-action-token', '00000000-0000-4000-8000-000000000000'], 'ValidationError', () => 'No active Lifecycle Action found with token 00000000-0000-4000-8000-000000000000'],
    ['heartbeat for another hook', async () => undefined, (first) => ['record-lifecycle-action-heartbeat', '--auto-scaling-group-name', 'web', '--lifecycle-hook-name', 'other', '--instance-id', first], 'ValidationError', (first) => `No active Lifecycle Action found with instance ID ${first}`],
    ['a result the API does not know', async () => undefined, (first) => ['complete-lifecycle-action', '--auto-scaling-group-name', 'web', '--lifecycle-hook-name', 'ready', '--lifecycle-action-result', 'RETRY', '--instance-id', first], 'ValidationError', () => 'Member must satisfy enum value set: [CONTINUE, ABANDON]'],
  ])('%s: the CLI reports the error', async (_name, setup, args, code, message) => {
    await putHook('--heartbeat-timeout', '300');
    await start({ MinHealthyPercentage: 50 });
    advance(5);
    const [first] = waitingInstances();
    await setup(first);
    const result = await asInstance(first, ...args(first));
    expect(result.code).toBe(254);
    expect(result.stderr).toContain(`An error occurred (${code}) when calling the `);
    expect(result.stderr).toContain(message(first));
  });

  it.each<[string, string[], string, RegExp]>([
    ['a heartbeat timeout below 30 s', ['--heartbeat-timeout', '29'], 'ValidationError', /Member must have value greater than or equal to 30/],
    ['a heartbeat timeout above 7200 s', ['--heartbeat-timeout', '7201'], 'ValidationError', /less than or equal to 7200/],
    ['an unknown default result', ['--default-result', 'MAYBE'], 'ValidationError', /enum value set: \[CONTINUE, ABANDON\]/],
  ])('put-lifecycle-hook refuses %s', async (_name, extra, code, message) => {
    const result = await putHook(...extra);
    expect(result.code).toBe(254);
    expect(result.stderr).toContain(`(${code})`);
    expect(result.stderr).toMatch(message);
    expect(sandbox.calls.of('PutLifecycleHook').at(-1)).toMatchObject({ status: 400 });
  });

  it('covers every Auto Scaling operation the sandbox implements', () => {
    expectAllOperationsCovered(sandbox, 'autoscaling', seen);
  });
});
