/**
 * The sweep: each input that feeds an AWS API member, at the edges of what it accepts, sent through the built
 * bundle to the sandbox, which validates every request against botocore's models. Accepted edges must reach AWS
 * and be accepted there (the action is never looser than the API); the form just past each edge must be refused
 * by the action with no call at all, and by the model as well (the action is not stricter than the API without
 * a stated reason: where it is, the case says why).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { readInputs as assumeRoleInputs } from '../assume-role/inputs.js';
import { readInputs as buildAndPushInputs } from '../build-and-push/inputs.js';
import { readInputs as instanceRefreshInputs } from '../instance-refresh/inputs.js';
import { readInputs as ssmDeployInputs } from '../ssm-deploy/inputs.js';
import { readInputs as uploadAmiInputs } from '../upload-ami/inputs.js';
import type { ModeledService } from '../sandbox/models/models.js';
import { validateRequest } from '../sandbox/models/validate.js';
import { Sandbox } from '../sandbox/server.js';
import { githubTrustPolicy } from '../sandbox/services/sts/sts.js';
import { inputErrorOf } from '../shared/fixtures/input-error.js';
import { STORE_PATH } from './actions.js';
import { REPO_ROOT, runAction, type StepResult } from './harness/runner.js';

/** The answers of the model validator: a call that got one was looser than the API. */
const MODEL_REFUSALS = new Set([
  'ValidationError',
  'ValidationException',
  'SerializationException',
  'UnknownParameter',
  'MissingParameter',
  'MalformedInput',
  'InvalidParameterValue',
]);

const sandbox = new Sandbox({ speed: 600 });
beforeAll(() => sandbox.start());
afterAll(() => sandbox.stop());
beforeEach(() => sandbox.reset());

const errors = (result: StepResult) => result.annotations.filter((a) => a.level === 'error').map((a) => a.message);
const refusedByModel = () => sandbox.calls.all().filter((call) => MODEL_REFUSALS.has(call.errorCode ?? ''));

/** A policy whose minified form (what is sent) has exactly `length` characters, indented as a workflow might. */
function prettyPolicyOfLength(length: number, filler = 'x'): string {
  const document = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:*', Resource: '*', Sid: '' }] };
  document.Statement[0].Sid = filler.repeat(length - JSON.stringify(document).length);
  return JSON.stringify(document, null, 2);
}
const SESSION_NAME_64 = 'Aa0_+=,.@-'.repeat(7).slice(0, 64);
const LONG_GROUP = 'g'.repeat(255);
const LONG_TEMPLATE = 'T'.repeat(128);
const EMOJI_GROUP = `Größe-${'😀'.repeat(124)}`;
/** The NixOS-Deploy document's maxChars: 2048 for the URL, 4096 for each space-joined list. */
const urlOf = (length: number) => `http://localhost/${'a'.repeat(length - 17)}`;
const UNIT_240 = `${'u'.repeat(240)}.service`;
/** 16 units of 248 characters and one of 112: 4096 characters once joined by spaces. */
const UNITS_4096 = [...Array<string>(16).fill(UNIT_240), `${'u'.repeat(104)}.service`].join('\n');
const PUBLIC_KEY = `cache-1:${'A'.repeat(43)}=`;
/** 20 characters, the most SendCommand's OutputS3Region takes. */
const REGION_20 = 'abcd-efghijklmnopq-1';
/** upload-ami's fixture disk, a raw file outside the Nix store (so `image-name` is required), as `image` names it. */
const AMI_DISK = { image: `${REPO_ROOT}/upload-ami/fixtures/image/disk.raw`, 'boot-mode': 'uefi', architecture: 'x86_64', 'image-name': 'nixos-sweep' };

describe('assume-role: accepted edges reach STS and are accepted', () => {
  let roleArn: string;
  beforeEach(() => {
    roleArn = sandbox.sts.addRole({
      name: 'deploy',
      maxSessionDuration: 43200,
      trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/octo-repo:environment:production' }),
    });
    sandbox.oidc.setClaims({ environment: 'production' });
  });
  const assume = (inputs: Record<string, string>) =>
    runAction('assume-role', {
      env: { ...sandbox.env(), AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
      inputs: { 'role-to-assume': roleArn, ...inputs },
    });

  it.each<[string, Record<string, string>]>([
    [
      'a pretty-printed policy of 2048 characters as sent (more before minifying), a 64-character session name, 12 hours',
      { 'inline-session-policy': prettyPolicyOfLength(2048), 'role-session-name': SESSION_NAME_64, 'role-duration-seconds': '43200' },
    ],
    [
      'a policy of Latin-1 characters, a 2-character session name, 15 minutes, ten managed policies',
      {
        'inline-session-policy': prettyPolicyOfLength(300, 'ÿé'),
        'role-session-name': 'ab',
        'role-duration-seconds': '900',
        'managed-session-policies': Array.from({ length: 10 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`).join('\n'),
      },
    ],
  ])('%s', async (_case, inputs) => {
    const result = await assume(inputs);
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(refusedByModel()).toEqual([]);
    const [call] = sandbox.calls.of('AssumeRoleWithWebIdentity');
    expect(call.status).toBe(200);
    if (inputs['inline-session-policy']) {
      expect(call.params.Policy).toBe(JSON.stringify(JSON.parse(inputs['inline-session-policy'])));
    }
  });
});

describe('assume-role: the session policy reaches STS as written', () => {
  it('less only the whitespace between tokens: spaces and escaped quotes in strings, 1e999 and an integer past 2^53 kept', async () => {
    const roleArn = sandbox.sts.addRole({
      name: 'deploy',
      trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/octo-repo:environment:production' }),
    });
    sandbox.oidc.setClaims({ environment: 'production' });
    const written = [
      '{',
      '  "Version": "2012-10-17",',
      '  "Statement": [',
      '    { "Effect": "Deny", "Action": "s3:*", "Resource": "*",',
      '      "Condition": { "StringEquals": { "aws:PrincipalTag/team": "say \\"hi\\"  twice" },',
      '                     "NumericGreaterThan": { "s3:max-keys": 1e999, "s3:object-lock-remaining-retention-days": 12345678901234567890 } } }',
      '  ]',
      '}',
    ].join('\n');
    const result = await runAction('assume-role', {
      env: { ...sandbox.env(), AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
      inputs: { 'role-to-assume': roleArn, 'inline-session-policy': written },
    });
    expect(errors(result)).toEqual([]);
    const [call] = sandbox.calls.of('AssumeRoleWithWebIdentity');
    expect(call.status).toBe(200);
    expect(call.params.Policy).toBe(
      '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*",' +
        '"Condition":{"StringEquals":{"aws:PrincipalTag/team":"say \\"hi\\"  twice"},"NumericGreaterThan":{"s3:max-keys":1e999,"s3:object-lock-remaining-retention-days":12345678901234567890}}}]}',
    );
  });
});

describe('ssm-deploy: accepted edges reach Systems Manager and are accepted', () => {
  const CONTENT = readFileSync(`${REPO_ROOT}/ssm-deploy/nixos-deploy.json`, 'utf8');
  const deploy = (inputs: Record<string, string>) =>
    runAction('ssm-deploy', { env: sandbox.env(), inputs: { 'store-path': STORE_PATH, 'poll-interval-seconds': '1', ...inputs } });

  it.each<[string, Record<string, string>, Record<string, string>]>([
    [
      'a managed document of 128 characters, 0% errors, 7-digit concurrency, a tag key of any script with a space and @',
      { 'document-name': 'D'.repeat(128), 'max-errors': '0%', 'max-concurrency': '9999999', targets: 'tag:Équipe web@2=a b', 'delivery-timeout-seconds': '2592000' },
      { 'Équipe web@2': 'a b' },
    ],
    [
      'a shared document by ARN (not managed), 100% errors, 100% concurrency, 30 s delivery',
      {
        'manage-document': 'false',
        'document-name': 'arn:aws:ssm:us-east-1:123456789012:document/Shared.NixOS_Deploy-1',
        'max-errors': '100%',
        'max-concurrency': '100%',
        targets: 'tag:Role=web',
        'delivery-timeout-seconds': '30',
      },
      { Role: 'web' },
    ],
    ['a 7-digit error count, a 1-digit percentage of concurrency', { 'max-errors': '9999999', 'max-concurrency': '1%', targets: 'tag:Role=web' }, { Role: 'web' }],
    [
      "a health-check URL and units at the document's maxChars, a region of 20 characters with S3 output",
      { 'health-check-url': urlOf(2048), 'health-check-units': UNITS_4096, 'aws-region': REGION_20, 'output-s3-bucket': 'abc', targets: 'tag:Role=web' },
      { Role: 'web' },
    ],
  ])('%s', async (_case, inputs, tags) => {
    sandbox.ssm.createDocument({ name: 'Shared.NixOS_Deploy-1', content: CONTENT });
    sandbox.ssm.addInstance({ instanceId: 'i-0123456789abcdef0', tags });
    const result = await deploy(inputs);
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(refusedByModel()).toEqual([]);
    expect(sandbox.calls.of('SendCommand')[0].status).toBe(200);
  });
});

describe('ssm-deploy association mode: accepted edges reach State Manager and are accepted', () => {
  it.each<[string, Record<string, string>]>([
    ['an association name of 128 characters, a rate of 30 minutes, 100% errors, 1% concurrency', { 'association-name': 'a'.repeat(128), schedule: 'rate(30 minutes)', 'max-errors': '100%', 'max-concurrency': '1%' }],
    ['the shortest association name, a weekly cron, 7-digit rates', { 'association-name': 'a-b', schedule: 'cron(0 2 ? * SUN *)', 'max-errors': '9999999', 'max-concurrency': '9999999' }],
    ['a rate of 30 days, an S3 bucket for the output', { 'association-name': 'nixos.web_1', schedule: 'rate(30 days)', 'output-s3-bucket': 'abc' }],
  ])('%s', async (_case, inputs) => {
    sandbox.ssm.addInstance({ instanceId: 'i-0123456789abcdef0', tags: { Role: 'web' } });
    const result = await runAction('ssm-deploy', {
      env: sandbox.env(),
      inputs: { mode: 'association', targets: 'tag:Role=web', 'store-path': STORE_PATH, 'poll-interval-seconds': '1', ...inputs },
    });
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(refusedByModel()).toEqual([]);
    expect(sandbox.calls.of('CreateAssociation')[0].status).toBe(200);
  });
});

describe('instance-refresh: accepted edges reach Auto Scaling and EC2 and are accepted', () => {
  it.each<[string, string, Record<string, string>]>([
    [
      'a group name of 255 characters, a template name of 128, ten alarms of 255, the widest preferences',
      LONG_GROUP,
      {
        'launch-template': LONG_TEMPLATE,
        alarms: Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(255, 'a')).join('\n'),
        'min-healthy-percentage': '100',
        'max-healthy-percentage': '200',
        'checkpoint-percentages': '1,100',
        'checkpoint-delay': '172800',
        'bake-time': '172800',
        'instance-warmup': '0',
        'scale-in-protected-instances': 'Refresh',
        'standby-instances': 'Terminate',
        wait: 'false',
      },
    ],
    ['a group name of any script with emoji (254 UTF-16 units), no healthy maximum', EMOJI_GROUP, { 'min-healthy-percentage': '0', wait: 'false' }],
  ])('%s', async (_case, group, inputs) => {
    const template = sandbox.ec2.createLaunchTemplate({ name: LONG_TEMPLATE, data: { ImageId: 'ami-0123456789abcdef0', MetadataOptions: { HttpTokens: 'required', InstanceMetadataTags: 'enabled' } } });
    sandbox.autoscaling.createGroup({ name: group, launchTemplate: { id: template.id, version: '1' }, desiredCapacity: 2 });
    const result = await runAction('instance-refresh', {
      env: sandbox.env(),
      inputs: { 'auto-scaling-group-name': group, 'store-path': STORE_PATH, 'poll-interval-seconds': '1', ...inputs },
    });
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(refusedByModel()).toEqual([]);
    expect(sandbox.calls.of('StartInstanceRefresh')[0].status).toBe(200);
  });
});

describe('upload-ami: accepted edges reach EBS and EC2 and are accepted', () => {
  it('a 128-character image name, a 255-character description, a 127-character tag key and a 255-character value, 47 tags, gp2, ten years', async () => {
    const tags = [`${'k'.repeat(127)}=${'v'.repeat(255)}`, ...Array.from({ length: 46 }, (_, i) => `k${i}=v`)].join('\n');
    const result = await runAction('upload-ami', {
      env: sandbox.env(),
      inputs: { ...AMI_DISK, 'image-name': 'n'.repeat(128), description: 'd'.repeat(255), tags, 'volume-type': 'gp2', 'deprecate-after-days': '3650' },
    });
    expect(errors(result)).toEqual([]);
    expect(refusedByModel()).toEqual([]);
    expect(sandbox.calls.of('StartSnapshot')[0].params.Tags).toHaveLength(48);
    expect(sandbox.calls.of('RegisterImage')).toHaveLength(1);
    // With ImageFile and GitHubRunId.
    expect([...sandbox.images.images.values()][0].tags.size).toBe(49);
    expect(sandbox.calls.of('EnableImageDeprecation')).toHaveLength(1);
  });
});

describe('refused forms fail the step before any call', () => {
  it.each<[string, string, Record<string, string>, string]>([
    ['assume-role', 'a policy with ☃ (STS takes Latin-1 only)', { 'inline-session-policy': '{"Statement":[{"Sid":"☃"}]}' }, "Input 'inline-session-policy'"],
    ['assume-role', 'a policy of 2049 characters as sent', { 'inline-session-policy': prettyPolicyOfLength(2049) }, 'got 2049'],
    [
      'assume-role',
      'a policy naming Statement twice (a parser would keep the Allow, drop the Deny)',
      { 'inline-session-policy': '{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}],\n "Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}' },
      'names the key "Statement" twice',
    ],
    ['assume-role', 'a policy repeating a condition key', { 'inline-session-policy': '{"Statement":[{"Condition":{"StringEquals":{"aws:username":"a","aws:username":"b"}}}]}' }, 'names the key "aws:username" twice'],
    ['assume-role', 'a session name of 65 characters', { 'role-session-name': `${SESSION_NAME_64}x` }, "Input 'role-session-name'"],
    ['ssm-deploy', 'max-errors: 05%', { targets: 'tag:Role=web', 'max-errors': '05%' }, "Input 'max-errors'"],
    ['ssm-deploy', 'max-concurrency: 0%', { targets: 'tag:Role=web', 'max-concurrency': '0%' }, "Input 'max-concurrency'"],
    ['ssm-deploy', 'document-name: team/NixOS-Deploy, managed', { targets: 'tag:Role=web', 'document-name': 'team/NixOS-Deploy' }, "Input 'document-name'"],
    ['ssm-deploy', 'a target key SendCommand refuses', { targets: 'tag:Role!=web' }, "Input 'targets'"],
    ['ssm-deploy', 'an association name with a slash', { mode: 'association', targets: 'tag:Role=web', 'association-name': 'team/web' }, "Input 'association-name'"],
    ['ssm-deploy', 'a schedule of 29 minutes', { mode: 'association', targets: 'tag:Role=web', 'association-name': 'nixos-web', schedule: 'rate(29 minutes)' }, "Input 'schedule'"],
    ['ssm-deploy', 'instance IDs in association mode', { mode: 'association', 'instance-ids': 'i-0123456789abcdef0', 'association-name': 'nixos-web' }, "Input 'instance-ids'"],
    ['ssm-deploy', "a health-check URL of 2100 characters (the document's maxChars is 2048)", { targets: 'tag:Role=web', 'health-check-url': urlOf(2100) }, "Input 'health-check-url'"],
    ['ssm-deploy', '17 units of 240 characters (over 4096 joined)', { targets: 'tag:Role=web', 'health-check-units': Array<string>(17).fill(UNIT_240).join('\n') }, "Input 'health-check-units'"],
    ['ssm-deploy', '100 trusted public keys (over 4096 joined)', { targets: 'tag:Role=web', 'trusted-public-keys': Array<string>(100).fill(PUBLIC_KEY).join(' ') }, "Input 'trusted-public-keys'"],
    ['ssm-deploy', 'a region of 22 characters with S3 output (OutputS3Region takes 3-20)', { targets: 'tag:Role=web', 'aws-region': 'abcd-efghijklmnopqrs-1', 'output-s3-bucket': 'abc' }, "Input 'aws-region'"],
    ['instance-refresh', 'a region of 21 characters', { 'auto-scaling-group-name': 'web', 'aws-region': `${REGION_20.slice(0, -2)}x-1` }, "Input 'aws-region'"],
    ['instance-refresh', 'a group name of 256 characters', { 'auto-scaling-group-name': 'g'.repeat(256) }, "Input 'auto-scaling-group-name'"],
    ['instance-refresh', 'an alarm name of 256 characters', { 'auto-scaling-group-name': 'web', alarms: 'a'.repeat(256) }, "Input 'alarms'"],
    ['upload-ami', 'an image name of 129 characters', { ...AMI_DISK, 'image-name': 'n'.repeat(129) }, "Input 'image-name'"],
    ['upload-ami', 'an image name with a colon', { ...AMI_DISK, 'image-name': 'nixos:25.05' }, "Input 'image-name'"],
    ['upload-ami', 'no image name for a file outside the store', { ...AMI_DISK, 'image-name': '' }, "Input 'image-name'"],
    ['upload-ami', 'a description of 256 characters', { ...AMI_DISK, description: 'd'.repeat(256) }, "Input 'description'"],
    ['upload-ami', 'a tag key of 128 characters (StartSnapshot takes 127)', { ...AMI_DISK, tags: `${'k'.repeat(128)}=v` }, "Input 'tags'"],
    ['upload-ami', 'a tag value of 256 characters (StartSnapshot takes 255)', { ...AMI_DISK, tags: `Team=${'v'.repeat(256)}` }, "Input 'tags'"],
    ['upload-ami', 'an aws: tag', { ...AMI_DISK, tags: 'aws:team=x' }, "Input 'tags'"],
    ['upload-ami', 'the ImageFile tag the action sets itself', { ...AMI_DISK, tags: 'ImageFile=/tmp/x' }, "Input 'tags'"],
    ['upload-ami', '48 tags (51 on the image with the action\'s own)', { ...AMI_DISK, tags: Array.from({ length: 48 }, (_, i) => `k${i}=v`).join('\n') }, "Input 'tags'"],
    ['upload-ami', 'a copy to its own region', { ...AMI_DISK, 'copy-to-regions': 'us-east-1' }, "Input 'copy-to-regions'"],
    ['upload-ami', 'a copy region that is no region', { ...AMI_DISK, 'copy-to-regions': 'Ireland' }, "Input 'copy-to-regions'"],
    ['upload-ami', 'deprecate-after-days 0', { ...AMI_DISK, 'deprecate-after-days': '0' }, "Input 'deprecate-after-days'"],
    ['upload-ami', 'deprecate-after-days 3651 (ten years is the most)', { ...AMI_DISK, 'deprecate-after-days': '3651' }, "Input 'deprecate-after-days'"],
    ['upload-ami', 'tpm-support on legacy BIOS', { ...AMI_DISK, 'boot-mode': 'legacy-bios', 'tpm-support': 'true' }, "Input 'tpm-support'"],
    ['upload-ami', 'a boot mode EC2 registers but NixOS images do not have', { ...AMI_DISK, 'boot-mode': 'uefi-preferred' }, "Input 'boot-mode'"],
    ['upload-ami', 'an architecture EC2 does not boot NixOS on', { ...AMI_DISK, architecture: 'i386' }, "Input 'architecture'"],
    ['upload-ami', 'an HDD root volume', { ...AMI_DISK, 'volume-type': 'st1' }, "Input 'volume-type'"],
    ['upload-ami', 'upload-concurrency 0', { ...AMI_DISK, 'upload-concurrency': '0' }, "Input 'upload-concurrency'"],
    ['upload-ami', 'upload-concurrency 257', { ...AMI_DISK, 'upload-concurrency': '257' }, "Input 'upload-concurrency'"],
    ['upload-ami', 'timeout-minutes 0', { ...AMI_DISK, 'timeout-minutes': '0' }, "Input 'timeout-minutes'"],
    ['upload-ami', 'timeout-minutes 7201', { ...AMI_DISK, 'timeout-minutes': '7201' }, "Input 'timeout-minutes'"],
  ])('%s: %s', async (action, _case, inputs, message) => {
    const roleInputs: Record<string, string> = action === 'assume-role' ? { 'role-to-assume': 'arn:aws:iam::123456789012:role/deploy' } : {};
    const common: Record<string, string> = action === 'upload-ami' ? {} : { 'store-path': STORE_PATH };
    const result = await runAction(action, { env: sandbox.env(), inputs: { ...common, ...roleInputs, ...inputs } });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining(message)]);
    expect(sandbox.calls.all()).toEqual([]);
    expect(result.outputs).toEqual({});
    // The job summary says so too, naming the input: a reader of the run's page need not open the log.
    expect(result.summary).toContain(`<h2>${action}: inputs rejected</h2>`);
    expect(result.summary).toContain(`<code>${message.match(/Input '([^']+)'/)?.[1] ?? ''}`);
  });
});

/**
 * Each edge, in process: the input's last accepted form passes both the action and the model, and the first
 * refused form is refused by both. `stricter` names the reason where the action refuses what the model accepts.
 */
describe('each input is as strict as its API member, no stricter without a reason', () => {
  const inputsOf = {
    'assume-role': (values: Record<string, string>) =>
      assumeRoleInputs((name) => ({ 'role-to-assume': 'arn:aws:iam::123456789012:role/deploy', ...values })[name] ?? '', { AWS_REGION: 'us-east-1' }),
    'ssm-deploy': (values: Record<string, string>) =>
      ssmDeployInputs((name) => ({ targets: 'tag:Role=web', 'store-path': STORE_PATH, ...values })[name] ?? '', { AWS_REGION: 'us-east-1' }),
    'instance-refresh': (values: Record<string, string>) =>
      instanceRefreshInputs((name) => ({ 'auto-scaling-group-name': 'web', 'store-path': STORE_PATH, ...values })[name] ?? '', { AWS_REGION: 'us-east-1' }),
    'build-and-push': (values: Record<string, string>) =>
      buildAndPushInputs((name) => ({ installable: '.#web', 'store-uri': 'file:///tmp/cache', sign: 'true', ...values })[name] ?? '', { AWS_REGION: 'us-east-1' }),

    'upload-ami': (values: Record<string, string>) => uploadAmiInputs((name) => ({ ...AMI_DISK, ...values } as Record<string, string>)[name] ?? '', { AWS_REGION: 'us-east-1' }),
  };
  type Edge = {
    action: keyof typeof inputsOf;
    input: string;
    accepted: string;
    refused: string;
    /** The request the value ends up in, as the model names the members. */
    request: (value: string) => [ModeledService, string, Record<string, unknown>];
    /** Why the action refuses what the API would take, if it does. */
    stricter?: string;
    /** Other inputs the case needs. */
    with?: Record<string, string>;
  };
  const sts = (extra: Record<string, unknown>): [ModeledService, string, Record<string, unknown>] => [
    'sts',
    'AssumeRoleWithWebIdentity',
    { RoleArn: 'arn:aws:iam::123456789012:role/deploy', RoleSessionName: 'ci', WebIdentityToken: 'token', ...extra },
  ];
  const send = (extra: Record<string, unknown>): [ModeledService, string, Record<string, unknown>] => [
    'ssm',
    'SendCommand',
    { DocumentName: 'NixOS-Deploy', InstanceIds: ['i-0123456789abcdef0'], ...extra },
  ];
  const associate = (extra: Record<string, unknown>): [ModeledService, string, Record<string, unknown>] => [
    'ssm',
    'CreateAssociation',
    { Name: 'NixOS-Deploy', DocumentVersion: '1', Targets: [{ Key: 'tag:Role', Values: ['web'] }], ...extra },
  ];
  const startSnapshot = (extra: Record<string, unknown>): [ModeledService, string, Record<string, unknown>] => ['ebs', 'StartSnapshot', { VolumeSize: 1, ...extra }];
  const ASSOCIATION_MODE = { mode: 'association', 'association-name': 'nixos-web' };
  const minified = (policy: string) => JSON.stringify(JSON.parse(policy));
  const edges: Edge[] = [
    { action: 'assume-role', input: 'inline-session-policy', accepted: prettyPolicyOfLength(2048), refused: prettyPolicyOfLength(2049), request: (v) => sts({ Policy: minified(v) }) },
    { action: 'assume-role', input: 'inline-session-policy', accepted: '{"Statement":[],"Id":"ÿ"}', refused: '{"Statement":[],"Id":"Ā"}', request: (v) => sts({ Policy: minified(v) }) },
    { action: 'assume-role', input: 'role-session-name', accepted: SESSION_NAME_64, refused: `${SESSION_NAME_64}x`, request: (v) => sts({ RoleSessionName: v }) },
    { action: 'assume-role', input: 'role-session-name', accepted: 'ab', refused: 'a', request: (v) => sts({ RoleSessionName: v }) },
    { action: 'assume-role', input: 'role-session-name', accepted: 'a@b', refused: 'a/b', request: (v) => sts({ RoleSessionName: v }) },
    { action: 'assume-role', input: 'role-duration-seconds', accepted: '900', refused: '899', request: (v) => sts({ DurationSeconds: v }) },
    { action: 'assume-role', input: 'role-duration-seconds', accepted: '43200', refused: '43201', request: (v) => sts({ DurationSeconds: v }) },
    { action: 'ssm-deploy', input: 'max-errors', accepted: '5%', refused: '05%', request: (v) => send({ MaxErrors: v }) },
    { action: 'ssm-deploy', input: 'max-errors', accepted: '9999999', refused: '10000000', request: (v) => send({ MaxErrors: v }) },
    { action: 'ssm-deploy', input: 'max-errors', accepted: '100%', refused: '101%', request: (v) => send({ MaxErrors: v }) },
    { action: 'ssm-deploy', input: 'max-concurrency', accepted: '1%', refused: '0%', request: (v) => send({ MaxConcurrency: v }) },
    { action: 'ssm-deploy', input: 'max-concurrency', accepted: '1', refused: '0', request: (v) => send({ MaxConcurrency: v }) },
    { action: 'ssm-deploy', input: 'document-name', accepted: 'D'.repeat(128), refused: 'team/NixOS-Deploy', request: (v) => ['ssm', 'CreateDocument', { Name: v, Content: '{}' }] },
    { action: 'ssm-deploy', input: 'document-name', accepted: 'Abc', refused: 'Ab', request: (v) => ['ssm', 'CreateDocument', { Name: v, Content: '{}' }] },
    { action: 'ssm-deploy', input: 'targets', accepted: 'tag:Équipe web@2=x', refused: 'tag:Role!=x', request: (v) => ['ssm', 'SendCommand', { DocumentName: 'NixOS-Deploy', Targets: [{ Key: v.split('=')[0], Values: ['x'] }] }] },
    { action: 'ssm-deploy', input: 'delivery-timeout-seconds', accepted: '30', refused: '29', request: (v) => send({ TimeoutSeconds: Number(v) }) },
    { action: 'ssm-deploy', input: 'delivery-timeout-seconds', accepted: '2592000', refused: '2592001', request: (v) => send({ TimeoutSeconds: Number(v) }) },
    { action: 'ssm-deploy', input: 'output-s3-bucket', accepted: 'abc', refused: 'ab', request: (v) => send({ OutputS3BucketName: v, OutputS3Region: 'us-east-1' }) },
    { action: 'ssm-deploy', input: 'aws-region', accepted: REGION_20, refused: `${REGION_20.slice(0, -2)}x-1`, request: (v) => send({ OutputS3BucketName: 'abc', OutputS3Region: v }), with: { 'output-s3-bucket': 'abc' } },
    { action: 'ssm-deploy', input: 'cloudwatch-log-group', accepted: 'g'.repeat(512), refused: 'g'.repeat(513), request: (v) => send({ CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: v } }) },
    {
      action: 'ssm-deploy', input: 'instance-ids', accepted: 'i-0123456789abcdef0', refused: 'i-0123456789ABCDEF0',
      request: (v) => send({ InstanceIds: [v] }), stricter: 'EC2 instance IDs are lower-case hex; the model takes any word character', with: { targets: '' },
    },
    { action: 'ssm-deploy', input: 'association-name', accepted: 'a'.repeat(128), refused: 'a'.repeat(129), request: (v) => associate({ AssociationName: v }), with: { mode: 'association' } },
    { action: 'ssm-deploy', input: 'association-name', accepted: 'a-b', refused: 'ab', request: (v) => associate({ AssociationName: v }), with: { mode: 'association' } },
    { action: 'ssm-deploy', input: 'association-name', accepted: 'a_b.c', refused: 'a/b', request: (v) => associate({ AssociationName: v }), with: { mode: 'association' } },
    {
      action: 'ssm-deploy', input: 'schedule', accepted: 'rate(30 minutes)', refused: 'rate(29 minutes)', request: (v) => associate({ ScheduleExpression: v }),
      stricter: 'State Manager refuses rates under 30 minutes (InvalidSchedule); the model takes any text of 1-256 characters', with: ASSOCIATION_MODE,
    },
    {
      action: 'ssm-deploy', input: 'schedule', accepted: 'cron(0 2 ? * SUN *)', refused: 'cron(0 2 * *)', request: (v) => associate({ ScheduleExpression: v }),
      stricter: 'an association\'s cron has six fields (InvalidSchedule); the model takes any text', with: ASSOCIATION_MODE,
    },
    { action: 'ssm-deploy', input: 'max-errors', accepted: '100%', refused: '101%', request: (v) => associate({ MaxErrors: v }), with: ASSOCIATION_MODE },
    { action: 'ssm-deploy', input: 'max-concurrency', accepted: '1%', refused: '0%', request: (v) => associate({ MaxConcurrency: v }), with: ASSOCIATION_MODE },
    { action: 'instance-refresh', input: 'auto-scaling-group-name', accepted: LONG_GROUP, refused: `${LONG_GROUP}g`, request: (v) => ['autoscaling', 'StartInstanceRefresh', { AutoScalingGroupName: v }] },
    { action: 'instance-refresh', input: 'auto-scaling-group-name', accepted: EMOJI_GROUP, refused: `${EMOJI_GROUP}😀`, request: (v) => ['autoscaling', 'StartInstanceRefresh', { AutoScalingGroupName: v }] },
    { action: 'instance-refresh', input: 'auto-scaling-group-name', accepted: 'web\uFFFD', refused: 'web\uFFFE', request: (v) => ['autoscaling', 'StartInstanceRefresh', { AutoScalingGroupName: v }] },
    {
      action: 'instance-refresh', input: 'auto-scaling-group-name', accepted: 'web 1', refused: 'web\t1',
      request: (v) => ['autoscaling', 'StartInstanceRefresh', { AutoScalingGroupName: v }], stricter: 'no group name has a tab or a line break, though the model allows them',
    },
    { action: 'instance-refresh', input: 'min-healthy-percentage', accepted: '100', refused: '101', request: (v) => ['autoscaling', 'StartInstanceRefresh', { AutoScalingGroupName: 'web', Preferences: { MinHealthyPercentage: v } }] },
    { action: 'instance-refresh', input: 'max-healthy-percentage', accepted: '100', refused: '99', request: (v) => ['autoscaling', 'StartInstanceRefresh', { AutoScalingGroupName: 'web', Preferences: { MinHealthyPercentage: '90', MaxHealthyPercentage: v } }] },
    { action: 'instance-refresh', input: 'bake-time', accepted: '172800', refused: '172801', request: (v) => ['autoscaling', 'StartInstanceRefresh', { AutoScalingGroupName: 'web', Preferences: { BakeTime: v } }] },
    { action: 'instance-refresh', input: 'scale-in-protected-instances', accepted: 'Wait', refused: 'Skip', request: (v) => ['autoscaling', 'StartInstanceRefresh', { AutoScalingGroupName: 'web', Preferences: { ScaleInProtectedInstances: v } }] },
    { action: 'instance-refresh', input: 'alarms', accepted: 'a'.repeat(255), refused: 'a'.repeat(256), request: (v) => ['autoscaling', 'StartInstanceRefresh', { AutoScalingGroupName: 'web', Preferences: { AlarmSpecification: { Alarms: [v] } } }] },
    { action: 'instance-refresh', input: 'lifecycle-hook-name', accepted: 'h/'.repeat(127) + 'k', refused: 'h/'.repeat(128), request: (v) => ['autoscaling', 'CompleteLifecycleAction', { AutoScalingGroupName: 'web', LifecycleHookName: v, LifecycleActionResult: 'CONTINUE', InstanceId: 'i-0123456789abcdef0' }], with: { readiness: 'lifecycle-hook' } },
    { action: 'instance-refresh', input: 'lifecycle-hook-name', accepted: 'nixos_ready-1', refused: 'nixos.ready', request: (v) => ['autoscaling', 'CompleteLifecycleAction', { AutoScalingGroupName: 'web', LifecycleHookName: v, LifecycleActionResult: 'CONTINUE', InstanceId: 'i-0123456789abcdef0' }], with: { readiness: 'lifecycle-hook' } },
    { action: 'instance-refresh', input: 'launch-template', accepted: LONG_TEMPLATE, refused: `${LONG_TEMPLATE}T`, request: (v) => ['ec2', 'CreateLaunchTemplateVersion', { LaunchTemplateName: v, LaunchTemplateData: {} }] },
    {
      action: 'build-and-push', input: 'signing-key-parameter',
      accepted: `arn:aws:ssm:us-east-1:123456789012:parameter/${'k'.repeat(2048 - 45)}`,
      refused: `arn:aws:ssm:us-east-1:123456789012:parameter/${'k'.repeat(2048 - 44)}`,
      request: (v) => ['ssm', 'GetParameter', { Name: v }],
    },
    { action: 'upload-ami', input: 'tags', accepted: `${'k'.repeat(127)}=v`, refused: `${'k'.repeat(128)}=v`, request: (v) => startSnapshot({ Tags: [{ Key: v.split('=')[0], Value: 'v' }] }) },
    { action: 'upload-ami', input: 'tags', accepted: `Team=${'v'.repeat(255)}`, refused: `Team=${'v'.repeat(256)}`, request: (v) => startSnapshot({ Tags: [{ Key: 'Team', Value: v.slice(5) }] }) },
    { action: 'upload-ami', input: 'description', accepted: 'd'.repeat(255), refused: 'd'.repeat(256), request: (v) => startSnapshot({ Description: v }) },
    { action: 'upload-ami', input: 'image-name', accepted: 'n'.repeat(128), refused: 'n'.repeat(129), request: (v) => ['ec2', 'RegisterImage', { Name: v }] },
    {
      action: 'upload-ami', input: 'volume-type', accepted: 'gp2', refused: 'st1', request: (v) => ['ec2', 'RegisterImage', { Name: 'nixos', BlockDeviceMapping: [{ DeviceName: '/dev/xvda', Ebs: { VolumeType: v } }] }],
      stricter: 'st1 and sc1 (HDD) volumes cannot be boot volumes, and io1/io2 need Iops, though the model lists them',
    },
  ];

  it.each(edges.map((edge) => [`${edge.action} ${edge.input}: ${JSON.stringify(edge.refused).slice(0, 40)}`, edge] as const))('%s', (_name, edge) => {
    const read = inputsOf[edge.action];
    expect(() => read({ ...edge.with, [edge.input]: edge.accepted })).not.toThrow();
    expect(validateRequest(...edge.request(edge.accepted))).toBeUndefined();
    expect(inputErrorOf(() => read({ ...edge.with, [edge.input]: edge.refused }))).toContain(`Input '${edge.input}'`);
    if (edge.stricter) expect(validateRequest(...edge.request(edge.refused))).toBeUndefined();
    else expect(validateRequest(...edge.request(edge.refused))).toBeDefined();
  });
});
