/**
 * ssm-deploy when it is stopped, end to end: the built bundle, run as the runner runs it, cancelled or failing at
 * each point after its inputs were accepted, against the sandbox's Systems Manager. Whatever the point, the step
 * reports it: a summary saying what happened, the command (when there is one) cancelled and named, and the state it
 * was left in as read after the cancel. The per-attempt timeout is shortened to a second (as in faults.e2e.test.ts),
 * so that an unanswered SendCommand costs one; where a test needs the sandbox to stand still it stops its clock.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { OutcomeScript } from '../sandbox/services/ssm/ssm.js';
import { Sandbox } from '../sandbox/server.js';
import { TEST_TIMEOUT_VARIABLE } from '../shared/aws-clients.js';
import { STORE_PATH } from './actions.js';
import { runAction, SIGTERM_AFTER_MS, type StepOptions, type StepResult } from './harness/runner.js';

const SPEED = 60;
const sandbox = new Sandbox({ speed: SPEED });
beforeAll(() => sandbox.start());
afterAll(() => sandbox.stop());
beforeEach(() => {
  sandbox.reset();
  sandbox.clock.setSpeed(SPEED);
});

const instanceId = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
function addInstances(outcomes: Array<OutcomeScript | undefined>): string[] {
  return outcomes.map((outcome, i) => {
    const id = instanceId(i + 1);
    sandbox.ssm.addInstance({ instanceId: id, tags: { Role: 'web' }, outcome });
    return id;
  });
}
const long: OutcomeScript = { status: 'Success', durationSeconds: 100_000 };
const deploy = (signal?: StepOptions['signal'], inputs: Record<string, string> = {}, attemptMs = '1000') =>
  runAction('ssm-deploy', {
    env: { ...sandbox.env(), [TEST_TIMEOUT_VARIABLE]: attemptMs },
    inputs: { targets: 'tag:Role=web', 'store-path': STORE_PATH, 'poll-interval-seconds': '1', 'execution-timeout-seconds': '172800', ...inputs },
    ...(signal ? { signal } : {}),
  });
const errors = (result: StepResult) => result.annotations.filter((a) => a.level === 'error').map((a) => a.message);
const outcomes = (operation: string) => sandbox.calls.of(operation).map((c) => c.errorCode ?? 'ok');
const consoleUrl = (commandId: string) =>
  `https://us-east-1.console.aws.amazon.com/systems-manager/run-command/${commandId}?region=us-east-1`;
const titleOf = (result: StepResult) => /<h2>(.*?)<\/h2>/.exec(result.summary)?.[1];
const barsOf = (result: StepResult) =>
  (/\n```mermaid\n([\s\S]*?)\n```\n/.exec(result.summary)?.[1].split('\n') ?? []).filter((line) => / :(done|crit), /.test(line));
/** The first SendCommand attempt went unanswered: the step has not seen a command yet, and will look before resending. */
const UNANSWERED = { afterLine: /^SendCommand attempt 1 failed/ };

describe('ssm-deploy cancelled while the answer of SendCommand is unknown', () => {
  it('finds the command the unanswered send created, cancels it, and reports it', async () => {
    addInstances([long, long]);
    sandbox.faults.add({ kind: 'lost-answer', service: 'ssm', operation: 'SendCommand', count: 1 });
    // The look between attempts hangs: the cancellation comes before the step could have found the command itself.
    sandbox.faults.add({ kind: 'hang', service: 'ssm', operation: 'ListCommands', count: 2 });
    const result = await deploy(UNANSWERED);

    expect(result.signals.map((s) => s.name)).toEqual(['SIGINT']);
    expect(result.exitCode).toBe(1);
    expect(outcomes('SendCommand')).toEqual(['AnswerLost']);
    expect(sandbox.ssm.commands).toHaveLength(1);
    const commandId = sandbox.ssm.commands[0].commandId;
    expect(result.logLines).toContain(`The unanswered SendCommand had created the command ${commandId}.`);
    expect(sandbox.calls.of('CancelCommand').map((c) => c.params)).toEqual([{ CommandId: commandId }]);
    expect(errors(result)).toEqual([`The run was cancelled; the command ${commandId} was cancelled (CancelCommand). 0 of 2 instances had succeeded.`]);
    expect(result.outputs).toMatchObject({ 'command-id': commandId, 'console-url': consoleUrl(commandId), 'succeeded-count': '0' });
    expect(titleOf(result)).toBe('NixOS deploy through Systems Manager cancelled');
    expect(result.summary).toContain(commandId);
    expect(result.durationMs - result.signals[0].atMs).toBeLessThan(SIGTERM_AFTER_MS);
    sandbox.clock.advance(5_000);
    expect(sandbox.ssm.state(commandId).status).toBe('Cancelled');
  });

  it('says where to look when the look finds no command (the send was never carried out)', async () => {
    addInstances([long]);
    sandbox.faults.add({ kind: 'hang', service: 'ssm', operation: 'SendCommand', rate: 1 });
    const result = await deploy(UNANSWERED);

    expect(result.exitCode).toBe(1);
    expect(sandbox.ssm.commands).toHaveLength(0);
    expect(outcomes('ListCommands').length).toBeGreaterThanOrEqual(1);
    expect(sandbox.calls.of('CancelCommand')).toHaveLength(0);
    const message =
      'SendCommand failed: The run was cancelled (SIGINT); its answer never came and no command of this run was found, ' +
      'so a command may be running: look in https://us-east-1.console.aws.amazon.com/systems-manager/run-command/executing-commands?region=us-east-1';
    expect(errors(result)).toEqual([message]);
    expect(result.outputs['command-id']).toBeUndefined();
    expect(titleOf(result)).toBe('NixOS deploy through Systems Manager cancelled');
    expect(result.summary).toContain('a command may be running');
    expect(result.summary).not.toContain('Nothing was sent');
  });
});

describe('ssm-deploy reports the command as it stands after CancelCommand', () => {
  it.each<[string, StepOptions['signal'], Record<string, string>, string, RegExp]>([
    ['on SIGINT', { afterLine: /1 of 2 instances succeeded, 0 failed, 1 running/ }, {}, 'NixOS deploy through Systems Manager cancelled', /^The run was cancelled; /],
    ['on timeout', undefined, { 'timeout-minutes': '0.05' }, 'NixOS deploy through Systems Manager timed out', /^The command did not end within 3 seconds; /],
  ])('%s: the status read after the cancel, the finished instance with its exit code and bar, the other neither succeeded nor failed', async (_case, signal, inputs, title, message) => {
    const [done, running] = addInstances([{ status: 'Success', durationSeconds: 10 }, long]);
    // The clock stops once the first instance has ended: the other stays Cancelling after CancelCommand.
    const step = deploy(signal, inputs);
    let commandId = '';
    while (!commandId || sandbox.ssm.state(commandId).invocations.find((i) => i.instanceId === done)?.status !== 'Success') {
      commandId = sandbox.ssm.commands[0]?.commandId ?? '';
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    sandbox.clock.setSpeed(0);
    const result = await step;

    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringMatching(message)]);
    expect(sandbox.calls.of('CancelCommand')).toHaveLength(1);
    expect(result.outputs).toMatchObject({ 'command-id': commandId, status: 'Cancelling', 'succeeded-count': '1', 'failed-count': '0' });
    const instances = JSON.parse(result.outputs.instances) as Array<{ instanceId: string; status: string; responseCode: number }>;
    expect(instances).toEqual([
      expect.objectContaining({ instanceId: done, status: 'Success', responseCode: 0 }),
      expect.objectContaining({ instanceId: running, status: 'Cancelling', responseCode: -1 }),
    ]);
    expect(titleOf(result)).toBe(title);
    expect(result.summary).toMatch(/Had not ended.*1 \(Cancelling\)/);
    expect(barsOf(result)).toEqual([expect.stringMatching(new RegExp(`^ +1\\. ${done} Success :done, \\d+, \\d+$`))]);
    sandbox.clock.setSpeed(SPEED);
    sandbox.clock.advance(5_000);
    expect(sandbox.ssm.state(commandId).status).toBe('Cancelled');
  });
});

describe('ssm-deploy stopped before the command was sent', () => {
  it('fails with the error and a summary saying nothing was sent', async () => {
    addInstances([undefined]);
    sandbox.faults.add({ kind: 'server-error', service: 'ssm', operation: 'DescribeDocument', rate: 1 });
    const result = await deploy();

    expect(result.exitCode).toBe(1);
    const [error] = errors(result);
    expect(error).toContain('InternalFailure');
    expect(titleOf(result)).toBe('NixOS deploy through Systems Manager failed');
    expect(result.summary).toContain(`Nothing was sent: ${error}`);
    expect(sandbox.calls.of('SendCommand')).toHaveLength(0);
    expect(result.outputs['command-id']).toBeUndefined();
  });

  it.each<[string, () => void]>([
    ['DescribeDocument hangs', () => sandbox.faults.add({ kind: 'hang', service: 'ssm', operation: 'DescribeDocument', rate: 1 })],
    ['CreateDocument hangs', () => sandbox.faults.add({ kind: 'hang', service: 'ssm', operation: 'CreateDocument', rate: 1 })],
  ])('reports a cancellation while %s as the cancellation, never as the SDK\'s AbortError', async (_case, inject) => {
    addInstances([undefined]);
    inject();
    // The client's own 15 s per attempt: the step is still in the hung call when the signal comes.
    const result = await deploy({ afterMs: 4_000 }, {}, '');

    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual(['The run was cancelled (SIGINT) before the command was sent: nothing was changed.']);
    expect(result.stdout + result.stderr).not.toContain('AbortError');
    expect(titleOf(result)).toBe('NixOS deploy through Systems Manager cancelled');
    expect(result.summary).toContain('The run was cancelled (SIGINT) before the command was sent: nothing was changed.');
    expect(sandbox.calls.of('SendCommand')).toHaveLength(0);
  });
});
