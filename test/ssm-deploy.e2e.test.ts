/**
 * ssm-deploy end to end: the built bundle, run as the runner runs it, against the sandbox's Systems Manager with
 * instances whose outcomes each test scripts. The sandbox clock runs fast, so an instance's 10-second deploy
 * takes a fraction of a real second; the action's own poll interval and timeout are real time.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { OutcomeScript } from '../sandbox/services/ssm/ssm.js';
import { Sandbox } from '../sandbox/server.js';
import { githubTrustPolicy } from '../sandbox/services/sts/sts.js';
import { STORE_PATH } from './actions.js';
import { REPO_ROOT, runAction, type StepResult } from './harness/runner.js';
import { assertNoSecrets } from './harness/secrets.js';
import { withClockHeld } from './sandbox-env.js';

const SPEED = 60;
const sandbox = new Sandbox({ speed: SPEED });
beforeAll(() => sandbox.start());
afterAll(() => sandbox.stop());
beforeEach(() => {
  sandbox.reset();
  // A test may slow the clock down; reset keeps the speed.
  sandbox.clock.setSpeed(SPEED);
});

const DOCUMENT_FILE = `${REPO_ROOT}/ssm-deploy/nixos-deploy.json`;
const CONTENT = readFileSync(DOCUMENT_FILE, 'utf8');
const HASH = createHash('sha256').update(CONTENT).digest('hex');
const BASE = { targets: 'tag:Role=web', 'store-path': STORE_PATH, 'poll-interval-seconds': '1' };

const instanceId = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
function addInstances(count: number, outcome?: (n: number) => OutcomeScript | undefined, tags = { Role: 'web' }): string[] {
  return Array.from({ length: count }, (_, i) => {
    const id = instanceId(i + 1);
    sandbox.ssm.addInstance({ instanceId: id, tags, outcome: outcome?.(i + 1) });
    return id;
  });
}

const deploy = (inputs: Record<string, string> = {}, options: { timeoutMs?: number; signal?: { afterLine: RegExp } } = {}) =>
  runAction('ssm-deploy', { env: sandbox.env(), inputs: { ...BASE, ...inputs }, ...options });
const errors = (result: StepResult) => result.annotations.filter((a) => a.level === 'error').map((a) => a.message);
const instancesOf = (result: StepResult) =>
  JSON.parse(result.outputs.instances) as Array<{ instanceId: string; status: string; statusDetails: string; responseCode: number }>;
const operations = () => sandbox.calls.all().map((c) => c.operation);
const sent = () => sandbox.calls.of('SendCommand')[0].params;
const consoleUrl = (commandId: string) =>
  `https://us-east-1.console.aws.amazon.com/systems-manager/run-command/${commandId}?region=us-east-1`;
/** The Mermaid block of the job summary: its lines, or undefined when there is none. */
const mermaidOf = (result: StepResult) => /\n```mermaid\n([\s\S]*?)\n```\n/.exec(result.summary)?.[1].split('\n');

describe('ssm-deploy sends the deploy', () => {
  it('deploys to 120 instances by tag, walking every page of invocations, and reports each', async () => {
    const ids = addInstances(120);
    const result = await deploy({
      'max-concurrency': '100%',
      'health-check-units': 'nginx.service\npostgresql.service',
      'health-check-url': 'http://127.0.0.1:8080/health',
      substituters: 'file:///var/cache/nix https://cache.example.org',
    });

    expect(result.exitCode).toBe(0);
    expect(result.outputs).toMatchObject({ status: 'Success', 'succeeded-count': '120', 'failed-count': '0' });
    expect(result.outputs['command-id']).toMatch(/^[0-9a-f-]{36}$/);
    const instances = instancesOf(result);
    expect(instances.map((i) => i.instanceId).sort()).toEqual(ids);
    expect(instances.every((i) => i.status === 'Success' && i.responseCode === 0)).toBe(true);

    expect(sent()).toEqual({
      DocumentName: 'NixOS-Deploy',
      DocumentVersion: '1',
      DocumentHash: HASH,
      DocumentHashType: 'Sha256',
      Targets: [{ Key: 'tag:Role', Values: ['web'] }],
      Parameters: {
        storePath: [STORE_PATH],
        action: ['switch'],
        substituters: ['file:///var/cache/nix https://cache.example.org'],
        healthCheckUnits: ['nginx.service postgresql.service'],
        healthCheckUrl: ['http://127.0.0.1:8080/health'],
        healthCheckTimeoutSeconds: ['60'],
        rollbackOnFailure: ['true'],
        executionTimeout: ['3600'],
      },
      MaxConcurrency: '100%',
      MaxErrors: '0',
      TimeoutSeconds: 600,
      Comment: 'octo-org/octo-repo@a1b2c3d run 4242424242/1',
    });
    // Three pages of 50 on every look; each look is at most ceil(120/50) + 1 calls.
    const pages = sandbox.calls.of('ListCommandInvocations');
    expect(pages.some((call) => call.params.NextToken !== undefined)).toBe(true);
    expect(pages.length).toBeLessThanOrEqual(3 * sandbox.calls.of('ListCommands').length + 3);
    expect(result.summary).toContain('<code>i-00000000000000078</code>');
    expect(result.summary).toContain(`run-command/${result.outputs['command-id']}/${ids[0]}?region=us-east-1`);
    expect(result.logLines).toContain('Created the document NixOS-Deploy');
    expect(result.outputs['console-url']).toBe(consoleUrl(result.outputs['command-id']));
    // The timeline: one bar per instance, from the invocation's start to its end, at most 100.
    const chart = mermaidOf(result)!;
    expect(chart.slice(0, 2)).toEqual(['gantt', '    title Instances (the first 100 of 120)']);
    const bars = chart.filter((line) => / :(done|crit), /.test(line));
    expect(bars).toHaveLength(100);
    bars.forEach((bar, i) => expect(bar).toMatch(new RegExp(`^ {4}${i + 1}\\. i-0{15}[0-9a-f]{2} Success :done, (\\d+), (\\d+)$`)));
  });

  it('passes instance IDs, rate controls, timeouts and output options as given', async () => {
    const ids = addInstances(3);
    const result = await deploy({
      targets: '',
      'instance-ids': ids.join(','),
      action: 'reboot',
      'trusted-public-keys': `cache-1:${'A'.repeat(43)}=`,
      'rollback-on-failure': 'false',
      'max-concurrency': '2',
      'max-errors': '1',
      'execution-timeout-seconds': '900',
      'delivery-timeout-seconds': '120',
      'health-check-timeout-seconds': '30',
      'cloudwatch-log-group': '/nixos/deploy',
      'output-s3-bucket': 'deploy-logs',
    });
    expect(result.exitCode).toBe(0);
    expect(sent()).toMatchObject({
      InstanceIds: ids,
      Parameters: {
        storePath: [STORE_PATH],
        action: ['reboot'],
        trustedPublicKeys: [`cache-1:${'A'.repeat(43)}=`],
        healthCheckTimeoutSeconds: ['30'],
        rollbackOnFailure: ['false'],
        executionTimeout: ['900'],
      },
      MaxConcurrency: '2',
      MaxErrors: '1',
      TimeoutSeconds: 120,
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: '/nixos/deploy' },
      OutputS3BucketName: 'deploy-logs',
      OutputS3Region: 'us-east-1',
    });
    expect(sent().Targets).toBeUndefined();
  });

  it('makes its calls as role-to-assume, exporting nothing and printing no secret', async () => {
    addInstances(2);
    const roleArn = sandbox.sts.addRole({ name: 'deploy', trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/*' }) });
    const result = await deploy({ 'role-to-assume': roleArn });
    expect(errors(result)).toEqual([]);
    expect(result.exportedEnv).toEqual({});
    const ssm = sandbox.calls.all().filter((c) => c.service === 'ssm');
    expect(ssm.length).toBeGreaterThan(0);
    expect(ssm.every((c) => c.caller.startsWith(`arn:aws:sts::${sandbox.accountId}:assumed-role/deploy/`))).toBe(true);
    assertNoSecrets(result, [...sandbox.sts.issuedSecrets(), ...sandbox.oidc.issuedTokens()]);
  });

  it('with wait: false, sends and ends at once', async () => {
    addInstances(2);
    const result = await deploy({ wait: 'false' });
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toMatchObject({ status: 'Pending', instances: '[]' });
    expect(operations().filter((op) => op.startsWith('List'))).toEqual([]);
    expect(result.outputs['console-url']).toBe(consoleUrl(result.outputs['command-id']));
    expect(mermaidOf(result)).toBeUndefined();
    // The title says what happened: sent, not deployed.
    expect(result.summary).toContain('<h2>NixOS deploy sent through Systems Manager (not waited for)</h2>');
    expect(result.summary).not.toContain('NixOS deployed');
  });
});

describe('ssm-deploy fails the step unless every instance deployed', () => {
  it('names each failed instance within max-errors, with its exit code and output', async () => {
    addInstances(6, (n) =>
      n === 2 || n === 5
        ? { status: 'Failed', responseCode: 2, stdout: `switching\nhealth check failed on ${n}`, stderr: 'nixos-deploy: Rolled back to /nix/store/x.' }
        : undefined,
    );
    const result = await deploy({ 'max-errors': '2' });

    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([
      'The command ended Success (Incomplete); 2 of 6 instances did not deploy: ' +
        `${instanceId(2)} Failed (exit 2: rolled back to the previous generation); ` +
        `${instanceId(5)} Failed (exit 2: rolled back to the previous generation).`,
    ]);
    expect(result.outputs).toMatchObject({ status: 'Success', 'succeeded-count': '4', 'failed-count': '2' });
    expect(instancesOf(result).filter((i) => i.status !== 'Success')).toEqual([
      { instanceId: instanceId(2), status: 'Failed', statusDetails: 'Failed', responseCode: 2 },
      { instanceId: instanceId(5), status: 'Failed', statusDetails: 'Failed', responseCode: 2 },
    ]);
    expect(result.logLines).toContain('health check failed on 5');
    expect(result.logLines).toContain(`::group::Output of ${instanceId(2)} Failed (exit 2: rolled back to the previous generation)`);
    expect(sandbox.calls.of('GetCommandInvocation').map((c) => c.params.InstanceId)).toEqual([instanceId(2), instanceId(5)]);
    expect(result.summary).toContain('rolled back to the previous generation');
    expect(result.outputs['console-url']).toBe(consoleUrl(result.outputs['command-id']));
    const bars = mermaidOf(result)!.filter((line) => / :(done|crit), /.test(line));
    expect(bars.map((bar) => bar.replace(/, \d+, \d+$/, ''))).toEqual([
      `    1. ${instanceId(2)} Failed :crit`,
      `    2. ${instanceId(5)} Failed :crit`,
      ...[1, 3, 4, 6].map((n, i) => `    ${i + 3}. ${instanceId(n)} Success :done`),
    ]);
  });

  it('names the instances terminated once max-errors is exceeded', async () => {
    addInstances(4, (n) => (n === 1 ? { status: 'Failed' } : undefined));
    const result = await deploy({ 'max-concurrency': '1', 'max-errors': '0' });

    expect(result.exitCode).toBe(1);
    expect(result.outputs.status).toBe('Failed');
    expect(instancesOf(result).map((i) => [i.status, i.statusDetails])).toEqual([
      ['Failed', 'Failed'],
      ['Cancelled', 'Terminated'],
      ['Cancelled', 'Terminated'],
      ['Cancelled', 'Terminated'],
    ]);
    expect(errors(result)[0]).toContain(`${instanceId(1)} Failed (exit 1: failed before anything changed); ${instanceId(2)} Cancelled (Terminated)`);
  });

  it('names undeliverable, execution timed out and delivery timed out instances', async () => {
    sandbox.ssm.addInstance({ instanceId: instanceId(1), tags: { Role: 'web' } });
    sandbox.ssm.addInstance({ instanceId: instanceId(2), tags: { Role: 'web' }, pingStatus: 'ConnectionLost' });
    sandbox.ssm.addInstance({ instanceId: instanceId(3), tags: { Role: 'web' }, outcome: { status: 'TimedOut', stdout: 'still switching' } });
    sandbox.ssm.addInstance({ instanceId: instanceId(4), tags: { Role: 'web' }, outcome: { status: 'DeliveryTimedOut' } });
    const result = await deploy({
      'max-errors': '100%',
      'max-concurrency': '100%',
      'execution-timeout-seconds': '30',
      'delivery-timeout-seconds': '60',
    });

    expect(result.exitCode).toBe(1);
    expect(instancesOf(result).map((i) => [i.instanceId, i.status, i.statusDetails])).toEqual([
      [instanceId(1), 'Success', 'Success'],
      [instanceId(2), 'Failed', 'Undeliverable'],
      [instanceId(3), 'TimedOut', 'ExecutionTimedOut'],
      [instanceId(4), 'TimedOut', 'DeliveryTimedOut'],
    ]);
    const [message] = errors(result);
    expect(message).toContain(`${instanceId(2)} Failed (Undeliverable)`);
    expect(message).toContain(`${instanceId(3)} TimedOut (ExecutionTimedOut, exit 137)`);
    expect(message).toContain(`${instanceId(4)} TimedOut (DeliveryTimedOut)`);
    expect(result.outputs).toMatchObject({ 'succeeded-count': '1', 'failed-count': '3' });
    // Only the instance where the script ran has output to show.
    expect(sandbox.calls.of('GetCommandInvocation').map((c) => c.params.InstanceId)).toEqual([instanceId(3)]);
    expect(result.logLines).toContain('still switching');
  });

  it('fails naming the selector when no instance matches it', async () => {
    addInstances(2);
    const result = await deploy({ targets: 'tag:Role=db\ntag:Environment=production' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([
      'No instance matches the targets tag:Role=db AND tag:Environment=production: nothing was deployed.',
    ]);
    expect(result.outputs).toMatchObject({ status: 'Success', instances: '[]', 'succeeded-count': '0' });
  });
});

describe('ssm-deploy waits through what SSM does right after a send', () => {
  it('waits for the targets to resolve, and reads the output of an invocation GetCommandInvocation does not know yet', async () => {
    // Tag targets resolve 2 sandbox seconds after the send. Sandbox time stands still until the step's first look
    // (ListCommands, then ListCommandInvocations) has been answered, so that look finds none however slow the
    // machine; then it runs at real speed.
    sandbox.clock.setSpeed(1);
    addInstances(2, (n) => (n === 1 ? { status: 'Failed', durationSeconds: 1, stdout: 'it broke' } : { status: 'Success', durationSeconds: 1 }));
    sandbox.faults.add({ kind: 'throttle', service: 'ssm', operation: 'GetCommandInvocation', code: 'InvocationDoesNotExist', count: 2 });
    const result = await withClockHeld(sandbox, () => sandbox.calls.of('ListCommandInvocations').length > 0, () => deploy({ 'max-errors': '1' }));

    expect(result.logLines).toContain('Command Pending: waiting for the instances to be chosen');
    expect(result.exitCode).toBe(1);
    expect(result.logLines).toContain('it broke');
    expect(sandbox.calls.of('GetCommandInvocation').map((c) => c.errorCode ?? 'ok')).toEqual([
      'InvocationDoesNotExist',
      'InvocationDoesNotExist',
      'ok',
    ]);
  });

  it('rides out a throttling storm during the wait', async () => {
    addInstances(60);
    sandbox.faults.add({ kind: 'throttle', service: 'ssm', operation: 'ListCommandInvocations', rate: 0.4 });
    sandbox.faults.add({ kind: 'throttle', service: 'ssm', operation: 'ListCommands', rate: 0.4 });
    sandbox.faults.add({ kind: 'throttle', service: 'ssm', operation: 'SendCommand', count: 2 });
    const result = await deploy({}, { timeoutMs: 55_000 });

    expect(result.exitCode).toBe(0);
    expect(result.outputs['succeeded-count']).toBe('60');
    expect(sandbox.calls.all().filter((c) => c.errorCode === 'ThrottlingException').length).toBeGreaterThan(5);
    expect(sandbox.ssm.commands).toHaveLength(1);
  }, 60_000);
});

describe('ssm-deploy cancels the command when it stops waiting', () => {
  const long: OutcomeScript = { status: 'Success', durationSeconds: 100_000 };

  it('on SIGINT, sends CancelCommand before the process ends, and reports it', async () => {
    addInstances(3, () => long);
    const result = await deploy(
      { 'execution-timeout-seconds': '172800' },
      { signal: { afterLine: /instances succeeded, 0 failed, [1-9]\d* running/ } },
    );

    expect(result.signals.map((s) => s.name)).toEqual(['SIGINT']);
    expect(result.exitCode).toBe(1);
    const commandId = sandbox.ssm.commands[0].commandId;
    expect(sandbox.calls.of('CancelCommand').map((c) => c.params)).toEqual([{ CommandId: commandId }]);
    expect(errors(result)).toEqual([expect.stringContaining(`The run was cancelled; the command ${commandId} was cancelled (CancelCommand).`)]);
    sandbox.clock.advance(5_000);
    expect(sandbox.ssm.state(commandId).status).toBe('Cancelled');
    expect(result.outputs['command-id']).toBe(commandId);
    expect(result.outputs['console-url']).toBe(consoleUrl(commandId));
  });

  it('on timeout, sends CancelCommand and fails saying so', async () => {
    addInstances(2, () => long);
    const result = await deploy(
      { 'execution-timeout-seconds': '172800', 'timeout-minutes': '0.05' },
    );

    expect(result.exitCode).toBe(1);
    const commandId = sandbox.ssm.commands[0].commandId;
    expect(sandbox.calls.of('CancelCommand')).toHaveLength(1);
    expect(errors(result)).toEqual([
      `The command did not end within 3 seconds; the command ${commandId} was cancelled (CancelCommand). 0 of 2 instances had succeeded.`,
    ]);
    // Read after CancelCommand: an instance already Cancelled counts as failed, one still Cancelling as neither.
    const instances = instancesOf(result);
    expect(instances.map((i) => i.status).every((status) => ['Cancelling', 'Cancelled'].includes(status))).toBe(true);
    expect(result.outputs['failed-count']).toBe(String(instances.filter((i) => i.status === 'Cancelled').length));
    sandbox.clock.advance(5_000);
    expect(sandbox.ssm.state(commandId).status).toBe('Cancelled');
  });
});

describe('ssm-deploy manages its document', () => {
  const other = CONTENT.replace('Switches a NixOS instance', 'Someone else switched a NixOS instance');

  it.each<[string, () => void, string[], string]>([
    ['creates it when missing', () => undefined, ['DescribeDocument', 'CreateDocument', 'DescribeDocument'], '1'],
    ['leaves it when its default holds this content', () => sandbox.ssm.createDocument({ name: 'NixOS-Deploy', content: CONTENT }), ['DescribeDocument'], '1'],
    [
      'adds a version and makes it the default when the content differs',
      () => sandbox.ssm.createDocument({ name: 'NixOS-Deploy', content: other }),
      ['DescribeDocument', 'UpdateDocument', 'DescribeDocument', 'UpdateDocumentDefaultVersion'],
      '2',
    ],
    [
      'makes the latest version the default when it already holds this content',
      () => {
        sandbox.ssm.createDocument({ name: 'NixOS-Deploy', content: other });
        sandbox.ssm.documents.update({ Name: 'NixOS-Deploy', Content: CONTENT }, sandbox.clock.now());
      },
      ['DescribeDocument', 'DescribeDocument', 'UpdateDocumentDefaultVersion'],
      '2',
    ],
  ])('%s', async (_case, seed, documentCalls, version) => {
    seed();
    addInstances(1);
    const result = await deploy();
    expect(result.exitCode).toBe(0);
    expect(operations().filter((op) => op.includes('Document'))).toEqual(documentCalls);
    expect(sent()).toMatchObject({ DocumentVersion: version, DocumentHash: HASH });
    expect(sandbox.ssm.documents.find('NixOS-Deploy').defaultVersion).toBe(Number(version));
  });

  it('with manage-document: false, refuses a document that is not this content, before sending', async () => {
    sandbox.ssm.createDocument({ name: 'NixOS-Deploy', content: other });
    addInstances(1);
    const result = await deploy({ 'manage-document': 'false' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining('The default version (1) of the document NixOS-Deploy is not this action\'s document')]);
    expect(operations()).toEqual(['DescribeDocument']);
    expect(result.outputs).toEqual({});
    // A summary on every exit path once the inputs are valid: here, that nothing was sent, and why.
    expect(result.summary).toContain('<h2>NixOS deploy through Systems Manager failed</h2>');
    expect(result.summary).toContain('Nothing was sent: The default version (1) of the document NixOS-Deploy');
  });

  it('ships the document it sends, byte for byte', async () => {
    addInstances(1);
    await deploy({ 'document-name': 'Team-NixOS-Deploy' });
    const created = sandbox.calls.of('CreateDocument')[0].params;
    expect(created).toMatchObject({ Name: 'Team-NixOS-Deploy', Content: CONTENT, DocumentType: 'Command', DocumentFormat: 'JSON' });
  });
});

describe('ssm-deploy with a bad input', () => {
  const BAD: Array<[Record<string, string>, string]> = [
    [{ targets: '' }, 'targets'],
    [{ 'instance-ids': 'i-0123456789abcdef0' }, 'targets'],
    [{ targets: 'Role=web' }, 'targets'],
    [{ targets: Array.from({ length: 6 }, (_, i) => `tag:K${i}=v`).join('\n') }, 'targets'],
    [{ targets: '', 'instance-ids': 'i-123' }, 'instance-ids'],
    [{ 'store-path': '/nix/store/abc-system' }, 'store-path'],
    [{ 'store-path': `${STORE_PATH}'; reboot; '` }, 'store-path'],
    [{ action: 'rollback' }, 'action'],
    [{ substituters: "s3://cache?x='$(reboot)'" }, 'substituters'],
    [{ 'trusted-public-keys': 'cache-1:not-a-key' }, 'trusted-public-keys'],
    [{ 'health-check-units': 'nginx.service; reboot' }, 'health-check-units'],
    [{ 'health-check-url': 'http://169.254.169.254/latest/meta-data/' }, 'health-check-url'],
    [{ 'health-check-url': 'http://localhost/$(reboot)' }, 'health-check-url'],
    [{ 'health-check-timeout-seconds': '0' }, 'health-check-timeout-seconds'],
    [{ 'rollback-on-failure': 'maybe' }, 'rollback-on-failure'],
    [{ 'max-concurrency': '0' }, 'max-concurrency'],
    [{ 'max-errors': '101%' }, 'max-errors'],
    [{ 'execution-timeout-seconds': '172801' }, 'execution-timeout-seconds'],
    [{ 'delivery-timeout-seconds': '29' }, 'delivery-timeout-seconds'],
    [{ 'timeout-minutes': '0' }, 'timeout-minutes'],
    [{ 'poll-interval-seconds': '0' }, 'poll-interval-seconds'],
    [{ 'document-name': 'x' }, 'document-name'],
    [{ 'output-s3-bucket': 'Deploy_Logs' }, 'output-s3-bucket'],
    [{ 'aws-region': 'Frankfurt' }, 'aws-region'],
    [{ 'role-to-assume': 'arn:aws:iam::1:role/deploy' }, 'role-to-assume'],
  ];

  it.each(BAD)('%j fails naming %s, before any call', async (inputs, input) => {
    addInstances(1);
    const result = await deploy(inputs);
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining(`'${input}'`)]);
    expect(sandbox.calls.all()).toEqual([]);
  });

  it.each<[string, string]>([
    ['https://cache.example.org?trusted=1', 'trusted'],
    ['s3://cache?region=eu-central-1&secret-key=/etc/nix/key.sec', 'secret-key'],
    ['https://cache.example.org?require-sigs=false', 'require-sigs'],
    ['https://cache.example.org?want-mass-query=true', 'want-mass-query'],
    ['https://cache.example.org?%74rusted=1', 'trusted'],
  ])('substituters %s fails naming the store setting %s, before any call', async (substituters, setting) => {
    addInstances(1);
    const result = await deploy({ substituters });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining(`Input 'substituters' items must each be`)]);
    expect(errors(result)[0]).toContain(`(it sets "${setting}", which a deploy never sets)`);
    expect(sandbox.calls.all()).toEqual([]);
  });
});
