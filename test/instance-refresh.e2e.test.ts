/**
 * instance-refresh end to end: the bundle, run as the runner runs it, against the sandbox's EC2 and Auto Scaling.
 * The sandbox clock runs fast (a minute of refresh in a fraction of a second); poll intervals are the 1 s minimum.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { CallRecord } from '../sandbox/call-log.js';
import { isMutating } from '../sandbox/call-log.js';
import { Sandbox } from '../sandbox/server.js';
import { githubTrustPolicy } from '../sandbox/services/sts/sts.js';
import { STORE_PATH } from './actions.js';
import { runAction, SIGTERM_AFTER_MS, type StepOptions, type StepResult } from './harness/runner.js';
import { assertNoSecrets } from './harness/secrets.js';
import { withClockHeld } from './sandbox-env.js';

/** Sandbox seconds per real second. */
const SPEED = 200;
const sandbox = new Sandbox({ speed: SPEED });
beforeAll(() => sandbox.start());
afterAll(() => sandbox.stop());

const SOURCE_TAGS = [
  {
    ResourceType: 'instance',
    Tags: [
      { Key: 'Name', Value: 'web' },
      { Key: 'Substituters', Value: 's3://old-cache?region=eu-west-1' },
      { Key: 'TrustedPublicKeys', Value: `cache-1:${'A'.repeat(43)}=` },
    ],
  },
  { ResourceType: 'volume', Tags: [{ Key: 'Team', Value: 'platform' }] },
  { ResourceType: 'network-interface', Tags: [{ Key: 'Team', Value: 'platform' }] },
];

let templateId: string;

/** Template `web` (version 1 tagged, version 2 an unrelated later one) and group `web` of four instances on 1. */
beforeEach(() => {
  sandbox.reset();
  sandbox.clock.setSpeed(SPEED);
  templateId = sandbox.ec2.createLaunchTemplate({
    name: 'web',
    data: {
      ImageId: 'ami-0123456789abcdef0',
      InstanceType: 't3.small',
      UserData: Buffer.from('#!/usr/bin/env bash\n').toString('base64'),
      MetadataOptions: { HttpTokens: 'required', InstanceMetadataTags: 'enabled' },
      TagSpecifications: SOURCE_TAGS,
    },
  }).id;
  sandbox.autoscaling.createGroup({ name: 'web', launchTemplate: { id: templateId, version: '1' }, desiredCapacity: 4 });
});

const FAST = { 'poll-interval-seconds': '1', 'instance-warmup': '60' };

function deploy(inputs: Record<string, string> = {}, options: StepOptions = {}): Promise<StepResult> {
  return runAction('instance-refresh', {
    env: sandbox.env(),
    inputs: { 'auto-scaling-group-name': 'web', 'store-path': STORE_PATH, ...FAST, ...inputs },
    ...options,
  });
}

/** The group's instance refresh tab in the sandbox's region: the `console-url` output. */
const CONSOLE_URL = 'https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#AutoScalingGroupDetails:id=web;view=instanceRefresh';

/** The lines of the summary's one Mermaid block (GitHub renders a ```mermaid fence in a job summary). */
function mermaidLines(result: StepResult): string[] {
  const blocks = [...result.summary.matchAll(/^```mermaid\n([\s\S]*?)\n```$/gm)];
  expect(blocks).toHaveLength(1);
  return blocks[0][1].split('\n');
}

/** What a line of the chart may be: its header, a section of its own, or a task whose label holds no syntax. */
const CHART_LINE = /^(gantt|title [^:;#%`]+|dateFormat x|axisFormat %H:%M:%S|section (Deploy|Refresh|Rollback|Result)|[^:;#%`\r]+ :(done, |active, |crit, )?(milestone, )?\d+, \d+|(InProgress|Pending|Baking|RollbackInProgress) [\d-]+% :(done|active), \d+, \d+)$/;

const errors = (result: StepResult) => result.annotations.filter((a) => a.level === 'error').map((a) => a.message);
const calls = (operation: string): CallRecord[] => sandbox.calls.of(operation);
const mutations = () => sandbox.calls.all().filter((call) => isMutating(call.operation)).map((call) => call.operation);
const template = () => sandbox.ec2.templates.get(templateId)!;
const version = (number: number) => template().versions.find((v) => v.number === number)!;
const groupVersion = () => (sandbox.autoscaling.describeGroup('web').LaunchTemplate as { Version: string }).Version;

/** Starts a refresh of `web` to version `number` as someone else would, straight against the sandbox. */
function otherRefresh(number: number, warmupSeconds = 60): string {
  const started = sandbox.autoscaling.operations.StartInstanceRefresh(
    {
      AutoScalingGroupName: 'web',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: templateId, Version: String(number) } },
      Preferences: { MinHealthyPercentage: '90', InstanceWarmup: String(warmupSeconds), AutoRollback: 'true' },
    },
    { caller: 'someone-else', requestId: 'r', sandbox },
  ) as { InstanceRefreshId: string };
  return started.InstanceRefreshId;
}

/**
 * Runs the step with sandbox time stopped until its first look for another refresh, so that a refresh started
 * before is still where the test left it when the step sees it, however slow the machine is.
 */
function deployWithClockHeld(inputs: Record<string, string>): Promise<StepResult> {
  return withClockHeld(sandbox, () => calls('DescribeInstanceRefreshes').length > 0, () => deploy(inputs));
}

describe('a deploy that succeeds', () => {
  it('makes a version from the group\'s, tags merged, refreshes to it by number, and reports', async () => {
    const result = await deploy({ tags: 'Substituters=s3://new-cache?region=eu-central-1\nRole=web' });

    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(version(2).data.TagSpecifications).toEqual([
      {
        ResourceType: 'instance',
        Tags: [
          { Key: 'Name', Value: 'web' },
          { Key: 'Substituters', Value: 's3://new-cache?region=eu-central-1' },
          { Key: 'TrustedPublicKeys', Value: `cache-1:${'A'.repeat(43)}=` },
          { Key: 'NixStorePath', Value: STORE_PATH },
          { Key: 'Role', Value: 'web' },
        ],
      },
      SOURCE_TAGS[1],
      SOURCE_TAGS[2],
    ]);
    // Everything else is the source version's.
    expect({ ...version(2).data, TagSpecifications: undefined }).toEqual({ ...version(1).data, TagSpecifications: undefined });
    expect(version(2).description).toBe(`${STORE_PATH}, octo-org/octo-repo run 4242424242 attempt 1`);

    const [create] = calls('CreateLaunchTemplateVersion');
    expect(create.params).toMatchObject({ LaunchTemplateId: templateId, SourceVersion: '1', ClientToken: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const [start] = calls('StartInstanceRefresh');
    expect(start.params).toMatchObject({
      AutoScalingGroupName: 'web',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: templateId, Version: '2' } },
      Preferences: { MinHealthyPercentage: '90', InstanceWarmup: '60', SkipMatching: 'true', AutoRollback: 'true' },
    });
    // The group is moved by AWS at the end of the refresh, never by the action first.
    expect(mutations()).toEqual(['CreateLaunchTemplateVersion', 'StartInstanceRefresh']);
    expect(groupVersion()).toBe('2');

    const refreshId = result.outputs['instance-refresh-id'];
    expect(result.outputs).toEqual({
      'instance-refresh-id': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'launch-template-id': templateId,
      'launch-template-version': '2',
      status: 'Successful',
      'console-url': CONSOLE_URL,
    });
    // Followed by its ID; the one look without an ID is the check for another refresh before anything changed.
    const looks = calls('DescribeInstanceRefreshes').map((c) => c.params.InstanceRefreshIds);
    expect(looks[0]).toBeUndefined();
    expect(looks.slice(1)).toEqual(looks.slice(1).map(() => [refreshId]));
    expect(result.logLines).toEqual(expect.arrayContaining([expect.stringMatching(/^InProgress \d+%/), expect.stringMatching(/^Successful 100%/)]));
    expect(result.summary).toContain('Instance refresh of web');
    expect(result.summary).toContain('1 -&gt; 2');
    expect(result.summary).toContain(STORE_PATH);
    expect(result.summary).toContain(CONSOLE_URL);
    // The chart: the action's steps, then the refresh's statuses and percentages, then its final status.
    const chart = mermaidLines(result);
    expect(chart.slice(0, 4)).toEqual(['gantt', 'title Instance refresh of web', 'dateFormat x', 'axisFormat %H:%M:%S']);
    for (const line of chart) expect(line).toMatch(CHART_LINE);
    expect(chart).toEqual(
      expect.arrayContaining([
        'section Deploy',
        expect.stringMatching(/^Checks :done, \d+, \d+$/),
        expect.stringMatching(/^Launch template version from 1 :done, \d+, \d+$/),
        expect.stringMatching(/^Start refresh to version 2 :done, \d+, \d+$/),
        'section Refresh',
        expect.stringMatching(/^InProgress \d+% :done, \d+, \d+$/),
        'section Result',
        expect.stringMatching(/^Successful :milestone, \d+, \d+$/),
      ]),
    );
    const times = chart.flatMap((line) => /, (\d+), (\d+)$/.exec(line)?.slice(1).map(Number) ?? []);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('makes the same version when the same job attempt runs the step again', async () => {
    sandbox.autoscaling.scriptRefresh('web', { failAtPercent: 25, rollbackOutcome: 'success' });
    await deploy();
    const again = await deploy();
    expect(template().versions.map((v) => v.number)).toEqual([1, 2]);
    expect(again.outputs['launch-template-version']).toBe('2');
    const tokens = calls('CreateLaunchTemplateVersion').map((c) => c.params.ClientToken);
    expect(tokens[0]).toBe(tokens[1]);
  });

  it('passes Baking and checkpoints as in progress, logging each change', async () => {
    // Two instances a batch; each pause lasts six poll intervals, so a busy machine's late polls still see it.
    const result = await deploy({ 'min-healthy-percentage': '50', 'checkpoint-percentages': '50,100', 'checkpoint-delay': '1200', 'bake-time': '1200' });
    expect(result.exitCode).toBe(0);
    const statuses = result.logLines.map((line) => /^(Pending|InProgress|Baking|Successful) (\d+)%/.exec(line)).filter((m) => m !== null);
    expect(statuses.some((m) => m[1] === 'InProgress' && m[2] === '50' && m.input.includes('Checkpoint 50% reached'))).toBe(true);
    expect(statuses.some((m) => m[1] === 'Baking')).toBe(true);
    expect(statuses[statuses.length - 1][1]).toBe('Successful');
    expect(result.outputs.status).toBe('Successful');
    expect(calls('StartInstanceRefresh')[0].params.Preferences).toMatchObject({
      CheckpointPercentages: ['50', '100'],
      CheckpointDelay: '1200',
      BakeTime: '1200',
    });
  });

  it('makes its calls as role-to-assume, exporting nothing', async () => {
    const roleArn = sandbox.sts.addRole({ name: 'deploy', trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/*' }) });
    const result = await deploy({ 'role-to-assume': roleArn });
    expect(result.exitCode).toBe(0);
    expect(result.exportedEnv).toEqual({});
    const aws = sandbox.calls.all().filter((c) => c.service !== 'sts');
    expect(aws.length).toBeGreaterThan(0);
    expect(aws.every((c) => c.caller.startsWith(`arn:aws:sts::${sandbox.accountId}:assumed-role/deploy/`))).toBe(true);
    assertNoSecrets(result, [...sandbox.sts.issuedSecrets(), ...sandbox.oidc.issuedTokens()]);
  });

  it('starts again when another refresh got in between its look and its start', async () => {
    sandbox.faults.add({ kind: 'throttle', code: 'InstanceRefreshInProgress', service: 'autoscaling', operation: 'StartInstanceRefresh', count: 1 });
    const result = await deploy();
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(calls('StartInstanceRefresh').map((c) => c.errorCode)).toEqual(['InstanceRefreshInProgress', undefined]);
    expect(template().versions.map((v) => v.number)).toEqual([1, 2]);
  });

  it('only starts the refresh with wait: false', async () => {
    const result = await deploy({ wait: 'false' });
    expect(result.exitCode).toBe(0);
    expect(result.outputs.status).toBe('Pending');
    expect(result.outputs['console-url']).toBe(CONSOLE_URL);
    expect(calls('DescribeInstanceRefreshes').filter((c) => c.params.InstanceRefreshIds !== undefined)).toEqual([]);
  });
});

describe('a deploy that fails', () => {
  it.each<[string, Record<string, unknown>, Record<string, string>, RegExp, string]>([
    ['rolls back', { failAtPercent: 50, rollbackOutcome: 'success', failReason: 'Instances failed health checks.' }, {}, /^Deploy failed, group rolled back to version 1: Instances failed health checks\.$/, 'RollbackSuccessful'],
    ['fails to roll back', { failAtPercent: 50, rollbackOutcome: 'failure' }, {}, /^Deploy failed, and so did the rollback to version 1/, 'RollbackFailed'],
    ['fails without rollback', { failAtPercent: 50, failReason: 'Health checks failed.' }, { 'auto-rollback': 'false' }, /^Deploy failed, the instance refresh failed: Health checks failed\.$/, 'Failed'],
  ])('%s: the step fails with the reason', async (_case, script, inputs, message, status) => {
    sandbox.autoscaling.scriptRefresh('web', script);
    const result = await deploy(inputs);
    expect(result.exitCode).not.toBe(0);
    expect(errors(result)).toEqual([expect.stringMatching(message)]);
    expect(result.outputs.status).toBe(status);
    expect(result.outputs['console-url']).toBe(CONSOLE_URL);
    expect(result.summary).toContain(status);
    expect(groupVersion()).toBe('1');
    const chart = mermaidLines(result);
    for (const line of chart) expect(line).toMatch(CHART_LINE);
    expect(chart.at(-2)).toBe('section Result');
    expect(chart.at(-1)).toMatch(new RegExp(`^${status}( - [^:]+)? :crit, milestone, \\d+, \\d+$`));
    if (status.startsWith('Rollback')) expect(chart).toContain('section Rollback');
  });

  it('draws a hostile StatusReason as a label, never as a line of the chart', async () => {
    const reason = 'Instances failed.\nsection Evil\nclick Checks href "javascript:alert(1)"\r%%{init: {"theme": "dark"}}%%\n```\n<img src=x onerror=alert(1)>: #59;';
    sandbox.autoscaling.scriptRefresh('web', { failAtPercent: 50, rollbackOutcome: 'success', failReason: reason });
    const result = await deploy();
    expect(result.outputs.status).toBe('RollbackSuccessful');
    const chart = mermaidLines(result);
    for (const line of chart) expect(line).toMatch(CHART_LINE);
    expect(chart.filter((line) => line.startsWith('section '))).not.toContain('section Evil');
    expect(chart.some((line) => /^(click|%%)/.test(line))).toBe(false);
    expect(chart.at(-1)).toMatch(/^RollbackSuccessful - Instances failed\. section Evil click Checks href javascr[^:]* :crit, milestone, \d+, \d+$/);
    expect(result.summary).not.toContain('<img');
  });
});

describe('another refresh in progress', () => {
  it('fails the step with if-in-progress: fail, changing nothing', async () => {
    const other = otherRefresh(1);
    const result = await deployWithClockHeld({ 'if-in-progress': 'fail' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([
      expect.stringMatching(
        new RegExp(`^Instance refresh ${other} is (Pending|InProgress) on group web and if-in-progress is fail: no launch template version was made and no refresh started\\.$`),
      ),
    ]);
    expect(mutations()).toEqual([]);
    expect(mermaidLines(result)).toEqual(expect.arrayContaining([expect.stringMatching(/^Checks :done, /), expect.stringMatching(/^Another refresh :crit, /)]));
  });

  it.each<[string, string[]]>([
    ['wait', ['CreateLaunchTemplateVersion', 'StartInstanceRefresh']],
    ['cancel', ['CancelInstanceRefresh', 'CreateLaunchTemplateVersion', 'StartInstanceRefresh']],
  ])('with if-in-progress: %s, deploys once the other has ended', async (policy, expected) => {
    const other = otherRefresh(1);
    const result = await deployWithClockHeld({ 'if-in-progress': policy });
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(mutations()).toEqual(expected);
    expect(mermaidLines(result)).toContainEqual(expect.stringMatching(new RegExp(`^Waited for instance refresh ${other} :done, \\d+, \\d+$`)));
    const [{ seq: started }] = calls('StartInstanceRefresh');
    const looksAtOther = calls('DescribeInstanceRefreshes').filter((c) => JSON.stringify(c.params.InstanceRefreshIds) === JSON.stringify([other]));
    expect(looksAtOther.length).toBeGreaterThan(0);
    expect(looksAtOther.every((c) => c.seq < started)).toBe(true);
    const ended = sandbox.autoscaling.operations.DescribeInstanceRefreshes({ AutoScalingGroupName: 'web', InstanceRefreshIds: [other] }, { caller: 'test', requestId: 'r', sandbox }) as {
      InstanceRefreshes: Array<{ Status: string }>;
    };
    expect(ended.InstanceRefreshes[0].Status).toBe(policy === 'wait' ? 'Successful' : 'Cancelled');
  });

  it('waits for a rollback instead of cancelling it', async () => {
    sandbox.autoscaling.scriptRefresh('web', { failAtPercent: 25, rollbackOutcome: 'success' });
    otherRefresh(1, 600);
    sandbox.autoscaling.scriptRefresh('web', { failAtPercent: undefined });
    // The other refresh's first batch failed at 605 s; rolling it back takes until 1205 s.
    sandbox.clock.advance(1_000_000);
    const result = await deployWithClockHeld({ 'if-in-progress': 'cancel' });
    expect(result.logLines).toContainEqual(expect.stringContaining('is RollbackInProgress on group web: waiting for it to end'));
    expect(result.exitCode).toBe(0);
    expect(mutations()).not.toContain('CancelInstanceRefresh');
  });
});

describe('when the wait ends early', () => {
  /** A refresh that takes four sandbox hours (72 s real): only a timeout or a cancellation ends the wait. */
  const SLOW = { 'instance-warmup': '3600' };

  it.each<[string, string, RegExp]>([
    ['rollback', 'RollbackInstanceRefresh', /Rolling instance refresh \S+ back to launch template version 1 \(on-abort: rollback\)\.$/],
    ['cancel', 'CancelInstanceRefresh', /Cancelled instance refresh \S+ \(on-abort: cancel\)\.$/],
    ['leave', '', /Left instance refresh \S+ running \(on-abort: leave\)\.$/],
  ])('on timeout, on-abort: %s is carried out and the step fails saying so', async (onAbort, call, done) => {
    const result = await deploy({ ...SLOW, 'timeout-minutes': '0.03', 'on-abort': onAbort });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringMatching(/^Instance refresh \S+ did not end within 0\.03 minutes\. /)]);
    expect(errors(result)[0]).toMatch(done);
    expect(mutations()).toEqual(['CreateLaunchTemplateVersion', 'StartInstanceRefresh', ...(call ? [call] : [])]);
    // Outputs and chart so far: the refresh's last status runs until the end, then the ending as a milestone.
    expect(result.outputs).toMatchObject({ status: expect.stringMatching(/^(Pending|InProgress)$/), 'console-url': CONSOLE_URL });
    const chart = mermaidLines(result);
    for (const line of chart) expect(line).toMatch(CHART_LINE);
    expect(chart.at(-2)).toBe('section Result');
    expect(chart.at(-1)).toMatch(/^Instance refresh did not end within 0\.03 minutes\. [^:]+ :crit, milestone, \d+, \d+$/);
    expect(chart.at(-1)).toContain(`(on-abort ${onAbort}).`);
  });

  it.each<[string, string, RegExp]>([
    ['rollback', 'RollbackInstanceRefresh', /Rolling instance refresh \S+ back to launch template version 1/],
    ['cancel', 'CancelInstanceRefresh', /Cancelled instance refresh \S+/],
    ['leave', '', /Left instance refresh \S+ running/],
  ])('on SIGINT, on-abort: %s is carried out within 7 s and the step fails saying so', async (onAbort, call, done) => {
    const result = await deploy({ ...SLOW, 'on-abort': onAbort }, { signal: { afterLine: /^InProgress / } });
    // The runner's SIGTERM comes 7.5 s after its SIGINT: the step must have ended before, counted from the moment
    // the harness sent SIGINT (not from the bundle's start, which a busy machine makes slow).
    expect(result.signals.map((s) => s.name)).toEqual(['SIGINT']);
    expect(result.durationMs - result.signals[0].atMs).toBeLessThan(SIGTERM_AFTER_MS);
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringMatching(/^The run was cancelled while instance refresh \S+ was running\. /)]);
    expect(errors(result)[0]).toMatch(done);
    expect(mutations()).toEqual(['CreateLaunchTemplateVersion', 'StartInstanceRefresh', ...(call ? [call] : [])]);
    expect(result.summary).toContain('The run was cancelled');
    expect(result.outputs['console-url']).toBe(CONSOLE_URL);
    expect(mermaidLines(result).at(-1)).toMatch(/^The run was cancelled while instance refresh was running\. .* :crit, milestone, \d+, \d+$/);
  });
});

describe('throttling', () => {
  it('survives a storm of throttling and server errors during the wait', async () => {
    sandbox.faults.add({ kind: 'throttle', service: 'autoscaling', operation: 'DescribeInstanceRefreshes', rate: 0.5 });
    sandbox.faults.add({ kind: 'server-error', service: 'autoscaling', operation: 'DescribeInstanceRefreshes', rate: 0.2 });
    // Sandbox time stands still until the storm has hit the wait itself three times, however few polls a busy
    // machine makes while the refresh would otherwise be running.
    const failedDuringWait = () => {
      const [started] = calls('StartInstanceRefresh');
      return calls('DescribeInstanceRefreshes').filter((c) => c.errorCode !== undefined && started && c.seq > started.seq);
    };
    const result = await withClockHeld(
      sandbox,
      () => failedDuringWait().length >= 3,
      () => deploy({ 'instance-warmup': '300', 'min-healthy-percentage': '50' }),
    );
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.outputs.status).toBe('Successful');
    expect(failedDuringWait().length).toBeGreaterThanOrEqual(3);
  });
});

describe('a deploy refused before any change', () => {
  /** [inputs over the valid ones, the input the error names]. */
  const BAD_INPUTS: Array<[Record<string, string>, string]> = [
    [{ 'auto-scaling-group-name': '' }, 'auto-scaling-group-name'],
    [{ 'auto-scaling-group-name': 'web\nrm -rf /' }, 'auto-scaling-group-name'],
    [{ 'store-path': '' }, 'store-path'],
    [{ 'store-path': '/nix/store/short-name' }, 'store-path'],
    [{ 'store-path': `${STORE_PATH}; reboot` }, 'store-path'],
    [{ 'store-path': STORE_PATH.replace('/nix/store/0c9q', '/nix/store/Oc9q') }, 'store-path'],
    [{ 'store-path-tag': 'nixos/store-path' }, 'store-path-tag'],
    [{ tags: 'Cache URL=s3://cache' }, 'tags'],
    [{ tags: `NixStorePath=${STORE_PATH}` }, 'tags'],
    [{ 'store-path-tag': 'Environment' }, 'store-path-tag'],
    [{ 'launch-template': 'web template' }, 'launch-template'],
    [{ 'min-healthy-percentage': '101' }, 'min-healthy-percentage'],
    [{ 'min-healthy-percentage': '50', 'max-healthy-percentage': '151' }, 'max-healthy-percentage'],
    [{ 'checkpoint-percentages': '50,20' }, 'checkpoint-percentages'],
    [{ 'checkpoint-delay': '10m' }, 'checkpoint-delay'],
    [{ 'bake-time': '3d' }, 'bake-time'],
    [{ 'scale-in-protected-instances': 'Keep' }, 'scale-in-protected-instances'],
    [{ 'if-in-progress': 'ignore' }, 'if-in-progress'],
    [{ wait: 'yes' }, 'wait'],
    [{ 'timeout-minutes': '0' }, 'timeout-minutes'],
    [{ 'poll-interval-seconds': '0' }, 'poll-interval-seconds'],
    [{ 'on-abort': 'stop' }, 'on-abort'],
    [{ 'role-to-assume': 'arn:aws:iam::12345:role/deploy' }, 'role-to-assume'],
    [{ 'aws-region': 'Frankfurt' }, 'aws-region'],
  ];

  it.each(BAD_INPUTS)('%j fails naming %s, before any AWS call', async (inputs, input) => {
    const result = await deploy(inputs);
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining(`'${input}'`)]);
    expect(sandbox.calls.all()).toEqual([]);
  });

  it.each(BAD_INPUTS.slice(0, 1))('%j sets no output, not even console-url', async (inputs) => {
    expect((await deploy(inputs)).outputs).toEqual({});
  });

  /** [case, seed, inputs, error, console-url: the group was found]. */
  it.each<[string, () => void, Record<string, string>, RegExp, boolean]>([
    ['a group that does not exist', () => undefined, { 'auto-scaling-group-name': 'api' }, /^Auto Scaling group api does not exist/, false],
    [
      'a group on $Latest with auto-rollback',
      () => sandbox.autoscaling.createGroup({ name: 'api', launchTemplate: { id: templateId, version: '$Latest' }, desiredCapacity: 2 }),
      { 'auto-scaling-group-name': 'api' },
      /launches launch template version \$Latest, and AWS rolls back only to a version number.* Nothing was changed\.$/,
      true,
    ],
    ['a launch template that does not exist', () => undefined, { 'launch-template': 'api' }, /InvalidLaunchTemplateName\.NotFoundException/, true],
  ])('%s fails before any change', async (_case, seed, inputs, message, found) => {
    seed();
    const result = await deploy(inputs);
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringMatching(message)]);
    expect(mutations()).toEqual([]);
    const group = inputs['auto-scaling-group-name'] ?? 'web';
    expect(result.outputs['console-url']).toBe(found ? CONSOLE_URL.replace('id=web', `id=${group}`) : undefined);
    expect(mermaidLines(result)).toContainEqual(expect.stringMatching(/^Checks :crit, \d+, \d+$/));
  });
});

describe('tags and settings that would fail every launch or boot', () => {
  /** Inputs alone: refused before any call, naming the key and why. */
  it.each<[string, string]>([
    ['k8s.io/cluster-autoscaler/enabled=true', 'must not set the key "k8s.io/cluster-autoscaler/enabled": it has "/": with MetadataOptions.InstanceMetadataTags enabled, EC2 launches no instance'],
    ['Cost Center=42', 'must not set the key "Cost Center": it has a space'],
    ['Environment=production', 'must not set the key "Environment": it decides which IAM roles may act on the instances (aws:ResourceTag/Environment in iam/)'],
    ['environment=production', 'must not set the key "environment": it decides which IAM roles'],
    [`NixStorePath=${STORE_PATH}`, 'must not set the key "NixStorePath": it carries \'store-path\''],
    ['Substituters=s3://cache?trusted=1', 'value of "Substituters" has "s3://cache?trusted=1" (refused settings: trusted), which the user data refuses'],
    ['Substituters=s3://cache?region=eu-central-1&secret-key=/etc/nix/key', 'value of "Substituters" has "s3://cache?region=eu-central-1&secret-key=/etc/nix/key" (refused settings: secret-key)'],
    ['TrustedPublicKeys=cache-1:not-a-key', 'value of "TrustedPublicKeys" has "cache-1:not-a-key", which the user data refuses'],
  ])('tags: %s is refused before any AWS call', async (tags, message) => {
    const result = await deploy({ tags });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining(`Input 'tags' ${message}`)]);
    expect(sandbox.calls.all()).toEqual([]);
  });

  // The user data reads NixStorePath by its default name whatever 'store-path-tag' says: a value there that is not a
  // store path powers every new instance off.
  it.each<[string, string]>([
    ['garbage', '"garbage"'],
    [`/nix/store/${'e'.repeat(32)}-nixos-system`, `"/nix/store/${'e'.repeat(32)}-nixos-system"`],
  ])('tags: NixStorePath=%s is refused before any AWS call when store-path-tag is Name', async (value, shownValue) => {
    const result = await deploy({ 'store-path-tag': 'Name', tags: `NixStorePath=${value}` });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([
      expect.stringContaining(`Input 'tags' value of "NixStorePath" is ${shownValue}, which the user data refuses (powering the instance off)`),
    ]);
    expect(sandbox.calls.all()).toEqual([]);
  });

  /** Group `api` of two instances on a template `api` made from `data` over the good one, with these group tags. */
  function seedApi(data: Record<string, unknown>, tags: Record<string, string> = {}, groupOnlyTags: Record<string, string> = {}): string {
    const id = sandbox.ec2.createLaunchTemplate({ name: 'api', data: { ...version(1).data, ...data } }).id;
    sandbox.autoscaling.createGroup({ name: 'api', launchTemplate: { id, version: '1' }, desiredCapacity: 2, tags, groupOnlyTags });
    return id;
  }
  const instanceTags = (tags: Record<string, string>) => ({
    TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
  });

  it.each<[string, () => string, RegExp]>([
    [
      'a template instance tag key with /',
      () => seedApi(instanceTags({ Name: 'api', 'k8s.io/cluster-autoscaler/enabled': 'true' })),
      /^Tag key "k8s\.io\/cluster-autoscaler\/enabled" \(an instance tag of launch template lt-[0-9a-f]{17} version 1\) has "\/": with MetadataOptions\.InstanceMetadataTags enabled, EC2 launches no instance/,
    ],
    ['a template instance tag key with a space', () => seedApi(instanceTags({ 'Cost Center': '42' })), /^Tag key "Cost Center" \(an instance tag of launch template lt-\w+ version 1\) has a space/],
    [
      'a group tag key with / propagated at launch',
      () => seedApi({}, { 'kubernetes.io/cluster/api': 'owned' }),
      /^Tag key "kubernetes\.io\/cluster\/api" \(a tag of group api with PropagateAtLaunch\) has "\/"/,
    ],
    [
      'metadata tags disabled',
      () => seedApi({ MetadataOptions: { HttpTokens: 'required', InstanceMetadataTags: 'disabled' } }),
      /^The launch template lt-\w+ version 1 has MetadataOptions\.InstanceMetadataTags disabled: .* Set MetadataOptions\.InstanceMetadataTags to enabled in the launch template\./,
    ],
    ['metadata tags not set', () => seedApi({ MetadataOptions: { HttpTokens: 'required' } }), /^The launch template lt-\w+ version 1 has MetadataOptions\.InstanceMetadataTags unset \(disabled\)/],
    [
      'instance metadata switched off',
      () => seedApi({ MetadataOptions: { HttpEndpoint: 'disabled', InstanceMetadataTags: 'enabled' } }),
      /^The launch template lt-\w+ version 1 has MetadataOptions\.HttpEndpoint disabled/,
    ],
    [
      'a template substituter that skips signatures',
      () => seedApi(instanceTags({ Substituters: 's3://cache?trusted=1' })),
      /^The value of tag "Substituters" \(an instance tag of launch template lt-\w+ version 1\) has "s3:\/\/cache\?trusted=1" \(refused settings: trusted\)/,
    ],
    [
      'a group tag over the store path tag',
      () => seedApi({}, { NixStorePath: STORE_PATH }),
      /^Tag "NixStorePath" is a tag of group api with PropagateAtLaunch, which Auto Scaling puts on new instances over the launch template's/,
    ],
  ])('%s is refused after the reads, before any change', async (_case, seed, message) => {
    seed();
    const result = await deploy({ 'auto-scaling-group-name': 'api' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringMatching(message)]);
    expect(errors(result)[0]).toMatch(/\nNothing was changed\.$/);
    // Only the two reads: not even the look for another refresh.
    expect(sandbox.calls.operations()).toEqual(['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeLaunchTemplateVersions']);
    expect(calls('CreateLaunchTemplateVersion')).toEqual([]);
    expect(calls('StartInstanceRefresh')).toEqual([]);
    expect(mutations()).toEqual([]);
  });

  it.each<[string, () => string, RegExp]>([
    [
      'a template NixStorePath that is not a store path',
      () => seedApi(instanceTags({ NixStorePath: 'garbage' })),
      /^The value of tag "NixStorePath" \(an instance tag of launch template lt-\w+ version 1\) is "garbage", which the user data refuses/,
    ],
    [
      'a group NixStorePath propagated at launch that is not a store path',
      () => seedApi({}, { NixStorePath: '/nix/store/x' }),
      /^The value of tag "NixStorePath" \(a tag of group api with PropagateAtLaunch\) is "\/nix\/store\/x", which the user data refuses/,
    ],
  ])('%s is refused after the reads when store-path-tag is Name, before any change', async (_case, seed, message) => {
    seed();
    const result = await deploy({ 'auto-scaling-group-name': 'api', 'store-path-tag': 'Name' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringMatching(message)]);
    expect(sandbox.calls.operations()).toEqual(['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeLaunchTemplateVersions']);
    expect(mutations()).toEqual([]);
  });

  it('deploys with store-path-tag Name and a template NixStorePath that is a store path', async () => {
    seedApi(instanceTags({ NixStorePath: STORE_PATH }));
    const result = await deploy({ 'auto-scaling-group-name': 'api', 'store-path-tag': 'Name' });
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(mutations()).toEqual(['CreateLaunchTemplateVersion', 'StartInstanceRefresh']);
  });

  it('refuses before cancelling another refresh (if-in-progress: cancel)', async () => {
    seedApi(instanceTags({ 'k8s.io/cluster-autoscaler/enabled': 'true' }));
    // Still running when the step would look (sandbox time stands still until then), so only the order of the
    // checks keeps it from a cancel.
    sandbox.autoscaling.operations.StartInstanceRefresh(
      { AutoScalingGroupName: 'api', Preferences: { InstanceWarmup: '36000' } },
      { caller: 'someone-else', requestId: 'r', sandbox },
    );
    const result = await deployWithClockHeld({ 'auto-scaling-group-name': 'api', 'if-in-progress': 'cancel' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining('Tag key "k8s.io/cluster-autoscaler/enabled"')]);
    expect(mutations()).toEqual([]);
  });

  it('deploys with a group tag key metadata cannot serve that is not propagated at launch', async () => {
    seedApi({}, { Service: 'api' }, { 'billing/team': 'api' });
    const result = await deploy({ 'auto-scaling-group-name': 'api' });
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(mutations()).toEqual(['CreateLaunchTemplateVersion', 'StartInstanceRefresh']);
  });
});
