/**
 * ssm-deploy in association mode end to end: the built bundle, run as the runner runs it, against the sandbox's State
 * Manager, whose executions run on the same simulated instances (and scripted outcomes) as Run Command. The sandbox
 * clock runs fast, so an instance's 10-second deploy takes a fraction of a real second; the action's own poll
 * interval and timeout are real time.
 */
import { SSMClient, UpdateAssociationCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { OutcomeScript } from '../sandbox/services/ssm/ssm.js';
import { Sandbox } from '../sandbox/server.js';
import { githubTrustPolicy } from '../sandbox/services/sts/sts.js';
import { TEST_TIMEOUT_VARIABLE } from '../shared/aws-clients.js';
import { STORE_PATH } from './actions.js';
import { runAction, type StepResult } from './harness/runner.js';
import { assertNoSecrets } from './harness/secrets.js';

const SPEED = 60;
const sandbox = new Sandbox({ speed: SPEED });
beforeAll(() => sandbox.start());
afterAll(() => sandbox.stop());
beforeEach(() => {
  sandbox.reset();
  sandbox.clock.setSpeed(SPEED);
});

const OLD_PATH = '/nix/store/1c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-prometheus-25.05';
const OTHER_PATH = '/nix/store/9x7m2a1k4kbcz0zd7r6ahdwvfspv1chq-nixos-system-prometheus-25.05';
const NAME = 'nixos-prometheus';
const BASE = { mode: 'association', 'association-name': NAME, targets: 'tag:Role=prometheus', 'store-path': STORE_PATH, 'poll-interval-seconds': '1' };
const TAGS = { Role: 'prometheus' };

const instanceId = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
function addInstances(count: number, outcome?: (n: number) => OutcomeScript | undefined, from = 1): string[] {
  return Array.from({ length: count }, (_, i) => {
    const id = instanceId(from + i);
    sandbox.ssm.addInstance({ instanceId: id, tags: TAGS, outcome: outcome?.(from + i) });
    return id;
  });
}

const deploy = (
  inputs: Record<string, string> = {},
  options: { timeoutMs?: number; signal?: { afterLine: RegExp }; env?: Record<string, string> } = {},
) => runAction('ssm-deploy', { ...options, env: { ...sandbox.env(), ...options.env }, inputs: { ...BASE, ...inputs } });
const errors = (result: StepResult) => result.annotations.filter((a) => a.level === 'error').map((a) => a.message);
const instancesOf = (result: StepResult) =>
  JSON.parse(result.outputs.instances) as Array<{ instanceId: string; status: string; statusDetails: string; responseCode: number }>;
const params = (operation: string) => sandbox.calls.of(operation).map((c) => c.params);
const storePaths = (operation: string) => params(operation).map((p) => (p.Parameters as { storePath?: string[] } | undefined)?.storePath?.[0]);
const consoleUrl = (id: string) => `https://us-east-1.console.aws.amazon.com/systems-manager/state-manager/${id}/description?region=us-east-1`;
/** The association's executions, as the sandbox holds them. */
const executionsOf = (associationId: string) => sandbox.ssm.associations.store.find(associationId).executions;

/** A first deploy of OLD_PATH that creates the association; the calls log is cleared after it. */
async function existing(inputs: Record<string, string> = {}): Promise<StepResult> {
  const first = await deploy({ 'store-path': OLD_PATH, ...inputs });
  expect(first.exitCode).toBe(0);
  sandbox.calls.clear();
  return first;
}

describe('ssm-deploy association mode: create, update, apply once', () => {
  it('creates the association pinned to the document version by number, and waits for its execution', async () => {
    const ids = addInstances(3);
    const result = await deploy({ schedule: 'rate(1 day)', 'max-concurrency': '2', 'max-errors': '1', 'environment-tag': 'staging' });

    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(params('CreateAssociation')).toEqual([
      {
        AssociationName: NAME,
        Name: 'NixOS-Deploy',
        DocumentVersion: '1',
        Parameters: { storePath: [STORE_PATH], action: ['switch'], healthCheckTimeoutSeconds: ['60'], rollbackOnFailure: ['true'], executionTimeout: ['3600'] },
        Targets: [{ Key: 'tag:Role', Values: ['prometheus'] }],
        MaxConcurrency: '2',
        MaxErrors: '1',
        ScheduleExpression: 'rate(1 day)',
        // What the deploy roles' IAM conditions read: aws:RequestTag on create, aws:ResourceTag afterwards.
        Tags: [{ Key: 'Environment', Value: 'staging' }],
      },
    ]);
    expect(sandbox.calls.of('SendCommand')).toHaveLength(0);
    const id = result.outputs['association-id'];
    expect(sandbox.ssm.associations.store.find(id).tags).toEqual({ Environment: 'staging' });
    expect(result.outputs).toMatchObject({
      'association-version': '1',
      'execution-id': executionsOf(id)[0].executionId,
      'console-url': consoleUrl(id),
      status: 'Success',
      'succeeded-count': '3',
      'failed-count': '0',
    });
    expect(instancesOf(result).map((i) => i.instanceId).sort()).toEqual(ids);
    expect(result.summary).toContain('<h2>NixOS deployed through a State Manager association</h2>');
    expect(result.summary).toContain(`${NAME} (${id})`);
    expect(result.summary).toContain('1 (created)');
    expect(result.summary).toContain('rate(1 day)');
    expect(result.logLines).toContain(`Created the association ${NAME} (${id}, version 1): ${consoleUrl(id)}`);
  });

  it('updates a changed association (a new version), waits for that version\'s execution, then applies an unchanged one once', async () => {
    addInstances(2);
    const first = await existing();
    const id = first.outputs['association-id'];

    const updated = await deploy();
    expect(updated.exitCode).toBe(0);
    expect(sandbox.calls.of('CreateAssociation')).toHaveLength(0);
    expect(params('UpdateAssociation')).toEqual([expect.objectContaining({ AssociationId: id, AssociationVersion: '1', AssociationName: NAME, DocumentVersion: '1' })]);
    expect(storePaths('UpdateAssociation')).toEqual([STORE_PATH]);
    expect(updated.outputs).toMatchObject({ 'association-id': id, 'association-version': '2', 'succeeded-count': '2' });
    const second = executionsOf(id).find((e) => e.executionId === updated.outputs['execution-id']);
    expect(second?.associationVersion).toBe(2);
    expect(updated.logLines).toContain(`The association ${NAME} differs in parameters`);
    expect(updated.summary).toContain('1 -&gt; 2 (updated)');
    expect(updated.summary).toContain(`${OLD_PATH} -&gt; ${STORE_PATH}`);

    // An instance launched meanwhile ran version 2 on its own: an older execution of that version, not this step's.
    addInstances(1, undefined, 9);
    // The same deploy again (a re-run of the same job attempt): no new version, one more execution of version 2.
    sandbox.calls.clear();
    const again = await deploy();
    expect(again.exitCode).toBe(0);
    expect(sandbox.calls.of('UpdateAssociation')).toHaveLength(0);
    expect(params('StartAssociationsOnce')).toEqual([{ AssociationIds: [id] }]);
    expect(again.outputs['association-version']).toBe('2');
    expect(executionsOf(id).map((e) => [e.trigger, e.associationVersion])).toEqual([
      ['create', 1],
      ['update', 2],
      ['instance', 2],
      ['once', 2],
    ]);
    expect(again.outputs['execution-id']).toBe(executionsOf(id)[3].executionId);
    expect(again.outputs['succeeded-count']).toBe('3');
    expect(again.summary).toContain('2 (unchanged, applied once)');
  });

  it('applying once follows the fleet-wide execution, not a launched instance\'s that started while its call was out', async () => {
    addInstances(3);
    // All at once: with MaxErrors 0, SSM stops what has not started when the first instance fails.
    const first = await existing({ 'store-path': OLD_PATH, 'max-concurrency': '100%' });
    const id = first.outputs['association-id'];
    sandbox.ssm.setOutcome(instanceId(2), { status: 'Failed', responseCode: 3 });
    sandbox.faults.add({ kind: 'latency', service: 'ssm', operation: 'StartAssociationsOnce', count: 1, latencyMs: 3000 });
    const running = deploy({ 'store-path': OLD_PATH, 'max-concurrency': '100%' });
    // The request is held before it is carried out: an instance launched now runs the association on its own first.
    while (!sandbox.faults.taken.some((f) => f.operation === 'StartAssociationsOnce')) await new Promise((resolve) => setTimeout(resolve, 20));
    const [late] = addInstances(1, undefined, 9);
    const result = await running;

    expect(executionsOf(id).map((e) => e.trigger)).toEqual(['create', 'instance', 'once']);
    const [, own, once] = executionsOf(id);
    expect(sandbox.ssm.command(own.commandId).resolvedInstanceIds).toEqual([late]);
    expect(result.outputs['execution-id']).toBe(once.executionId);
    expect(result.exitCode).toBe(1);
    // The fleet's result, read: the failure on instance 2 (the late one, busy with its own run, may be cut short too).
    expect(errors(result)).toEqual([expect.stringContaining(`${instanceId(2)} Failed (exit 3: not rolled back)`)]);
    expect(Number(result.outputs['failed-count'])).toBeGreaterThanOrEqual(1);
    expect(instancesOf(result).map((i) => i.instanceId).sort()).toEqual([instanceId(1), instanceId(2), instanceId(3), late]);
  });

  it('brings an instance launched after the deploy to the same system, without a deploy', async () => {
    addInstances(2);
    const result = await deploy();
    expect(result.exitCode).toBe(0);
    const id = result.outputs['association-id'];

    const [late] = addInstances(1, undefined, 9);
    const execution = executionsOf(id).at(-1)!;
    expect(execution).toMatchObject({ trigger: 'instance', associationVersion: 1 });
    const command = sandbox.ssm.command(execution.commandId);
    expect(command.resolvedInstanceIds).toEqual([late]);
    expect(command.parameters.storePath).toEqual([STORE_PATH]);
    sandbox.clock.advance(60_000);
    expect(sandbox.ssm.state(execution.commandId).status).toBe('Success');
  });

  it('fails when no instance matches the targets', async () => {
    addInstances(1);
    const result = await deploy({ targets: 'tag:Role=nothing-here' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining('No instance matches the targets tag:Role=nothing-here: nothing was deployed')]);
    expect(result.outputs['association-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('with wait: false, changes the association and ends', async () => {
    addInstances(1);
    const result = await deploy({ wait: 'false' });
    expect(result.exitCode).toBe(0);
    expect(sandbox.calls.of('DescribeAssociationExecutionTargets')).toHaveLength(0);
    expect(result.outputs['association-version']).toBe('1');
    expect(result.summary).toContain('not waited for');
  });
});

describe('ssm-deploy association mode after a failed deploy', () => {
  const failing = (n: number): OutcomeScript | undefined =>
    n === 2 ? { status: 'Failed', responseCode: 2, stdout: 'health check failed: prometheus.service', durationSeconds: 5 } : undefined;

  it('on-failure: revert returns the association to the store path it had (a new version), and says so', async () => {
    addInstances(3);
    // All at once: with MaxErrors 0, SSM stops (Terminated) what has not started when the first instance fails.
    const first = await existing({ 'max-concurrency': '100%' });
    const id = first.outputs['association-id'];
    sandbox.ssm.setOutcome(instanceId(2), failing(2));

    const result = await deploy({ 'max-concurrency': '100%' });
    expect(result.exitCode).toBe(1);
    const message = `Deploy failed; association returned to ${OLD_PATH}, version 3.`;
    expect(errors(result)).toEqual([expect.stringContaining(message)]);
    expect(errors(result)[0]).toContain(`${instanceId(2)} Failed (exit 2: rolled back to the previous generation)`);
    expect(storePaths('UpdateAssociation')).toEqual([STORE_PATH, OLD_PATH]);
    // Held to the version this step made, so that a change made meanwhile by someone else is refused, not overwritten.
    expect(params('UpdateAssociation')[1]).toMatchObject({ AssociationId: id, AssociationVersion: '2', DocumentVersion: '1' });
    expect(result.outputs).toMatchObject({ 'association-version': '2', 'reverted-version': '3', 'failed-count': '1', 'succeeded-count': '2' });
    expect(instancesOf(result).find((i) => i.instanceId === instanceId(2))).toMatchObject({ status: 'Failed', responseCode: 2 });
    // The failed instance's output, read from the Run Command invocation the execution ran as.
    expect(params('GetCommandInvocation')).toEqual([expect.objectContaining({ InstanceId: instanceId(2) })]);
    expect(result.logLines).toContain('health check failed: prometheus.service');
    expect(result.logLines).toContain(`Deploy failed; association ${NAME} returned to ${OLD_PATH}, version 3`);
    expect(result.summary).toContain(`returned to ${OLD_PATH}, version 3`);
    expect(result.summary).toContain('1 -&gt; 2 -&gt; 3 (updated, then reverted)');
    const latest = sandbox.ssm.associations.store.find(id).versions.at(-1)!;
    expect(latest.parameters?.storePath).toEqual([OLD_PATH]);
  });

  it('does not overwrite a change someone else made meanwhile: the revert, held to its own version, is refused and reported', async () => {
    addInstances(3);
    const first = await existing({ 'max-concurrency': '100%' });
    const id = first.outputs['association-id'];
    sandbox.ssm.setOutcome(instanceId(2), failing(2));
    // The clock stands still until the other writer's update is in: the step's execution cannot end before it.
    sandbox.clock.setSpeed(0);
    const running = deploy({ 'max-concurrency': '100%' });
    const store = sandbox.ssm.associations.store;
    while (store.find(id).versions.length < 2) await new Promise((resolve) => setTimeout(resolve, 50));
    const other = new SSMClient({
      endpoint: sandbox.url,
      region: 'us-east-1',
      credentials: { accessKeyId: sandbox.env().AWS_ACCESS_KEY_ID, secretAccessKey: sandbox.env().AWS_SECRET_ACCESS_KEY },
    });
    const theirs = await other.send(
      new UpdateAssociationCommand({ AssociationId: id, Name: 'NixOS-Deploy', DocumentVersion: '1', Parameters: { storePath: [OTHER_PATH] }, Targets: [{ Key: 'tag:Role', Values: ['prometheus'] }] }),
    );
    other.destroy();
    expect(theirs.AssociationDescription?.AssociationVersion).toBe('3');
    sandbox.clock.setSpeed(SPEED);
    const result = await running;

    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining('Not reverted: the association was changed by someone else (version 3)')]);
    expect(sandbox.calls.of('UpdateAssociation').map((c) => [c.params.AssociationVersion, c.errorCode ?? 'ok'])).toEqual([
      ['1', 'ok'],
      [undefined, 'ok'],
      ['2', 'InvalidAssociationVersion'],
    ]);
    expect(store.find(id).versions.at(-1)!.parameters?.storePath).toEqual([OTHER_PATH]);
    expect(result.outputs['reverted-version']).toBeUndefined();
    expect(result.summary).toContain('not reverted: the association was changed by someone else (version 3)');
  });

  it('on-failure: keep leaves the new settings, and says so', async () => {
    addInstances(2);
    const first = await existing();
    sandbox.ssm.setOutcome(instanceId(2), { status: 'Failed', responseCode: 3 });

    const result = await deploy({ 'on-failure': 'keep' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining('The association keeps the new settings (on-failure is keep).')]);
    expect(errors(result)[0]).toContain('exit 3: not rolled back');
    expect(storePaths('UpdateAssociation')).toEqual([STORE_PATH]);
    expect(result.outputs['reverted-version']).toBeUndefined();
    const latest = sandbox.ssm.associations.store.find(first.outputs['association-id']).versions.at(-1)!;
    expect(latest.parameters?.storePath).toEqual([STORE_PATH]);
  });

  it('a failed first deploy deletes the association it created, so that later instances do not get the failed system', async () => {
    addInstances(2, failing);
    const result = await deploy();
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining('Deploy failed; the association this deploy created was deleted')]);
    expect(sandbox.calls.of('UpdateAssociation')).toHaveLength(0);
    const id = result.outputs['association-id'];
    expect(params('DeleteAssociation')).toEqual([{ AssociationId: id }]);
    expect(sandbox.ssm.associations.store.size).toBe(0);
    expect(result.outputs['association-deleted']).toBe('true');
    expect(result.logLines).toContain(`Deploy failed; deleted the association ${NAME} (${id}) this deploy created, so that instances launched later do not get the failed system`);
    expect(result.summary).toContain('deleted (this deploy had created it)');
    // An instance launched afterwards runs nothing.
    addInstances(1, undefined, 9);
    expect(sandbox.ssm.commands).toHaveLength(1);
  });

  it('a first deploy that fails with on-failure: keep keeps the association it created', async () => {
    addInstances(2, failing);
    const result = await deploy({ 'on-failure': 'keep' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining('The association keeps the new settings (on-failure is keep).')]);
    expect(sandbox.calls.of('DeleteAssociation')).toHaveLength(0);
    expect(sandbox.ssm.associations.store.size).toBe(1);
  });
});

describe('ssm-deploy association mode stopped: on-abort', () => {
  const long: OutcomeScript = { status: 'Success', durationSeconds: 100_000 };

  it('on timeout, returns the association to its previous settings (on-abort: revert)', async () => {
    addInstances(2);
    await existing();
    for (const id of [instanceId(1), instanceId(2)]) sandbox.ssm.setOutcome(id, long);

    const result = await deploy({ 'execution-timeout-seconds': '172800', 'timeout-minutes': '0.05' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([
      `The association's execution did not end within 3 seconds. 0 of 2 instances had succeeded. Deploy failed; association returned to ${OLD_PATH}, version 3.`,
    ]);
    expect(storePaths('UpdateAssociation')).toEqual([STORE_PATH, OLD_PATH]);
    expect(result.summary).toContain('timed out');
  });

  it('a first deploy that times out deletes the association it created (on-abort: revert)', async () => {
    addInstances(1, () => long);
    const result = await deploy({ 'execution-timeout-seconds': '172800', 'timeout-minutes': '0.05' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining('did not end within 3 seconds. 0 of 1 instances had succeeded. Deploy failed; the association this deploy created was deleted')]);
    expect(params('DeleteAssociation')).toEqual([{ AssociationId: result.outputs['association-id'] }]);
    expect(sandbox.ssm.associations.store.size).toBe(0);
    expect(result.outputs['association-deleted']).toBe('true');
  });

  it('on timeout with on-abort: leave, leaves it', async () => {
    addInstances(1);
    await existing();
    sandbox.ssm.setOutcome(instanceId(1), long);
    const result = await deploy({ 'execution-timeout-seconds': '172800', 'timeout-minutes': '0.05', 'on-abort': 'leave' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining('The association keeps the new settings (on-abort is leave).')]);
    expect(storePaths('UpdateAssociation')).toEqual([STORE_PATH]);
  });

  it('on SIGINT, returns the association before the process ends, and reports it', async () => {
    addInstances(3);
    const first = await existing();
    for (const n of [1, 2, 3]) sandbox.ssm.setOutcome(instanceId(n), long);

    const result = await deploy({ 'execution-timeout-seconds': '172800' }, { signal: { afterLine: /^Execution \S+ InProgress/ } });
    expect(result.signals.map((s) => s.name)).toEqual(['SIGINT']);
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([
      expect.stringMatching(new RegExp(`^The run was cancelled while the association's execution ran\\..* Deploy failed; association returned to ${OLD_PATH}, version 3\\.$`)),
    ]);
    expect(storePaths('UpdateAssociation')).toEqual([STORE_PATH, OLD_PATH]);
    expect(result.outputs).toMatchObject({ 'association-id': first.outputs['association-id'], 'association-version': '2', 'reverted-version': '3' });
    expect(result.summary).toContain('cancelled');
  });
});

describe('ssm-deploy association mode cancelled while its change is out', () => {
  it('says the association may have been changed, and where to look; reverts nothing it cannot know', async () => {
    addInstances(1);
    const first = await existing();
    sandbox.faults.add({ kind: 'hang', service: 'ssm', operation: 'UpdateAssociation', rate: 1 });
    const result = await deploy({}, { signal: { afterLine: /differs in parameters/ } });

    expect(result.signals.map((s) => s.name)).toEqual(['SIGINT']);
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([
      `The run was cancelled (SIGINT) while updating the association ${NAME}: its answer never came, so it may have been changed; look in ${consoleUrl(first.outputs['association-id'])}`,
    ]);
    expect(sandbox.calls.of('UpdateAssociation').length).toBeLessThanOrEqual(1);
    expect(result.summary).toContain('cancelled');
  });
});

describe('ssm-deploy association mode under load and faults', () => {
  it('deploys to 500 instances, walking every page of targets, within ceil(N/50) + 3 calls a look', async () => {
    addInstances(500);
    const result = await deploy({ 'max-concurrency': '100%' }, { timeoutMs: 60_000 });
    expect(errors(result)).toEqual([]);
    expect(result.outputs['succeeded-count']).toBe('500');
    expect(instancesOf(result)).toHaveLength(500);
    const looks = sandbox.calls.of('DescribeAssociationExecutions').length;
    const pages = sandbox.calls.of('DescribeAssociationExecutionTargets');
    expect(pages.some((c) => c.params.NextToken !== undefined)).toBe(true);
    expect(pages.every((c) => c.params.MaxResults === 50)).toBe(true);
    // One DescribeAssociationExecutions (the look before the change included) and 10 pages of 50 per look.
    expect(looks + pages.length).toBeLessThanOrEqual((Math.ceil(500 / 50) + 3) * looks);
    expect(result.summary).toContain('Instances (the first 100 of 500)');
  }, 70_000);

  it('rides out throttling, and an unanswered CreateAssociation creates one association, not two', async () => {
    addInstances(20);
    sandbox.faults.add({ kind: 'lost-answer', service: 'ssm', operation: 'CreateAssociation', count: 1 });
    sandbox.faults.add({ kind: 'throttle', service: 'ssm', operation: 'ListAssociations', count: 2 });
    // The wait's looks and their pages of targets (a created association has no look before the change).
    sandbox.faults.add({ kind: 'throttle', service: 'ssm', operation: 'DescribeAssociationExecutions', count: 3 });
    sandbox.faults.add({ kind: 'throttle', service: 'ssm', operation: 'DescribeAssociationExecutionTargets', count: 3 });
    // A second for the unanswered attempt, not the client's 15 s.
    const result = await deploy({}, { timeoutMs: 55_000, env: { [TEST_TIMEOUT_VARIABLE]: '1000' } });

    expect(errors(result)).toEqual([]);
    expect(result.outputs['succeeded-count']).toBe('20');
    const throttled = sandbox.calls.all().filter((c) => c.errorCode === 'ThrottlingException').map((c) => c.operation);
    expect(throttled.sort()).toEqual([
      ...Array<string>(3).fill('DescribeAssociationExecutionTargets'),
      ...Array<string>(3).fill('DescribeAssociationExecutions'),
      'ListAssociations',
      'ListAssociations',
    ]);
    expect(sandbox.ssm.associations.store.size).toBe(1);
    expect(result.logLines.some((line) => line.includes('The unanswered CreateAssociation had created the association'))).toBe(true);
  }, 60_000);

  it('an UpdateAssociation whose answer was lost makes one version: the resend is refused, the association read again', async () => {
    addInstances(2);
    const first = await existing();
    const id = first.outputs['association-id'];
    sandbox.faults.add({ kind: 'lost-answer', service: 'ssm', operation: 'UpdateAssociation', count: 1 });
    const result = await deploy({}, { timeoutMs: 55_000, env: { [TEST_TIMEOUT_VARIABLE]: '1000' } });

    expect(errors(result)).toEqual([]);
    // The lost attempt went through (version 2); the SDK's resend, held to version 1, was refused.
    expect(sandbox.calls.of('UpdateAssociation').map((c) => [c.params.AssociationVersion, c.errorCode ?? 'ok'])).toContainEqual(['1', 'InvalidAssociationVersion']);
    expect(sandbox.ssm.associations.store.find(id).versions.map((v) => v.version)).toEqual([1, 2]);
    expect(result.logLines).toContain(`The association ${NAME} changed while being updated (InvalidAssociationVersion); reading it again`);
    expect(result.logLines).toContain(`The association ${NAME} was updated by this step's unanswered UpdateAssociation (version 1 -> 2)`);
    // The update's own execution is the one followed: nothing is applied a second time.
    expect(sandbox.calls.of('StartAssociationsOnce')).toHaveLength(0);
    expect(result.outputs).toMatchObject({ 'association-version': '2', 'succeeded-count': '2' });
    expect(result.outputs['execution-id']).toBe(executionsOf(id).find((e) => e.trigger === 'update')?.executionId);
    expect(result.summary).toContain('1 -&gt; 2 (updated)');
  }, 60_000);

  it('an UpdateAssociation whose answer was lost, then a failure: the revert returns to the settings read before the update', async () => {
    addInstances(3);
    const first = await existing({ 'max-concurrency': '100%' });
    const id = first.outputs['association-id'];
    sandbox.ssm.setOutcome(instanceId(2), { status: 'Failed', responseCode: 2, stdout: 'health check failed', durationSeconds: 5 });
    sandbox.faults.add({ kind: 'lost-answer', service: 'ssm', operation: 'UpdateAssociation', count: 1 });
    const result = await deploy({ 'max-concurrency': '100%' }, { timeoutMs: 55_000, env: { [TEST_TIMEOUT_VARIABLE]: '1000' } });

    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining(`Deploy failed; association returned to ${OLD_PATH}, version 3.`)]);
    expect(sandbox.ssm.associations.store.find(id).versions.map((v) => [v.version, v.parameters?.storePath?.[0]])).toEqual([
      [1, OLD_PATH],
      [2, STORE_PATH],
      [3, OLD_PATH],
    ]);
    expect(params('UpdateAssociation').at(-1)).toMatchObject({ AssociationVersion: '2' });
    expect(result.outputs).toMatchObject({ 'association-version': '2', 'reverted-version': '3', 'failed-count': '1' });
    expect(result.summary).toContain('1 -&gt; 2 -&gt; 3 (updated, then reverted)');
    expect(result.summary).toContain(`${OLD_PATH} -&gt; ${STORE_PATH}`);
  }, 60_000);

  it('makes its calls as role-to-assume, exporting nothing and printing no secret', async () => {
    addInstances(2);
    const roleArn = sandbox.sts.addRole({ name: 'deploy', trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/*' }) });
    const result = await deploy({ 'role-to-assume': roleArn });
    expect(errors(result)).toEqual([]);
    expect(result.exportedEnv).toEqual({});
    const ssm = sandbox.calls.all().filter((c) => c.service === 'ssm');
    expect(ssm.map((c) => c.operation)).toContain('CreateAssociation');
    expect(ssm.every((c) => c.caller.startsWith(`arn:aws:sts::${sandbox.accountId}:assumed-role/deploy/`))).toBe(true);
    assertNoSecrets(result, [...sandbox.sts.issuedSecrets(), ...sandbox.oidc.issuedTokens()]);
  });
});

describe('ssm-deploy association mode refuses bad inputs before any call', () => {
  const BAD: Array<[Record<string, string>, string, string]> = [
    [{ targets: '', 'instance-ids': 'i-0123456789abcdef0' }, 'instance-ids', 'give \'targets\' as tag selectors'],
    [{ 'association-name': '' }, 'association-name', 'is required with'],
    [{ 'association-name': 'nixos prometheus' }, 'association-name', 'an association name of 3-128 characters'],
    [{ 'association-name': 'team/prometheus' }, 'association-name', 'an association name of 3-128 characters'],
    [{ schedule: 'rate(5 minutes)' }, 'schedule', 'a rate must be 30 minutes or more'],
    [{ schedule: 'rate(1 days)' }, 'schedule', 'singular for 1'],
    [{ schedule: 'cron(0 2 * * *)' }, 'schedule', 'cron(...) of six fields'],
    [{ schedule: 'every day' }, 'schedule', 'rate(N minutes|hours|days)'],
    [{ 'on-failure': 'rollback' }, 'on-failure', 'must be one of revert, keep'],
    [{ 'on-abort': 'cancel' }, 'on-abort', 'must be one of revert, leave'],
    [{ 'cloudwatch-log-group': '/nixos/deploy' }, 'cloudwatch-log-group', 'output goes to S3 only'],
    [{ mode: 'command', schedule: 'rate(1 day)' }, 'schedule', "applies only with 'mode: association'"],
    // A mode's own inputs given with the other mode would be ignored: refused, naming the input and the mode.
    [{ 'delivery-timeout-seconds': '900' }, 'delivery-timeout-seconds', "applies only with 'mode: command', not with 'mode: association'"],
    [{ 'delivery-timeout-seconds': '600' }, 'delivery-timeout-seconds', "applies only with 'mode: command'"],
    [{ mode: 'command', 'association-name': '' , 'on-failure': 'keep' }, 'on-failure', "applies only with 'mode: association', not with 'mode: command'"],
    [{ mode: 'command', 'association-name': '', 'on-failure': 'revert' }, 'on-failure', "applies only with 'mode: association'"],
    [{ mode: 'command', 'association-name': '', 'environment-tag': 'staging' }, 'environment-tag', "applies only with 'mode: association', not with 'mode: command'"],
    [{ 'environment-tag': 'staging;prod' }, 'environment-tag', 'a tag value of 1-256'],
    [{ mode: 'command', 'association-name': '', 'on-abort': 'leave' }, 'on-abort', "applies only with 'mode: association', not with 'mode: command'"],
  ];

  it.each(BAD)('%j fails naming %s, before any call', async (inputs, input, form) => {
    addInstances(1);
    const result = await deploy(inputs);
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining(`Input '${input}'`)]);
    expect(errors(result)[0]).toContain(form);
    expect(sandbox.calls.all()).toEqual([]);
  });
});
