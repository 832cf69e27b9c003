import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  type AutoScalingGroup,
  type InstanceRefresh,
  type StartInstanceRefreshCommandInput,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Sandbox, STATIC_CREDENTIALS } from '../../server.js';

// A stopped clock: only `advance` moves sandbox time, so every phase boundary is exact.
const sandbox = new Sandbox({ speed: 0 });
let autoscaling: AutoScalingClient;
let ec2: EC2Client;
let templateId: string;

beforeAll(async () => {
  await sandbox.start();
  const config = { region: sandbox.region, endpoint: sandbox.url, credentials: STATIC_CREDENTIALS, maxAttempts: 1 };
  autoscaling = new AutoScalingClient(config);
  ec2 = new EC2Client(config);
});
afterAll(async () => {
  autoscaling.destroy();
  ec2.destroy();
  await sandbox.stop();
});

/** A template with versions 1 and 2, and group `web` of four instances on version 1. */
beforeEach(async () => {
  sandbox.reset();
  templateId = sandbox.ec2.createLaunchTemplate({ name: 'web', data: { ImageId: 'ami-11111111', InstanceType: 't3.small' } }).id;
  await ec2.send(
    new CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: templateId,
      SourceVersion: '1',
      LaunchTemplateData: { ImageId: 'ami-22222222' },
    }),
  );
  sandbox.autoscaling.createGroup({
    name: 'web',
    launchTemplate: { id: templateId, version: '1' },
    desiredCapacity: 4,
    tags: { Service: 'web' },
  });
});

const advance = (seconds: number): void => sandbox.clock.advance(seconds * 1000);

async function group(name = 'web'): Promise<AutoScalingGroup> {
  const answer = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  return answer.AutoScalingGroups![0];
}

async function refresh(id: string): Promise<InstanceRefresh> {
  const answer = await autoscaling.send(
    new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'web', InstanceRefreshIds: [id] }),
  );
  return answer.InstanceRefreshes![0];
}

async function start(input: Partial<StartInstanceRefreshCommandInput> = {}): Promise<string> {
  const answer = await autoscaling.send(
    new StartInstanceRefreshCommand({
      AutoScalingGroupName: 'web',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: templateId, Version: '2' } },
      ...input,
      Preferences: { MinHealthyPercentage: 50, InstanceWarmup: 60, AutoRollback: true, ...input.Preferences },
    }),
  );
  return answer.InstanceRefreshId!;
}

const versions = async (): Promise<string[]> =>
  (await group()).Instances!.map((i) => `${i.LaunchTemplate!.Version}/${i.LifecycleState}/${i.HealthStatus}`);

describe('DescribeAutoScalingGroups', () => {
  it('describes a seeded group', async () => {
    const web = await group();
    expect(web).toMatchObject({
      AutoScalingGroupName: 'web',
      AutoScalingGroupARN: expect.stringMatching(/^arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:.+:autoScalingGroupName\/web$/),
      LaunchTemplate: { LaunchTemplateId: templateId, LaunchTemplateName: 'web', Version: '1' },
      MinSize: 0,
      MaxSize: 8,
      DesiredCapacity: 4,
      AvailabilityZones: ['us-east-1a', 'us-east-1b'],
      HealthCheckType: 'EC2',
      Tags: [{ ResourceId: 'web', ResourceType: 'auto-scaling-group', Key: 'Service', Value: 'web', PropagateAtLaunch: true }],
    });
    expect(web.CreatedTime).toBeInstanceOf(Date);
    expect(web.Instances).toHaveLength(4);
    expect(web.Instances![0]).toEqual({
      InstanceId: expect.stringMatching(/^i-[0-9a-f]{17}$/),
      InstanceType: 't3.small',
      AvailabilityZone: 'us-east-1a',
      LifecycleState: 'InService',
      HealthStatus: 'Healthy',
      LaunchTemplate: { LaunchTemplateId: templateId, LaunchTemplateName: 'web', Version: '1' },
      ImageId: 'ami-11111111',
      ProtectedFromScaleIn: false,
    });
  });

  it('keeps the version as the group holds it and resolves it per instance', async () => {
    sandbox.autoscaling.createGroup({ name: 'latest', launchTemplate: { name: 'web', version: '$Latest' }, desiredCapacity: 1 });
    const latest = await group('latest');
    expect(latest.LaunchTemplate).toEqual({ LaunchTemplateId: templateId, LaunchTemplateName: 'web', Version: '$Latest' });
    expect(latest.Instances![0].LaunchTemplate!.Version).toBe('2');
  });

  it('pages through groups and filters them by tag', async () => {
    sandbox.autoscaling.createGroup({ name: 'api', launchTemplate: { id: templateId, version: '1' }, desiredCapacity: 0, tags: { Service: 'api' } });
    const first = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 1 }));
    expect(first.AutoScalingGroups!.map((g) => g.AutoScalingGroupName)).toEqual(['api']);
    const second = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 1, NextToken: first.NextToken }));
    expect(second.AutoScalingGroups!.map((g) => g.AutoScalingGroupName)).toEqual(['web']);
    expect(second.NextToken).toBeUndefined();
    const tagged = await autoscaling.send(
      new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: 'tag:Service', Values: ['web'] }] }),
    );
    expect(tagged.AutoScalingGroups!.map((g) => g.AutoScalingGroupName)).toEqual(['web']);
    const unknown = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['nope'] }));
    expect(unknown.AutoScalingGroups).toEqual([]);
  });

  it.each([
    ['a bad token', { NextToken: 'bm9wZQ==' }, 'InvalidNextToken', /token/],
    ['too many records', { MaxRecords: 101 }, 'ValidationError', /'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100/],
    ['an unknown filter', { Filters: [{ Name: 'color', Values: ['red'] }] }, 'ValidationError', /filter name color/],
  ])('rejects %s', async (_name, input, code, message) => {
    await expect(autoscaling.send(new DescribeAutoScalingGroupsCommand(input))).rejects.toMatchObject({
      name: code,
      message: expect.stringMatching(message),
    });
  });
});

describe('StartInstanceRefresh', () => {
  const desired = (Version: string) => ({ LaunchTemplate: { LaunchTemplateId: templateId, Version } });

  it.each<[string, () => Partial<StartInstanceRefreshCommandInput>, string, RegExp]>([
    ['an unknown group', () => ({ AutoScalingGroupName: 'nope' }), 'ValidationError', /AutoScalingGroup name not found - AutoScalingGroup nope not found/],
    ['a group name too long', () => ({ AutoScalingGroupName: 'x'.repeat(256) }), 'ValidationError', /'autoScalingGroupName' failed to satisfy constraint: Member must have length less than or equal to 255/],
    ['an unknown strategy', () => ({ Strategy: 'BlueGreen' as 'Rolling' }), 'ValidationError', /Member must satisfy enum value set: \[Rolling, ReplaceRootVolume\]/],
    ['a strategy the sandbox does not play out', () => ({ Strategy: 'ReplaceRootVolume' as 'Rolling' }), 'ValidationError', /Rolling strategy only/],
    ['min healthy above 100', () => ({ Preferences: { MinHealthyPercentage: 101 } }), 'ValidationError', /^1 validation error detected: Value '101' at 'preferences.minHealthyPercentage' failed to satisfy constraint: Member must have value less than or equal to 100$/],
    ['two broken constraints', () => ({ Preferences: { MinHealthyPercentage: -1, BakeTime: 172801 } }), 'ValidationError', /^2 validation errors detected: .*bakeTime.*; .*minHealthyPercentage/],
    ['max healthy below 100', () => ({ Preferences: { MinHealthyPercentage: 90, MaxHealthyPercentage: 99 } }), 'ValidationError', /maxHealthyPercentage.*greater than or equal to 100/],
    ['max healthy more than 100 above min', () => ({ Preferences: { MinHealthyPercentage: 0, MaxHealthyPercentage: 150 } }), 'ValidationError', /difference between MaxHealthyPercentage and MinHealthyPercentage/],
    ['a negative warmup', () => ({ Preferences: { InstanceWarmup: -5 } }), 'ValidationError', /instanceWarmup.*greater than or equal to 0/],
    ['a checkpoint of 0', () => ({ Preferences: { CheckpointPercentages: [0, 100] } }), 'ValidationError', /checkpointPercentages.*greater than or equal to 1/],
    ['checkpoints out of order', () => ({ Preferences: { CheckpointPercentages: [50, 20, 100] } }), 'ValidationError', /ascending/],
    ['a checkpoint delay without checkpoints', () => ({ Preferences: { CheckpointDelay: 60 } }), 'ValidationError', /CheckpointDelay/],
    ['a checkpoint delay over two days', () => ({ Preferences: { CheckpointPercentages: [100], CheckpointDelay: 172801 } }), 'ValidationError', /checkpointDelay.*less than or equal to 172800/],
    ['an unknown protected-instances choice', () => ({ Preferences: { ScaleInProtectedInstances: 'Sometimes' as 'Wait' } }), 'ValidationError', /enum value set: \[Refresh, Ignore, Wait\]/],
    ['an unknown standby choice', () => ({ Preferences: { StandbyInstances: 'Sometimes' as 'Wait' } }), 'ValidationError', /enum value set: \[Terminate, Ignore, Wait\]/],
    ['auto rollback without a desired configuration', () => ({ DesiredConfiguration: undefined }), 'ValidationError', /^The request isn't valid. The AutoRollback parameter cannot be set to true when the DesiredConfiguration parameter is empty/],
    ['auto rollback to $Latest', () => ({ DesiredConfiguration: desired('$Latest') }), 'ValidationError', /\$Latest or \$Default/],
    ['auto rollback to the default version', () => ({ DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: templateId } } }), 'ValidationError', /\$Latest or \$Default/],
    ['a desired version that does not exist', () => ({ DesiredConfiguration: desired('9') }), 'ValidationError', /valid fully-formed launch template/],
    ['a desired template that does not exist', () => ({ DesiredConfiguration: { LaunchTemplate: { LaunchTemplateName: 'nope', Version: '1' } } }), 'ValidationError', /nope/],
  ])('rejects %s', async (_name, input, code, message) => {
    await expect(start(input())).rejects.toMatchObject({ name: code, message: expect.stringMatching(message) });
    expect(sandbox.calls.of('StartInstanceRefresh')[0]).toMatchObject({ status: 400, errorCode: code });
    expect((await group()).LaunchTemplate!.Version).toBe('1');
  });

  it('refuses a second refresh while one is active, and allows one after it ended', async () => {
    await start();
    await expect(start()).rejects.toMatchObject({
      name: 'InstanceRefreshInProgressFault',
      message: 'An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.',
    });
    expect(sandbox.calls.of('StartInstanceRefresh')[1]).toMatchObject({ errorCode: 'InstanceRefreshInProgress' });
    advance(3600);
    await expect(start({ DesiredConfiguration: desired('1') })).resolves.toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    ['LimitExceeded', 'LimitExceededFault', 400],
    ['ResourceContention', 'ResourceContentionFault', 500],
  ] as const)('answers %s once when scripted', async (code, name, status) => {
    sandbox.autoscaling.failNextStart('web', code);
    await expect(start()).rejects.toMatchObject({ name, $metadata: { httpStatusCode: status } });
    await expect(start()).resolves.toBeDefined();
  });

  it('reports its preferences with AWS defaults filled in', async () => {
    const id = await start({ Preferences: { CheckpointPercentages: [50, 100], AlarmSpecification: { Alarms: ['high-5xx'] } } });
    expect(await refresh(id)).toMatchObject({
      Strategy: 'Rolling',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: templateId, LaunchTemplateName: 'web', Version: '2' } },
      Preferences: {
        MinHealthyPercentage: 50,
        MaxHealthyPercentage: 100,
        InstanceWarmup: 60,
        CheckpointPercentages: [50, 100],
        CheckpointDelay: 3600,
        SkipMatching: false,
        AutoRollback: true,
        ScaleInProtectedInstances: 'Wait',
        StandbyInstances: 'Wait',
        AlarmSpecification: { Alarms: ['high-5xx'] },
      },
    });
  });
});

describe('an instance refresh over time', () => {
  it('goes through a checkpoint and baking to Successful, then the group holds the new version', async () => {
    const id = await start({ Preferences: { CheckpointPercentages: [50, 100], CheckpointDelay: 600, BakeTime: 120 } });
    const timeline: Array<[number, Partial<InstanceRefresh>, string[]]> = [
      [0, { Status: 'Pending', PercentageComplete: 0, InstancesToUpdate: 4 }, ['1/InService/Healthy', '1/InService/Healthy', '1/InService/Healthy', '1/InService/Healthy']],
      [5, { Status: 'InProgress', PercentageComplete: 0, InstancesToUpdate: 4 }, ['2/Pending/Healthy', '2/Pending/Healthy', '1/InService/Healthy', '1/InService/Healthy']],
      [60, { Status: 'InProgress', PercentageComplete: 50, InstancesToUpdate: 2 }, ['2/InService/Healthy', '2/InService/Healthy', '1/InService/Healthy', '1/InService/Healthy']],
      [600, { Status: 'InProgress', PercentageComplete: 50, InstancesToUpdate: 2 }, ['2/InService/Healthy', '2/InService/Healthy', '2/Pending/Healthy', '2/Pending/Healthy']],
      [60, { Status: 'Baking', PercentageComplete: 100, InstancesToUpdate: 0 }, ['2/InService/Healthy', '2/InService/Healthy', '2/InService/Healthy', '2/InService/Healthy']],
      [120, { Status: 'Successful', PercentageComplete: 100, InstancesToUpdate: 0 }, ['2/InService/Healthy', '2/InService/Healthy', '2/InService/Healthy', '2/InService/Healthy']],
    ];
    const seen: string[] = [];
    for (const [seconds, expected, instances] of timeline) {
      advance(seconds);
      const state = await refresh(id);
      expect(state).toMatchObject(expected);
      expect(state.ProgressDetails).toEqual({
        LivePoolProgress: { PercentageComplete: expected.PercentageComplete, InstancesToUpdate: expected.InstancesToUpdate },
      });
      expect(await versions()).toEqual(instances);
      seen.push(`${state.Status}: ${state.StatusReason ?? ''}`);
      expect((await group()).LaunchTemplate!.Version).toBe(state.Status === 'Successful' ? '2' : '1');
    }
    expect(seen[2]).toMatch(/^InProgress: Checkpoint 50% reached/);
    const done = await refresh(id);
    expect(done.EndTime!.getTime() - done.StartTime!.getTime()).toBe((5 + 60 + 600 + 60 + 120) * 1000);
    expect(done.RollbackDetails).toBeUndefined();
  });

  it('takes its warmup from the group when the refresh names none, else from the script', async () => {
    sandbox.autoscaling.createGroup({ name: 'slow', launchTemplate: { id: templateId, version: '1' }, desiredCapacity: 1, defaultInstanceWarmup: 300 });
    sandbox.autoscaling.scriptRefresh('web', { instanceSeconds: 30, pendingSeconds: 0 });
    sandbox.autoscaling.scriptRefresh('slow', { pendingSeconds: 0 });
    const fast = await start({ Preferences: { MinHealthyPercentage: 0, InstanceWarmup: undefined } });
    const slow = await start({ AutoScalingGroupName: 'slow', Preferences: { InstanceWarmup: undefined } });
    advance(30);
    expect((await refresh(fast)).Status).toBe('Successful');
    const slowState = await autoscaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'slow', InstanceRefreshIds: [slow] }),
    );
    expect(slowState.InstanceRefreshes![0].Status).toBe('InProgress');
    advance(270);
    expect((await group('slow')).LaunchTemplate!.Version).toBe('2');
  });

  it('skips instances already on the desired version with SkipMatching', async () => {
    // A partial refresh leaves two of four instances on version 2.
    const partial = await start({ Preferences: { CheckpointPercentages: [50] } });
    advance(65);
    expect(await refresh(partial)).toMatchObject({ Status: 'Successful', PercentageComplete: 50, InstancesToUpdate: 2 });
    const id = await start({ Preferences: { SkipMatching: true, MinHealthyPercentage: 75 } });
    advance(5);
    expect(await refresh(id)).toMatchObject({ Status: 'InProgress', PercentageComplete: 50, InstancesToUpdate: 2 });
    advance(120);
    expect(await refresh(id)).toMatchObject({ Status: 'Successful', PercentageComplete: 100, InstancesToUpdate: 0 });
    expect(await versions()).toEqual(Array(4).fill('2/InService/Healthy'));
  });

  it('fails at the scripted percentage and rolls back, leaving the group on its version', async () => {
    sandbox.autoscaling.scriptRefresh('web', { failAtPercent: 50, failReason: 'i-0 failed ELB health checks' });
    const before = (await group()).Instances!.map((i) => i.InstanceId);
    const id = await start({ Preferences: { MinHealthyPercentage: 75 } });
    advance(5 + 60 + 60);
    expect(await refresh(id)).toMatchObject({
      Status: 'RollbackInProgress',
      StatusReason: 'i-0 failed ELB health checks',
      PercentageComplete: 25,
      InstancesToUpdate: 3,
      RollbackDetails: {
        RollbackReason: 'i-0 failed ELB health checks',
        PercentageCompleteOnRollback: 25,
        InstancesToUpdateOnRollback: 3,
        ProgressDetailsOnRollback: { LivePoolProgress: { PercentageComplete: 25, InstancesToUpdate: 3 } },
      },
    });
    expect(await versions()).toEqual(['1/Pending/Healthy', '2/InService/Unhealthy', '1/InService/Healthy', '1/InService/Healthy']);
    await expect(autoscaling.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: 'web' }))).rejects.toMatchObject({
      name: 'IrreversibleInstanceRefreshFault',
    });
    advance(120);
    const done = await refresh(id);
    expect(done).toMatchObject({ Status: 'RollbackSuccessful', PercentageComplete: 0 });
    expect(done.EndTime).toBeInstanceOf(Date);
    const after = await group();
    expect(after.LaunchTemplate!.Version).toBe('1');
    expect(await versions()).toEqual(Array(4).fill('1/InService/Healthy'));
    // The two rolled-back instances are new ones; the two never touched are the originals.
    expect(after.Instances!.map((i) => i.InstanceId).filter((i) => before.includes(i))).toEqual(before.slice(2));
    expect(sandbox.autoscaling.describeGroup('web')).toMatchObject({
      LaunchTemplate: after.LaunchTemplate,
      Instances: after.Instances!.map(({ InstanceId, LaunchTemplate }) => expect.objectContaining({ InstanceId, LaunchTemplate })),
    });
  });

  it('ends in RollbackFailed when scripted', async () => {
    sandbox.autoscaling.scriptRefresh('web', { failAtPercent: 50, rollbackOutcome: 'failure' });
    const id = await start({ Preferences: { MinHealthyPercentage: 75 } });
    advance(5 + 120 + 120);
    expect(await refresh(id)).toMatchObject({ Status: 'RollbackFailed', StatusReason: expect.stringMatching(/rollback failed/) });
    expect((await group()).LaunchTemplate!.Version).toBe('1');
  });

  it('ends in Failed without AutoRollback', async () => {
    sandbox.autoscaling.scriptRefresh('web', { failAtPercent: 100 });
    const id = await start({ Preferences: { AutoRollback: false } });
    advance(5 + 60 + 60);
    expect(await refresh(id)).toMatchObject({ Status: 'Failed', PercentageComplete: 50, InstancesToUpdate: 2 });
    expect((await group()).LaunchTemplate!.Version).toBe('1');
    expect(await versions()).toEqual(['2/InService/Healthy', '2/InService/Healthy', '2/InService/Unhealthy', '2/InService/Unhealthy']);
  });
});

describe('CancelInstanceRefresh', () => {
  it('cancels after the batch in flight, keeping what was replaced and the group version', async () => {
    const id = await start();
    advance(30);
    const answer = await autoscaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'web' }));
    expect(answer.InstanceRefreshId).toBe(id);
    expect(await refresh(id)).toMatchObject({ Status: 'Cancelling', StatusReason: 'Replacing instances before cancelling.' });
    await expect(autoscaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'web' }))).rejects.toMatchObject({
      name: 'ActiveInstanceRefreshNotFoundFault',
    });
    advance(35);
    expect(await refresh(id)).toMatchObject({ Status: 'Cancelled', PercentageComplete: 50 });
    expect((await group()).LaunchTemplate!.Version).toBe('1');
    expect(await versions()).toEqual(['2/InService/Healthy', '2/InService/Healthy', '1/InService/Healthy', '1/InService/Healthy']);
  });

  it.each([
    ['an unknown group', 'nope', 'ValidationError'],
    ['a group with no refresh', 'web', 'ActiveInstanceRefreshNotFoundFault'],
  ])('rejects %s', async (_name, group, code) => {
    await expect(autoscaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: group }))).rejects.toMatchObject({
      name: code,
    });
  });
});

describe('RollbackInstanceRefresh', () => {
  it('rolls back what was replaced', async () => {
    const id = await start({ Preferences: { AutoRollback: false } });
    advance(65);
    const answer = await autoscaling.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: 'web' }));
    expect(answer.InstanceRefreshId).toBe(id);
    expect(await refresh(id)).toMatchObject({
      Status: 'RollbackInProgress',
      RollbackDetails: { PercentageCompleteOnRollback: 50, InstancesToUpdateOnRollback: 2 },
    });
    // The two replaced instances go back first, then the two that were launching when the rollback began.
    advance(60);
    expect(await refresh(id)).toMatchObject({ Status: 'RollbackInProgress', PercentageComplete: 0 });
    expect(await versions()).toEqual(['1/InService/Healthy', '1/InService/Healthy', '1/Pending/Healthy', '1/Pending/Healthy']);
    advance(60);
    expect(await refresh(id)).toMatchObject({ Status: 'RollbackSuccessful' });
    expect(await versions()).toEqual(Array(4).fill('1/InService/Healthy'));
  });

  it.each<[string, () => Promise<unknown>, string]>([
    ['an unknown group', async () => undefined, 'ValidationError'],
    ['a group with no refresh', async () => undefined, 'ActiveInstanceRefreshNotFoundFault'],
    ['a finished refresh', async () => { await start(); advance(3600); }, 'ActiveInstanceRefreshNotFoundFault'],
    ['a refresh without a desired configuration', () => start({ DesiredConfiguration: undefined, Preferences: { AutoRollback: false } }), 'IrreversibleInstanceRefreshFault'],
  ])('rejects %s', async (name, setup, code) => {
    await setup();
    const command = new RollbackInstanceRefreshCommand({ AutoScalingGroupName: name === 'an unknown group' ? 'nope' : 'web' });
    await expect(autoscaling.send(command)).rejects.toMatchObject({ name: code });
  });

  it('rejects a group that follows $Latest', async () => {
    sandbox.autoscaling.createGroup({ name: 'moving', launchTemplate: { id: templateId, version: '$Latest' }, desiredCapacity: 2 });
    await start({ AutoScalingGroupName: 'moving', Preferences: { AutoRollback: false } });
    await expect(autoscaling.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: 'moving' }))).rejects.toMatchObject({
      name: 'IrreversibleInstanceRefreshFault',
      message: expect.stringMatching(/\$Latest/),
    });
  });
});

describe('DescribeInstanceRefreshes', () => {
  it('lists newest first, filters by ID and pages', async () => {
    const first = await start();
    advance(3600);
    const second = await start({ DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: templateId, Version: '1' } } });
    const all = await autoscaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'web' }));
    expect(all.InstanceRefreshes!.map((r) => [r.InstanceRefreshId, r.Status])).toEqual([
      [second, 'Pending'],
      [first, 'Successful'],
    ]);
    const page = await autoscaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'web', MaxRecords: 1 }));
    expect(page.InstanceRefreshes!.map((r) => r.InstanceRefreshId)).toEqual([second]);
    const next = await autoscaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'web', MaxRecords: 1, NextToken: page.NextToken }),
    );
    expect(next.InstanceRefreshes!.map((r) => r.InstanceRefreshId)).toEqual([first]);
    expect(next.NextToken).toBeUndefined();
    expect((await refresh(first)).InstanceRefreshId).toBe(first);
  });

  it('rejects an unknown group', async () => {
    await expect(
      autoscaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'nope' })),
    ).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/not found/) });
  });
});

describe('a refresh to a version EC2 does not launch', () => {
  const SLASH = { ResourceType: 'instance' as const, Tags: [{ Key: 'k8s.io/cluster-autoscaler/enabled', Value: 'true' }] };
  const METADATA_TAGS = { InstanceMetadataTags: 'enabled' as const };

  it.each<[string, object, Record<string, string>, Record<string, string>, string | undefined]>([
    ['an instance tag key with / and metadata tags on', { MetadataOptions: METADATA_TAGS, TagSpecifications: [SLASH] }, {}, {}, "'k8s.io/cluster-autoscaler/enabled' is not a valid tag key"],
    ['a group tag key with a space, propagated at launch', { MetadataOptions: METADATA_TAGS }, { 'Cost Center': '42' }, {}, "'Cost Center' is not a valid tag key"],
    ['a reserved key', { MetadataOptions: METADATA_TAGS }, { _index: '1' }, {}, "'_index' is not a valid tag key"],
    ['the same keys with metadata tags off', { TagSpecifications: [SLASH] }, { 'Cost Center': '42' }, {}, undefined],
    ['a group tag key with / not propagated', { MetadataOptions: METADATA_TAGS }, {}, { 'billing/team': 'web' }, undefined],
  ])('%s', async (_case, data, tags, groupOnlyTags, error) => {
    const created = await ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: templateId, SourceVersion: '1', LaunchTemplateData: data }));
    const version = String(created.LaunchTemplateVersion!.VersionNumber);
    sandbox.autoscaling.createGroup({ name: 'tagged', launchTemplate: { id: templateId, version: '1' }, desiredCapacity: 2, tags, groupOnlyTags });
    await start({ AutoScalingGroupName: 'tagged', DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: templateId, Version: version } } });
    // One instance a batch: the first batch's launch fails (then one batch of rollback), or both batches succeed.
    advance(5 + 60 + 60 + 1);
    const answer = await autoscaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'tagged' }));
    const [ended] = answer.InstanceRefreshes!;
    const tagged = await group('tagged');
    if (error === undefined) {
      expect(ended.Status).toBe('Successful');
      expect(tagged.LaunchTemplate!.Version).toBe(version);
    } else {
      expect(ended).toMatchObject({ Status: 'RollbackSuccessful', StatusReason: expect.stringContaining(`InvalidParameterValue: ${error}`) });
      expect(tagged.LaunchTemplate!.Version).toBe('1');
    }
    expect(tagged.Tags!.map((t) => [t.Key, t.PropagateAtLaunch])).toEqual([
      ...Object.keys(groupOnlyTags).map((key) => [key, false]),
      ...Object.keys(tags).map((key) => [key, true]),
    ]);
  });
});
