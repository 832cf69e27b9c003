/** The pure decisions of a deploy (plan.ts), as tables of cases. */
import type { Command, SendCommandCommandInput } from '@aws-sdk/client-ssm';
import { describe, expect, it } from '@jest/globals';
import { DOCUMENT, type DocumentParameterDefinition } from './document.js';
import {
  commandComment,
  countInstances,
  decideOutcome,
  describeInstance,
  describeState,
  describeTargets,
  documentParameterProblems,
  explainSendFailure,
  instancesWithOutput,
  isFinished,
  isSameCommand,
  MAX_COMMENT,
  normaliseDetails,
  parameterProblem,
  planDocument,
  refusedInstances,
  runContext,
  statusText,
  stepOutputs,
  targetsText,
  type CommandState,
  type DocumentPlan,
  type Ending,
  type FoundDocument,
  type InstanceResult,
} from './plan.js';

let n = 0;
const instance = (status: string, statusDetails = status, responseCode = -1): InstanceResult => ({
  instanceId: `i-${String(++n).padStart(17, '0')}`,
  status,
  statusDetails,
  responseCode,
});
const state = (status: string, statusDetails: string, instances: InstanceResult[]): CommandState => ({
  commandId: '11111111-2222-3333-4444-555555555555',
  status,
  statusDetails,
  instances,
});
const done = (command: CommandState): Ending => ({ kind: 'done', state: command });


describe('command state', () => {
  it.each([
    ['Execution Timed Out', 'ExecutionTimedOut'],
    ['DeliveryTimedOut', 'DeliveryTimedOut'],
    [undefined, ''],
  ])('normalises the details %j to %j', (details, expected) => {
    expect(normaliseDetails(details)).toBe(expected);
  });

  it.each([
    ['Pending', false],
    ['InProgress', false],
    ['Cancelling', false],
    ['Success', true],
    ['Failed', true],
    ['TimedOut', true],
    ['Cancelled', true],
  ])('a command %s has ended: %s', (status, finished) => {
    expect(isFinished(state(status, status, []))).toBe(finished);
  });

  it('counts instances by how they stand', () => {
    const instances = [
      instance('Success'),
      instance('Failed'),
      instance('TimedOut', 'DeliveryTimedOut'),
      instance('Cancelled', 'Terminated'),
      instance('Failed', 'Undeliverable'),
      instance('InProgress'),
      instance('Delayed'),
      instance('Cancelling'),
      instance('Pending'),
    ];
    expect(countInstances(instances)).toEqual({ total: 9, succeeded: 1, failed: 4, running: 3, pending: 1 });
  });

  it.each<[string, CommandState, string]>([
    ['before the targets resolve', state('Pending', 'Pending', []), 'Command Pending: waiting for the instances to be chosen'],
    ['no instance in the tag', state('Success', 'NoInstancesInTag', []), 'Command Success (NoInstancesInTag)'],
    [
      'counts while running',
      state('InProgress', 'InProgress', [instance('Success'), instance('Failed'), instance('InProgress'), instance('Pending')]),
      'Command InProgress: 1 of 4 instances succeeded, 1 failed, 1 running, 1 pending',
    ],
  ])('describes %s', (_case, command, line) => {
    expect(describeState(command)).toBe(line);
  });
});


describe('statusText', () => {
  it.each<[string, string, string]>([
    ['Success', 'Success', 'Success'],
    ['Success', '', 'Success'],
    ['Success', 'Incomplete', 'Success (Incomplete)'],
    ['TimedOut', 'DeliveryTimedOut', 'TimedOut (DeliveryTimedOut)'],
    ['Failed', 'Undeliverable, exit 1', 'Failed (Undeliverable, exit 1)'],
  ])('%s with %j reads %j', (status, details, text) => {
    expect(statusText(status, details)).toBe(text);
  });
});

describe('instancesWithOutput', () => {
  it('keeps the failed instances on which the script started, not the undelivered or the succeeded', () => {
    const ran = { ...instance('Failed', 'Failed', 2), startedAt: new Date(0) };
    const killed = { ...instance('TimedOut', 'ExecutionTimedOut'), startedAt: new Date(0) };
    const exited = instance('Failed', 'Failed', 1);
    const undelivered = instance('TimedOut', 'DeliveryTimedOut');
    const ok = { ...instance('Success', 'Success', 0), startedAt: new Date(0) };
    expect(instancesWithOutput([ran, killed, exited, undelivered, ok])).toEqual([ran, killed, exited]);
  });
});

describe('targetsText', () => {
  it.each<[string, Parameters<typeof targetsText>[0], string]>([
    ['instance IDs', { instanceIds: ['i-0123456789abcdef0', 'i-00000000000000001'], targets: [] }, 'i-0123456789abcdef0, i-00000000000000001'],
    ['tag selectors', { instanceIds: [], targets: [{ Key: 'tag:Role', Values: ['web'] }] }, 'tag:Role=web'],
  ])('%s', (_case, inputs, text) => {
    expect(targetsText(inputs)).toBe(text);
  });
});

const OURS = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);
const found = (defaultHash: string, latestHash?: string, latestVersion = latestHash ? '3' : '2'): FoundDocument => ({
  defaultVersion: '2',
  defaultHash,
  latestVersion,
  latestHash,
});

describe('planDocument', () => {
  const SHARED = 'arn:aws:ssm:eu-west-1:111122223333:document/NixOS-Deploy';
  const refused = { kind: 'refuse', message: expect.any(String) };

  it.each<[string, string, FoundDocument | undefined, boolean, DocumentPlan | typeof refused]>([
    ['a missing document is created', 'NixOS-Deploy', undefined, true, { kind: 'create' }],
    ['a default holding this content is used', 'NixOS-Deploy', found(OURS), true, { kind: 'use', version: '2' }],
    ['... also when not managed', 'NixOS-Deploy', found(OURS), false, { kind: 'use', version: '2' }],
    ['a latest version holding it becomes the default', 'NixOS-Deploy', found(OTHER, OURS), true, { kind: 'set-default', version: '3' }],
    ['other content gets a new version', 'NixOS-Deploy', found(OTHER), true, { kind: 'update' }],
    ['... also when the latest is other content too', 'NixOS-Deploy', found(OTHER, OTHER), true, { kind: 'update' }],
    ['a missing document is refused when not managed', 'NixOS-Deploy', undefined, false, refused],
    ['other content is refused when not managed', 'NixOS-Deploy', found(OTHER, OURS), false, refused],
    ['a shared document is never changed', SHARED, found(OTHER), true, refused],
    ['a shared document with this content is used', SHARED, found(OURS), true, { kind: 'use', version: '2' }],
  ])('%s', (_case, name, document, manage, expected) => {
    expect(planDocument(name, document, OURS, manage)).toEqual(expected);
  });

  it.each<[string, string, FoundDocument | undefined, string]>([
    ['missing', 'NixOS-Deploy', undefined, "The document NixOS-Deploy does not exist. Set 'manage-document: true'"],
    ['changed', 'NixOS-Deploy', found(OTHER), `The default version (2) of the document NixOS-Deploy is not this action's document (SHA-256 ${OTHER}, expected ${OURS})`],
    ['shared', 'arn:aws:ssm:eu-west-1:111122223333:document/X', found(OTHER), 'A shared document cannot be changed from this account'],
  ])('explains a refusal: %s', (_case, name, document, message) => {
    expect(planDocument(name, document, OURS, false)).toEqual({ kind: 'refuse', message: expect.stringContaining(message) });
  });
});

const string = (extra: Partial<DocumentParameterDefinition>): DocumentParameterDefinition => ({
  type: 'String',
  description: '',
  interpolationType: 'ENV_VAR',
  ...extra,
});
const { healthCheckUrl, healthCheckUnits, action } = DOCUMENT.parameters;
const URL_2048 = `http://localhost/${'a'.repeat(2048 - 17)}`;

describe('parameterProblem', () => {
  it.each<[string, DocumentParameterDefinition, string[], string | undefined]>([
    ['a value of maxChars characters', string({ maxChars: 3 }), ['abc'], undefined],
    ['one past maxChars', string({ maxChars: 3 }), ['abcd'], "must be at most 3 characters (the document's maxChars), got 4"],
    ['maxChars in UTF-16 units, as Java counts', string({ maxChars: 3 }), ['a😀'], undefined],
    ['an astral character past maxChars', string({ maxChars: 2 }), ['a😀'], 'got 3'],
    ['a value the pattern takes', string({ allowedPattern: '^[a-z]+$' }), ['abc'], undefined],
    ['a value the pattern refuses', string({ allowedPattern: '^[a-z]+$' }), ['ab1'], "must match the document's allowedPattern ^[a-z]+$"],
    ['the pattern as written, without anchors added', string({ allowedPattern: '[0-9]' }), ['a1b'], undefined],
    ['an allowed value', string({ allowedValues: ['true', 'false'] }), ['false'], undefined],
    ['a value not allowed', string({ allowedValues: ['true', 'false'] }), ['yes'], 'must be one of true, false'],
    ['two values for a String', string({}), ['a', 'b'], 'takes one value, got 2'],
    ['each item of a StringList held to maxChars', { ...string({ maxChars: 2 }), type: 'StringList' as 'String' }, ['ab', 'abc'], 'got 3'],
    ['the shipped URL at its maxChars', healthCheckUrl, [URL_2048], undefined],
    ['the shipped URL one past its maxChars (its pattern takes it)', healthCheckUrl, [`${URL_2048}a`], "must be at most 2048 characters (the document's maxChars), got 2049"],
    ['a shipped unit list one past its maxChars', healthCheckUnits, [`${'u'.repeat(240)}.service `.repeat(17).trim()], 'must be at most 4096 characters'],
    ['an action the shipped document does not know', action, ['rollback'], 'must be one of switch, boot, reboot, dry-activate'],
  ])('%s', (_case, definition, values, problem) => {
    if (problem === undefined) expect(parameterProblem(definition, values)).toBeUndefined();
    else expect(parameterProblem(definition, values)).toContain(problem);
  });
});

describe('documentParameterProblems', () => {
  const definitions = { url: string({ maxChars: 5 }), units: string({ maxChars: 5 }) };
  const inputOf = { url: 'health-check-url', units: 'health-check-units' };
  const joined = new Set(['health-check-units']);

  it.each<[string, Partial<Record<'url' | 'units', string[]>>, Array<{ input: string; message: string }>]>([
    ['nothing for values within the limits', { url: ['abcde'], units: ['a b c'] }, []],
    ['nothing for parameters left to their defaults', {}, []],
    [
      'the input of a value past the limits, and how a list was joined',
      { url: ['abcdef'], units: ['a b c d'] },
      [
        { input: 'health-check-url', message: "Input 'health-check-url' (the document's url) must be at most 5 characters (the document's maxChars), got 6" },
        { input: 'health-check-units', message: "Input 'health-check-units', its items joined by spaces as the document's units, must be at most 5 characters (the document's maxChars), got 7" },
      ],
    ],
  ])('%s', (_case, parameters, problems) => {
    expect(documentParameterProblems(definitions, parameters, inputOf, joined)).toEqual(problems);
  });
});

describe('command request', () => {
  it.each<[string, Record<string, string>, string]>([
    ['a run', { GITHUB_REPOSITORY: 'octo-org/octo-repo', GITHUB_SHA: 'a1b2c3d4e5f6', GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '2' }, 'octo-org/octo-repo@a1b2c3d run 42/2'],
    ['outside a runner', {}, 'nixos-aws'],
  ])('comments %s', (_case, env, comment) => {
    expect(commandComment(runContext(env))).toBe(comment);
  });

  it('cuts a long comment to what SendCommand takes', () => {
    const comment = commandComment(runContext({ GITHUB_REPOSITORY: `org/${'r'.repeat(120)}`, GITHUB_RUN_ID: '1' }));
    expect(comment).toHaveLength(MAX_COMMENT);
    expect(comment.endsWith('...')).toBe(true);
  });

  it('describes tag targets as selectors ANDed', () => {
    expect(describeTargets([{ Key: 'tag:Role', Values: ['web', 'api'] }, { Key: 'tag:Env', Values: ['prod'] }])).toBe(
      'tag:Role=web,api AND tag:Env=prod',
    );
  });
});

const request: SendCommandCommandInput = {
  DocumentName: 'NixOS-Deploy',
  Targets: [{ Key: 'tag:Role', Values: ['web'] }],
  Parameters: { storePath: ['/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web'], action: ['switch'] },
  Comment: 'octo-org/octo-repo@a1b2c3d run 4242424242/1',
};
/** As ListCommands describes the command `request` created: no instance IDs for a tag target. */
const created: Command = { CommandId: 'c-1', DocumentName: 'NixOS-Deploy', InstanceIds: [], Targets: request.Targets, Parameters: request.Parameters, Comment: request.Comment };

describe('isSameCommand', () => {
  it.each<[string, Command, boolean]>([
    ['the command the request created', created, true],
    ['another run (comment)', { ...created, Comment: 'octo-org/octo-repo@a1b2c3d run 4242424242/2' }, false],
    ['another store path', { ...created, Parameters: { ...request.Parameters, storePath: ['/nix/store/x'] } }, false],
    ['other targets', { ...created, Targets: [{ Key: 'tag:Role', Values: ['db'] }] }, false],
    ['instance IDs instead of targets', { ...created, Targets: [], InstanceIds: ['i-00000000000000001'] }, false],
    ['another document', { ...created, DocumentName: 'AWS-RunShellScript' }, false],
  ])('%s: %p', (_case, command, same) => {
    expect(isSameCommand(command, request)).toBe(same);
  });
});

/** An SDK service error as SendCommand throws it. */
const awsError = (name: string, message: string) =>
  Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });

describe('refusedInstances', () => {
  it.each<[string, string, string[]]>([
    ['one instance', 'Instances [[i-00000000000000002]] not in a valid state for account 123456789012', ['i-00000000000000002']],
    ['several, as AWS lists them', 'Instances [[i-0abcdef12, i-0123456789abcdef0]] not in a valid state for account 1', ['i-0abcdef12', 'i-0123456789abcdef0']],
    ['a message naming none', 'The instance is not valid.', []],
    ['text that only looks like a list', 'Instances [[mi-xyz, $(reboot)]] not in a valid state', []],
  ])('%s', (_case, message, ids) => {
    expect(refusedInstances(message)).toEqual(ids);
  });
});

describe('explainSendFailure', () => {
  it.each<[string, unknown, string[], string[]]>([
    [
      'InvalidInstanceId naming one instance',
      awsError('InvalidInstanceId', 'Instances [[i-00000000000000002]] not in a valid state for account 123456789012'),
      [
        'SendCommand refused the command (InvalidInstanceId: Instances [[i-00000000000000002]] not in a valid state for account 123456789012).',
        'Instance i-00000000000000002 is not an online SSM managed node in eu-central-1',
        'SSM Agent is stopped',
        'AmazonSSMManagedInstanceCore',
        'another region or account',
        'Nothing was sent to any instance.',
      ],
      [],
    ],
    [
      'InvalidInstanceId naming two',
      awsError('InvalidInstanceId', 'Instances [[i-0abcdef12, i-0abcdef34]] not in a valid state for account 1'),
      ['Instances i-0abcdef12, i-0abcdef34 are not online SSM managed nodes in eu-central-1'],
      [],
    ],
    ['InvalidInstanceId naming none', awsError('InvalidInstanceId', ''), ['An instance in instance-ids is not', 'Nothing was sent'], []],
    [
      'any other error is passed on, with no claim about what was sent',
      Object.assign(new Error('no answer within 15 s'), { name: 'TimeoutError' }),
      ['SendCommand failed: no answer within 15 s'],
      ['Nothing was sent'],
    ],
  ])('%s', (_case, error, contains, lacks) => {
    const message = explainSendFailure(error, 'eu-central-1');
    for (const text of contains) expect(message).toContain(text);
    for (const text of lacks) expect(message).not.toContain(text);
  });

  it.each([
    ['the run was cancelled', new Error('The run was cancelled (SIGINT)')],
    ['the attempts ran out', Object.assign(new Error('no answer within 15 s'), { name: 'TimeoutError' })],
  ])('an unanswered send no look found (%s) says a command may be running, and where to look', (_case, error) => {
    const message = explainSendFailure(error, 'eu-central-1', true);
    expect(message).toContain(`SendCommand failed: ${error.message}; `);
    expect(message).toContain(
      'a command may be running: look in https://eu-central-1.console.aws.amazon.com/systems-manager/run-command/executing-commands?region=eu-central-1',
    );
    expect(message).not.toContain('Nothing was sent');
  });
});

describe('decideOutcome', () => {
  it.each<[string, Ending, boolean, string]>([
    ['every instance succeeded', done(state('Success', 'Success', [instance('Success', 'Success', 0), instance('Success', 'Success', 0)])), true, 'Deployed to 2 instances.'],
    ['no instance matched', done(state('Success', 'NoInstancesInTag', [])), false, 'No instance matches the targets tag:Role=web: nothing was deployed.'],
    ['one rolled back within max-errors', done(state('Success', 'Incomplete', [instance('Success'), instance('Failed', 'Failed', 2)])), false, 'The command ended Success (Incomplete); 1 of 2 instances did not deploy'],
    ['MaxErrors exceeded', done(state('Failed', 'Failed', [instance('Failed', 'Failed', 1), instance('Cancelled', 'Terminated')])), false, 'Cancelled (Terminated)'],
    ['only undeliverable instances', done(state('Failed', 'Failed', [instance('Failed', 'Undeliverable')])), false, 'Failed (Undeliverable)'],
    ['delivery timed out', done(state('TimedOut', 'DeliveryTimedOut', [instance('TimedOut', 'DeliveryTimedOut')])), false, 'The command ended TimedOut (DeliveryTimedOut)'],
    ['a success status without instances', done(state('Success', 'Success', [])), false, 'no instance ran it'],
    [
      'the wait timed out',
      { kind: 'timeout', timeoutMinutes: 5, cancel: { sent: true }, state: state('InProgress', 'InProgress', [instance('Success'), instance('InProgress')]) },
      false,
      'The command did not end within 5 minutes; the command 11111111-2222-3333-4444-555555555555 was cancelled (CancelCommand). 1 of 2 instances had succeeded.',
    ],
    ['the run was cancelled', { kind: 'aborted', cancel: { sent: false, error: 'AccessDeniedException: no' } }, false, 'The run was cancelled; cancelling the command failed: AccessDeniedException: no.'],
    [
      'the wait lost sight of the command',
      { kind: 'failed', error: 'Gave up after 6 failed checks in a row: InternalFailure', cancel: { sent: true }, state: state('InProgress', 'InProgress', [instance('InProgress')]) },
      false,
      'Stopped waiting for the command (Gave up after 6 failed checks in a row: InternalFailure); the command 11111111-2222-3333-4444-555555555555 was cancelled (CancelCommand). 0 of 1 instances had succeeded.',
    ],
  ])('%s', (_case, ending, ok, message) => {
    const outcome = decideOutcome(ending, 'tag:Role=web');
    expect(outcome.ok).toBe(ok);
    expect(outcome.message).toContain(message);
  });

  it.each<[Ending['kind'], Ending, string]>([
    ['done', done(state('Success', 'Success', [instance('Success', 'Success', 0)])), 'deployed'],
    ['done', done(state('Failed', 'Failed', [instance('Failed', 'Failed', 1)])), 'failed'],
    ['timeout', { kind: 'timeout', timeoutMinutes: 1, cancel: { sent: true } }, 'timed out'],
    ['aborted', { kind: 'aborted', cancel: { sent: true } }, 'cancelled'],
    ['failed', { kind: 'failed', error: 'x', cancel: { sent: true } }, 'failed'],
  ])('a wait that ended %s is %j', (_kind, ending, result) => {
    expect(decideOutcome(ending, 'x').result).toBe(result);
  });

  it('names at most ten failing instances in its message', () => {
    const failed = Array.from({ length: 12 }, () => instance('Failed', 'Failed', 1));
    const { message } = decideOutcome(done(state('Failed', 'Failed', failed)), 'x');
    expect(message.match(/i-\d{17}/g)).toHaveLength(10);
    expect(message).toContain('and 2 more (see the job summary)');
  });
});

describe('describeInstance', () => {
  it.each<[InstanceResult, string]>([
    [{ instanceId: 'i-1', status: 'Failed', statusDetails: 'Failed', responseCode: 2 }, 'i-1 Failed (exit 2: rolled back to the previous generation)'],
    [{ instanceId: 'i-1', status: 'Failed', statusDetails: 'Failed', responseCode: 3 }, 'i-1 Failed (exit 3: not rolled back)'],
    [{ instanceId: 'i-1', status: 'TimedOut', statusDetails: 'ExecutionTimedOut', responseCode: 137 }, 'i-1 TimedOut (ExecutionTimedOut, exit 137)'],
    [{ instanceId: 'i-1', status: 'Failed', statusDetails: 'Undeliverable', responseCode: -1 }, 'i-1 Failed (Undeliverable)'],
    [{ instanceId: 'i-1', status: 'Success', statusDetails: 'Success', responseCode: 0 }, 'i-1 Success'],
  ])('%j reads %s', (result, text) => {
    expect(describeInstance(result)).toBe(text);
  });
});

it('outputs the four fields of each instance, and counts as failed what ended without success (not what still runs)', () => {
  const instances = [instance('Success', 'Success', 0), instance('Failed', 'Failed', 2), instance('InProgress')];
  instances[0].startedAt = new Date();
  expect(stepOutputs('c', 'https://console/c', 'TimedOut', state('TimedOut', 'TimedOut', instances))).toEqual({
    'command-id': 'c',
    'console-url': 'https://console/c',
    status: 'TimedOut',
    instances: instances.map(({ instanceId, status, statusDetails, responseCode }) => ({ instanceId, status, statusDetails, responseCode })),
    'succeeded-count': 1,
    'failed-count': 1,
  });
});
