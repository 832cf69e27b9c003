/**
 * The actions when the network misbehaves, end to end: the bundles, run as the runner runs them, against the sandbox
 * holding requests that never get an answer (`hang`), answering as a failing proxy does (`html`), or failing every
 * check of a wait. The per-attempt timeout is shortened through the test-only variable so that a hung attempt costs
 * a second, not fifteen; nothing else is changed.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { OutcomeScript } from '../sandbox/services/ssm/ssm.js';
import { Sandbox } from '../sandbox/server.js';
import { githubTrustPolicy } from '../sandbox/services/sts/sts.js';
import { DEFAULT_MAX_ATTEMPTS, TEST_TIMEOUT_VARIABLE } from '../shared/aws-clients.js';
import { DEFAULT_MAX_CONSECUTIVE_ERRORS } from '../shared/poller.js';
import { STORE_PATH } from './actions.js';
import { runAction, SIGTERM_AFTER_MS, type StepOptions, type StepResult } from './harness/runner.js';

const sandbox = new Sandbox();
beforeAll(() => sandbox.start());
afterAll(() => sandbox.stop());
beforeEach(() => sandbox.reset());

/** Long enough for a loaded machine to answer a request that is not held. */
const SHORT_TIMEOUTS = { [TEST_TIMEOUT_VARIABLE]: '1000' };
const env = (over: Record<string, string> = {}) => ({ ...sandbox.env(), ...SHORT_TIMEOUTS, ...over });
const errors = (result: StepResult) => result.annotations.filter((a) => a.level === 'error').map((a) => a.message);
const outcomes = (operation: string) => sandbox.calls.of(operation).map((c) => c.errorCode ?? 'ok');
const PAGE_START = '"<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center>';
/** Every failed check of a wait that gives up: each the SDK's attempts, all failing. */
const FAILING_CHECKS = DEFAULT_MAX_ATTEMPTS * (DEFAULT_MAX_CONSECUTIVE_ERRORS + 1);

describe('assume-role', () => {
  let roleArn: string;
  beforeEach(() => {
    roleArn = sandbox.sts.addRole({
      name: 'deploy',
      trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/octo-repo:ref:refs/heads/main' }),
    });
  });
  const assume = () =>
    runAction('assume-role', {
      env: env({ AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' }),
      inputs: { 'role-to-assume': roleArn },
    });

  it.each<[string, () => void, RegExp]>([
    [
      'AssumeRoleWithWebIdentity hangs once',
      () => sandbox.faults.add({ kind: 'hang', service: 'sts', count: 1 }),
      /^AssumeRoleWithWebIdentity attempt 1 failed \(.*(requestTimeout|no answer within 1 s).*\); retrying in \d+ ms$/,
    ],
    [
      'the OIDC token request hangs once',
      () => sandbox.faults.add({ kind: 'hang', service: 'oidc', count: 1 }),
      /^OIDC token request attempt 1 failed \(no answer within 1 s\); retrying in \d+ ms$/,
    ],
    [
      'the OIDC token service answers an HTML 502',
      () => sandbox.faults.add({ kind: 'html', service: 'oidc', count: 1 }),
      /^OIDC token request attempt 1 failed \(The GitHub OIDC token service answered HTTP 502: "<html> <head><title>502 Bad Gateway/,
    ],
  ])('assumes the role when %s, saying it retried', async (_case, inject, retried) => {
    inject();
    const result = await assume();
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.logLines).toContainEqual(expect.stringMatching(retried));
    expect(sandbox.faults.taken).toHaveLength(1);
    expect(sandbox.oidc.issuedTokens()).toHaveLength(1);
    expect(Object.keys(result.exportedEnv)).toContain('AWS_SESSION_TOKEN');
  });

  it('fails, within the budget, saying what hung, when the OIDC token service never answers', async () => {
    sandbox.faults.add({ kind: 'hang', service: 'oidc', rate: 1 });
    const result = await assume();
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringMatching(/^Could not get the job's OIDC ID token: no answer within 1 s$/)]);
    expect(sandbox.faults.taken.length).toBeGreaterThanOrEqual(2);
    expect(sandbox.calls.all()).toEqual([]);
    expect(result.exportedEnv).toEqual({});
  });
});

const instanceId = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;

describe('ssm-deploy', () => {
  const long: OutcomeScript = { status: 'Success', durationSeconds: 100_000 };
  beforeEach(() => sandbox.clock.setSpeed(60));
  function addInstances(count: number, outcome?: OutcomeScript): string[] {
    return Array.from({ length: count }, (_, i) => {
      sandbox.ssm.addInstance({ instanceId: instanceId(i + 1), tags: { Role: 'web' }, outcome });
      return instanceId(i + 1);
    });
  }
  const deploy = (inputs: Record<string, string> = {}) =>
    runAction('ssm-deploy', {
      env: env(),
      inputs: { targets: 'tag:Role=web', 'store-path': STORE_PATH, 'poll-interval-seconds': '1', ...inputs },
    });

  it.each<[string, () => void, string]>([
    ['the first DescribeDocument hangs', () => sandbox.faults.add({ kind: 'hang', service: 'ssm', operation: 'DescribeDocument', count: 1 }), 'DescribeDocument'],
    ['SendCommand hangs once', () => sandbox.faults.add({ kind: 'hang', service: 'ssm', operation: 'SendCommand', count: 1 }), 'SendCommand'],
    [
      'a poll hangs once, then recovers',
      () => sandbox.faults.add({ kind: 'hang', service: 'ssm', operation: 'ListCommands', after: 1, count: 1 }),
      'ListCommands',
    ],
    [
      'a page of invocations hangs once',
      () => sandbox.faults.add({ kind: 'hang', service: 'ssm', operation: 'ListCommandInvocations', after: 1, count: 1 }),
      'ListCommandInvocations',
    ],
  ])('deploys and reports when %s', async (_case, inject, operation) => {
    addInstances(2);
    inject();
    const result = await deploy();
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(outcomes(operation)).toContain('Hung');
    expect(outcomes(operation).at(-1)).toBe('ok');
    expect(result.outputs).toMatchObject({ status: 'Success', 'succeeded-count': '2' });
    expect(result.summary).toContain(result.outputs['command-id']);
    // The hung SendCommand was never carried out: one command, not two.
    expect(sandbox.ssm.commands).toHaveLength(1);
  });

  it('follows the command an unanswered SendCommand created, instead of deploying twice', async () => {
    addInstances(2);
    sandbox.faults.add({ kind: 'lost-answer', service: 'ssm', operation: 'SendCommand', count: 1 });
    const result = await deploy();
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(outcomes('SendCommand')).toEqual(['AnswerLost']);
    expect(sandbox.ssm.commands).toHaveLength(1);
    const commandId = sandbox.ssm.commands[0].commandId;
    expect(result.logLines).toContain(`The unanswered SendCommand had created the command ${commandId}: following it, not sending again.`);
    expect(result.outputs).toMatchObject({ 'command-id': commandId, status: 'Success', 'succeeded-count': '2' });
  });

  it.each<[string, () => void]>([
    ['an instance SSM knows but that is not online (stopped agent, deregistered)', () => sandbox.ssm.addInstance({ instanceId: instanceId(2), pingStatus: 'Inactive' })],
    ['an instance SSM does not know (wrong region or account, no instance profile)', () => undefined],
  ])('refuses %s: explains InvalidInstanceId and says nothing was sent', async (_case, second) => {
    sandbox.ssm.addInstance({ instanceId: instanceId(1) });
    second();
    const result = await deploy({ targets: '', 'instance-ids': `${instanceId(1)},${instanceId(2)}` });
    expect(result.exitCode).toBe(1);
    const [message] = errors(result);
    expect(message).toContain(`SendCommand refused the command (InvalidInstanceId: Instances [[${instanceId(2)}]] not in a valid state`);
    expect(message).toContain(`Instance ${instanceId(2)} is not an online SSM managed node in us-east-1`);
    expect(message).toContain('AmazonSSMManagedInstanceCore');
    expect(message).toContain('Nothing was sent to any instance.');
    expect(outcomes('SendCommand')).toEqual(['InvalidInstanceId']);
    expect(sandbox.ssm.commands).toHaveLength(0);
  });

  it('when the wait gives up after repeated errors: outputs and summary so far, and CancelCommand, said', async () => {
    addInstances(2, long);
    sandbox.faults.add({ kind: 'server-error', service: 'ssm', operation: 'ListCommands', after: 2, count: FAILING_CHECKS });
    const result = await deploy({ 'execution-timeout-seconds': '172800' });

    expect(result.exitCode).toBe(1);
    const commandId = sandbox.ssm.commands[0].commandId;
    expect(errors(result)).toEqual([
      `Stopped waiting for the command (Gave up after ${DEFAULT_MAX_CONSECUTIVE_ERRORS + 1} failed checks in a row: ` +
        `InternalFailure: We encountered an internal error. Please try again.); the command ${commandId} was cancelled ` +
        '(CancelCommand). 0 of 2 instances had succeeded.',
    ]);
    expect(sandbox.calls.of('CancelCommand').map((c) => c.params)).toEqual([{ CommandId: commandId }]);
    expect(result.logLines).toContain(`Cancelled the command ${commandId}`);
    // The command as read after CancelCommand: cancelling or cancelled, never the last poll's InProgress.
    expect(result.outputs).toMatchObject({ 'command-id': commandId, 'succeeded-count': '0' });
    expect(['Cancelling', 'Cancelled']).toContain(result.outputs.status);
    const instances = JSON.parse(result.outputs.instances) as Array<{ status: string }>;
    expect(instances).toHaveLength(2);
    expect(result.outputs['failed-count']).toBe(String(instances.filter((i) => i.status === 'Cancelled').length));
    expect(result.summary).toContain(commandId);
    expect(result.summary).toContain('Stopped waiting for the command');
    sandbox.clock.advance(5_000);
    expect(sandbox.ssm.state(commandId).status).toBe('Cancelled');
  });

  // The abort's budget is 5 s after a cancellation, 60 s after a timeout; each attempt at most a third of it.
  it.each<[string, number, Record<string, string>, StepOptions['signal'], RegExp, RegExp]>([
    // The client's own 15 s per attempt: only the abort's cut (1.666 s) leaves time for a second attempt.
    [
      'after SIGINT, once (the client\'s 15 s per attempt)', 1, { [TEST_TIMEOUT_VARIABLE]: '' }, { afterLine: /instances succeeded, 0 failed, [1-9]\d* running/ },
      /^CancelCommand \(attempt 1\) had no answer within 1666 ms; trying again/, /^The run was cancelled; the command \S+ was cancelled \(CancelCommand\)\./,
    ],
    // Five hung attempts of 1 s outlast the cancelled budget (5 s), not the timeout's.
    [
      'after a timeout, five times', 5, {}, undefined,
      /^CancelCommand \(attempt 4\) had no answer within 1 s; trying again/, /^The command did not end within \S+ seconds?; the command \S+ was cancelled \(CancelCommand\)\./,
    ],
  ])('a hung CancelCommand %s is cut and sent again within the abort\'s budget', async (_case, hangs, over, signal, retried, message) => {
    addInstances(2, long);
    sandbox.faults.add({ kind: 'hang', service: 'ssm', operation: 'CancelCommand', count: hangs });
    const result = await runAction('ssm-deploy', {
      env: env(over),
      inputs: {
        targets: 'tag:Role=web', 'store-path': STORE_PATH, 'poll-interval-seconds': '1', 'execution-timeout-seconds': '172800',
        ...(signal ? {} : { 'timeout-minutes': '0.05' }),
      },
      ...(signal ? { signal } : {}),
    });
    expect(result.exitCode).toBe(1);
    expect(outcomes('CancelCommand').filter((o) => o === 'Hung').length).toBeGreaterThanOrEqual(hangs);
    expect(outcomes('CancelCommand').at(-1)).toBe('ok');
    expect(result.logLines).toContainEqual(expect.stringMatching(retried));
    expect(errors(result)).toEqual([expect.stringMatching(message)]);
    const commandId = sandbox.ssm.commands[0].commandId;
    sandbox.clock.advance(5_000);
    expect(sandbox.ssm.state(commandId).status).toBe('Cancelled');
    if (signal) expect(result.durationMs - result.signals[0].atMs).toBeLessThan(SIGTERM_AFTER_MS);
  });

  it('reads failed instances\' output within its budget when GetCommandInvocation hangs, says whose, and reports', async () => {
    const [id] = addInstances(1, { status: 'Failed', responseCode: 2, stdout: 'switching failed' });
    sandbox.faults.add({ kind: 'hang', service: 'ssm', operation: 'GetCommandInvocation', rate: 1 });
    const result = await deploy();
    expect(result.exitCode).toBe(1);
    expect(result.logLines).toContain(`Could not read the output of ${id}: GetCommandInvocation had no answer within 1 s`);
    // Each of the read's five attempts cut at 1 s (the client's own cut may send one more inside it), not the
    // client's five attempts inside each of them.
    expect(outcomes('GetCommandInvocation').length).toBeLessThanOrEqual(2 * 5);
    expect(result.outputs).toMatchObject({ status: 'Failed', 'failed-count': '1' });
    expect(result.summary).toContain(result.outputs['command-id']);
  });

  it('names the call, the status and the page when a proxy answers SSM with HTML', async () => {
    addInstances(1);
    sandbox.faults.add({ kind: 'html', service: 'ssm', operation: 'DescribeDocument', rate: 1 });
    const result = await deploy();
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([
      expect.stringContaining(`DescribeDocument (SSM) got HTTP 502 with a body that is not AWS's XML or JSON: ${PAGE_START}`),
    ]);
    expect(outcomes('DescribeDocument')).toEqual(Array(DEFAULT_MAX_ATTEMPTS).fill('HtmlPage'));
    expect(sandbox.calls.of('SendCommand')).toEqual([]);
  });
});

describe('instance-refresh', () => {
  let templateId: string;
  beforeEach(() => {
    sandbox.clock.setSpeed(200);
    templateId = sandbox.ec2.createLaunchTemplate({
      name: 'web',
      data: { ImageId: 'ami-0123456789abcdef0', MetadataOptions: { InstanceMetadataTags: 'enabled' } },
    }).id;
    sandbox.autoscaling.createGroup({ name: 'web', launchTemplate: { id: templateId, version: '1' }, desiredCapacity: 2 });
  });
  const deploy = () =>
    runAction('instance-refresh', {
      env: env(),
      inputs: { 'auto-scaling-group-name': 'web', 'store-path': STORE_PATH, 'poll-interval-seconds': '1', 'instance-warmup': '60' },
    });

  it.each<[string, string, number]>([
    ['the first look at the group', 'DescribeAutoScalingGroups', 0],
    ['a poll of the refresh', 'DescribeInstanceRefreshes', 2],
  ])('deploys and reports when %s hangs once', async (_case, operation, after) => {
    sandbox.faults.add({ kind: 'hang', service: 'autoscaling', operation, after, count: 1 });
    const result = await deploy();
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(outcomes(operation)).toContain('Hung');
    expect(result.outputs).toMatchObject({ status: 'Successful', 'launch-template-version': '2' });
    expect(result.summary).toContain(result.outputs['instance-refresh-id']);
  });

  it('when the wait gives up after repeated errors: on-abort carried out, outputs and summary so far', async () => {
    // Real time, so that the refresh is still running when the wait gives up.
    sandbox.clock.setSpeed(1);
    sandbox.faults.add({ kind: 'server-error', service: 'autoscaling', operation: 'DescribeInstanceRefreshes', after: 2, count: FAILING_CHECKS });
    const result = await deploy();

    expect(result.exitCode).toBe(1);
    const refreshId = result.outputs['instance-refresh-id'];
    expect(errors(result)).toEqual([
      `Lost sight of instance refresh ${refreshId} (Gave up after ${DEFAULT_MAX_CONSECUTIVE_ERRORS + 1} failed checks in a row: ` +
        'InternalFailure: We encountered an internal error. Please try again.). ' +
        `Rolling instance refresh ${refreshId} back to launch template version 1 (on-abort: rollback).`,
    ]);
    expect(sandbox.calls.of('RollbackInstanceRefresh')).toHaveLength(1);
    expect(result.outputs.status).toMatch(/^(Pending|InProgress)$/);
    expect(result.summary).toContain(refreshId);
    expect(result.summary).toContain('Lost sight of instance refresh');
  });

  it.each<[string, string]>([
    ['rollback', 'RollbackInstanceRefresh'],
    ['cancel', 'CancelInstanceRefresh'],
  ])('when every read of the refresh fails, on-abort: %s is sent all the same, saying it could not read it', async (onAbort, call) => {
    sandbox.clock.setSpeed(1);
    sandbox.faults.add({ kind: 'server-error', service: 'autoscaling', operation: 'DescribeInstanceRefreshes', after: 2, rate: 1 });
    const result = await runAction('instance-refresh', {
      env: env(),
      inputs: { 'auto-scaling-group-name': 'web', 'store-path': STORE_PATH, 'poll-interval-seconds': '1', 'instance-warmup': '60', 'on-abort': onAbort },
    });
    expect(result.exitCode).toBe(1);
    expect(sandbox.calls.of(call).map((c) => c.errorCode ?? 'ok')).toEqual(['ok']);
    const refreshId = result.outputs['instance-refresh-id'];
    expect(errors(result)).toEqual([expect.stringContaining(`(could not read it first: `)]);
    expect(errors(result)[0]).toMatch(new RegExp(`^Lost sight of instance refresh ${refreshId} .*(Rolling instance refresh|Cancelled instance refresh) ${refreshId}`));
    expect(result.summary).toContain(refreshId);
  });

  it.each<[string, string]>([
    ['rollback', 'RollbackInstanceRefresh'],
    ['cancel', 'CancelInstanceRefresh'],
  ])('after SIGINT, a hung %s call is cut and sent again before the runner\'s SIGTERM', async (onAbort, call) => {
    sandbox.clock.setSpeed(1);
    sandbox.faults.add({ kind: 'hang', service: 'autoscaling', operation: call, count: 1 });
    const result = await runAction('instance-refresh', {
      // The client's own 15 s per attempt: only the abort's cut leaves time for a second attempt.
      env: env({ [TEST_TIMEOUT_VARIABLE]: '' }),
      inputs: { 'auto-scaling-group-name': 'web', 'store-path': STORE_PATH, 'poll-interval-seconds': '1', 'instance-warmup': '3600', 'on-abort': onAbort },
      signal: { afterLine: /^InProgress / },
    });
    expect(result.exitCode).toBe(1);
    expect(outcomes(call)).toEqual(['Hung', 'ok']);
    expect(result.logLines).toContainEqual(expect.stringMatching(new RegExp(`^${call} \\(attempt 1\\) had no answer within 1666 ms; trying again`)));
    expect(errors(result)).toEqual([expect.stringMatching(/^The run was cancelled while instance refresh \S+ was running\. (Rolling|Cancelled)/)]);
    expect(result.durationMs - result.signals[0].atMs).toBeLessThan(SIGTERM_AFTER_MS);
  });

  it.each<[string, boolean, string]>([
    ['its answer is lost once (the SDK\'s retry meets the refresh in progress)', false, 'InstanceRefreshInProgress'],
    ['its answer is lost, then every retry fails (the SDK gives up)', true, 'InternalFailure'],
  ])('follows the refresh StartInstanceRefresh started when %s, instead of taking it for another', async (_case, thenFails, retried) => {
    // Real time and a long warm-up: the refresh is still running when the SDK sends the start again.
    sandbox.clock.setSpeed(1);
    sandbox.faults.add({ kind: 'lost-answer', service: 'autoscaling', operation: 'StartInstanceRefresh', count: 1 });
    if (thenFails) sandbox.faults.add({ kind: 'server-error', service: 'autoscaling', operation: 'StartInstanceRefresh', after: 1, rate: 1 });
    const result = await runAction('instance-refresh', {
      env: env(),
      inputs: { 'auto-scaling-group-name': 'web', 'store-path': STORE_PATH, 'instance-warmup': '3600', wait: 'false' },
    });
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    const starts = outcomes('StartInstanceRefresh');
    expect(starts[0]).toBe('AnswerLost');
    expect(starts.slice(1)).toEqual(Array(starts.length - 1).fill(retried));
    const refreshId = result.outputs['instance-refresh-id'];
    expect(result.logLines).toContain(`An unanswered StartInstanceRefresh had started instance refresh ${refreshId}: following it, not starting again.`);
    expect(result.logLines.some((line) => line.includes('Another instance refresh started'))).toBe(false);
    expect(result.outputs).toMatchObject({ 'launch-template-version': '2', status: 'Pending' });
  });

  it('names the call, the status and the page when a proxy answers EC2 with HTML, having changed nothing', async () => {
    sandbox.faults.add({ kind: 'html', service: 'ec2', rate: 1 });
    const result = await deploy();
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([
      expect.stringContaining(`DescribeLaunchTemplateVersions (EC2) got HTTP 502 with a body that is not AWS's XML or JSON: ${PAGE_START}`),
    ]);
    expect(sandbox.calls.all().filter((c) => /^(Create|Start)/.test(c.operation))).toEqual([]);
  });
});
