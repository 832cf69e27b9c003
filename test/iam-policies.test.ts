/**
 * The IAM policies in iam/ against what the actions really do. Each action's bundle runs through the runner harness
 * against the sandbox as its role (assumed through the role's own trust policy), in its main success path and in its
 * abort paths; every call it makes as that role must be allowed by the role's permission policy, and every action
 * the policy grants must be either seen here or justified in docs/security.md's table (nothing granted without a reason).
 * Calls on SSM documents and parameters are checked on their resource too, as the example account names it: a role
 * may touch only its own environment's deploy document. The trust policies are seeded into the sandbox's STS and
 * asked which GitHub OIDC tokens (subject, ref, environment, calling workflow) may assume which role.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { currentSystem, generateKey, tempNix, writeFlake, type TempNix } from '../build-and-push/fixtures/temp-nix.js';
import type { CallRecord } from '../sandbox/call-log.js';
import { Sandbox } from '../sandbox/server.js';
import { createAssociationInput, desiredSettings } from '../ssm-deploy/association-plan.js';
import { readInputs as ssmDeployInputs } from '../ssm-deploy/inputs.js';
import { STORE_PATH } from './actions.js';
import { REPO_ROOT, runAction, type StepResult } from './harness/runner.js';
import { allows, grantedActions, type PermissionPolicy, type RequestContext } from './iam-policy.js';
import { withClockHeld } from './sandbox-env.js';

const IAM = join(REPO_ROOT, 'iam');
const ROLES = readdirSync(IAM).sort();
const readJson = (role: string, file: string): unknown => JSON.parse(readFileSync(join(IAM, role, file), 'utf8'));
const permissions = (role: string) => readJson(role, 'permission-policy.json') as PermissionPolicy;

/** docs/security.md's table of actions granted but not seen in these runs: `| roles | action | why |` rows. */
function justified(): Array<{ roles: string[]; action: string }> {
  const readme = readFileSync(join(REPO_ROOT, 'docs/security.md'), 'utf8');
  const table = /<!-- BEGIN iam-justified -->([\s\S]*?)<!-- END iam-justified -->/.exec(readme)?.[1] ?? '';
  return [...table.matchAll(/^\| ((?:`[^`]+`(?:, )?)+) \| `([^`]+)` \|/gm)].map((row) => ({
    roles: [...row[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]),
    action: row[2],
  }));
}

const SPEED = 200;
const sandbox = new Sandbox({ speed: SPEED });
let nix: TempNix;

interface Scenario {
  name: string;
  role: string;
  /** Claims of the job's OIDC token: the trust policy must accept them. */
  claims?: Record<string, string>;
  seed: () => unknown;
  action: string;
  inputs: () => Record<string, string>;
  env?: () => Record<string, string>;
  /** Sandbox time stands still until the step has made this call (an operation), so what `seed` started is still running then. */
  holdClockUntil?: string;
  /** The call that shows the path was taken, and the exit code. */
  expectCall?: string;
  exitCode: number;
}

/** The sandbox as the instance-refresh e2e tests set it up: template `web` (tagged staging) and group `web` on version 1. */
function seedGroup(): string {
  const id = sandbox.ec2.createLaunchTemplate({
    name: 'web',
    data: { ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.small', MetadataOptions: { HttpTokens: 'required', InstanceMetadataTags: 'enabled' } },
  }).id;
  sandbox.autoscaling.createGroup({ name: 'web', launchTemplate: { id, version: '1' }, desiredCapacity: 2 });
  return id;
}

const IMAGE_ID = 'ami-0fedcba9876543210';
/** An available x86_64 AMI in the sandbox's region. */
const seedImage = (id: string) =>
  sandbox.images.add({
    id,
    region: sandbox.region,
    name: `nixos-${id}`,
    architecture: 'x86_64',
    rootDeviceName: '/dev/xvda',
    virtualizationType: 'hvm',
    mappings: [],
    tags: new Map(),
    creationDate: sandbox.clock.now(),
    availableAtMs: sandbox.clock.nowMs(),
  });

/** A refresh someone else started that runs for sandbox hours (the clock held until the step looks), and cancels quickly. */
function otherRefresh(templateId: string): void {
  sandbox.autoscaling.scriptRefresh('web', { cancelSeconds: 30 });
  sandbox.autoscaling.operations.StartInstanceRefresh(
    {
      AutoScalingGroupName: 'web',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: templateId, Version: '1' } },
      Preferences: { MinHealthyPercentage: '90', InstanceWarmup: '36000' },
    },
    { caller: 'someone-else', requestId: 'r', sandbox },
  );
}

const addInstances = (outcome?: { status: 'Failed' | 'Success'; durationSeconds?: number }) =>
  [1, 2].forEach((n) =>
    sandbox.ssm.addInstance({ instanceId: `i-${String(n).padStart(17, '0')}`, tags: { Role: 'web', Environment: 'staging' }, outcome: n === 2 ? outcome : undefined }),
  );

const DOCUMENT = readFileSync(join(REPO_ROOT, 'ssm-deploy/nixos-deploy.json'), 'utf8');
/** One deploy document per environment (`document-name`), so that a role can be limited to its own. */
const STAGING_DOCUMENT = 'NixOS-Deploy-staging';
const REFRESH = { 'auto-scaling-group-name': 'web', 'store-path': STORE_PATH, 'poll-interval-seconds': '1', 'instance-warmup': '60' };
/** A refresh that takes sandbox hours: only the timeout ends the wait. */
const SLOW = { ...REFRESH, 'instance-warmup': '3600', 'timeout-minutes': '0.03' };
const SSM = { targets: 'tag:Role=web\ntag:Environment=staging', 'store-path': STORE_PATH, 'poll-interval-seconds': '1', 'document-name': STAGING_DOCUMENT };
const STAGING = { environment: 'staging' };
const ASSOCIATION = { ...SSM, mode: 'association', 'association-name': 'nixos-web-staging', 'environment-tag': 'staging' };
const OLD_STORE_PATH = '/nix/store/1c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05';

/** The association as an earlier deploy of `storePath` left it, with the environment's document (its version 1). */
function seedAssociation(storePath: string): void {
  sandbox.ssm.createDocument({ name: STAGING_DOCUMENT, content: DOCUMENT });
  const inputs = ssmDeployInputs((name) => ({ ...ASSOCIATION, 'store-path': storePath })[name] ?? '', { AWS_REGION: 'eu-central-1' });
  const request = createAssociationInput(ASSOCIATION['association-name'], desiredSettings(inputs, { name: STAGING_DOCUMENT, version: '1' }), 'eu-central-1', 'staging');
  sandbox.ssm.operations.CreateAssociation(request as unknown as Record<string, unknown>, { caller: 'someone-else', requestId: 'r', sandbox });
}
let flake = '';
let cache = '';
/** upload-ami's fixture image, added to the Nix store as `nix build` leaves an Amazon image. */
let amiInfo = '';
const UPLOAD = () => ({ 'image-info': amiInfo, 'copy-to-regions': 'eu-west-1', 'deprecate-after-days': '30' });
/** The same disk as a raw file outside the Nix store, which the action tags `ImageFile` instead of `NixStorePath`. */
const UPLOAD_OUTSIDE = () => ({
  image: join(REPO_ROOT, 'upload-ami/fixtures/image/disk.raw'),
  'boot-mode': 'uefi',
  architecture: 'x86_64',
  'image-name': 'outside-the-store',
  'deprecate-after-days': '30',
});

const SCENARIOS: Scenario[] = [
  {
    name: 'build-and-push builds a pull request without pushing',
    role: 'nixos-build',
    claims: { event_name: 'pull_request', ref: 'refs/pull/7/merge' },
    seed: () => undefined,
    action: 'build-and-push',
    inputs: () => ({ installable: `${flake}#web`, push: 'false' }),
    env: () => ({ NIX_CONFIG: nix.nixConfig }),
    exitCode: 0,
  },
  {
    name: 'build-and-push pushes from main with the key from Parameter Store',
    role: 'nix-cache-writer',
    seed: async () => {
      const key = await generateKey(nix, 'example-nix-cache-1');
      sandbox.ssm.putParameter({ name: '/nix/cache-signing-key', value: key.secret, type: 'SecureString' });
    },
    action: 'build-and-push',
    inputs: () => ({ installable: `${flake}#web`, 'store-uri': cache, 'signing-key-parameter': '/nix/cache-signing-key' }),
    env: () => ({ NIX_CONFIG: nix.nixConfig }),
    expectCall: 'ssm:GetParameter',
    exitCode: 0,
  },
  {
    name: 'instance-refresh deploys',
    role: 'nixos-deploy-staging',
    claims: STAGING,
    seed: seedGroup,
    action: 'instance-refresh',
    inputs: () => REFRESH,
    expectCall: 'autoscaling:StartInstanceRefresh',
    exitCode: 0,
  },
  {
    // image-id: the AMI and the template's own are read (DescribeImages) before the version is made.
    name: 'instance-refresh rolls out an image (image-id)',
    role: 'nixos-deploy-staging',
    claims: STAGING,
    seed: () => {
      seedGroup();
      for (const id of ['ami-0123456789abcdef0', IMAGE_ID]) seedImage(id);
    },
    action: 'instance-refresh',
    inputs: () => ({ ...REFRESH, 'image-id': IMAGE_ID }),
    expectCall: 'ec2:DescribeImages',
    exitCode: 0,
  },
  {
    // The readiness gate reads the group's hooks before any change; this group has none, so it is refused there.
    name: 'instance-refresh checks the readiness gate (readiness: lifecycle-hook)',
    role: 'nixos-deploy-staging',
    claims: STAGING,
    seed: seedGroup,
    action: 'instance-refresh',
    inputs: () => ({ ...REFRESH, readiness: 'lifecycle-hook' }),
    expectCall: 'autoscaling:DescribeLifecycleHooks',
    exitCode: 1,
  },
  {
    name: 'instance-refresh times out and rolls back (on-abort: rollback)',
    role: 'nixos-deploy-staging',
    claims: STAGING,
    seed: seedGroup,
    action: 'instance-refresh',
    inputs: () => ({ ...SLOW, 'on-abort': 'rollback' }),
    expectCall: 'autoscaling:RollbackInstanceRefresh',
    exitCode: 1,
  },
  {
    name: 'instance-refresh times out and cancels (on-abort: cancel)',
    role: 'nixos-deploy-staging',
    claims: STAGING,
    seed: seedGroup,
    action: 'instance-refresh',
    inputs: () => ({ ...SLOW, 'on-abort': 'cancel' }),
    expectCall: 'autoscaling:CancelInstanceRefresh',
    exitCode: 1,
  },
  {
    name: 'instance-refresh cancels another refresh (if-in-progress: cancel), then deploys',
    role: 'nixos-deploy-staging',
    claims: STAGING,
    seed: () => otherRefresh(seedGroup()),
    action: 'instance-refresh',
    inputs: () => ({ ...REFRESH, 'if-in-progress': 'cancel' }),
    holdClockUntil: 'DescribeInstanceRefreshes',
    expectCall: 'autoscaling:CancelInstanceRefresh',
    exitCode: 0,
  },
  {
    name: 'ssm-deploy creates the document and deploys',
    role: 'nixos-ssm-deploy-staging',
    claims: STAGING,
    seed: () => addInstances(),
    action: 'ssm-deploy',
    inputs: () => SSM,
    expectCall: 'ssm:CreateDocument',
    exitCode: 0,
  },
  {
    name: 'ssm-deploy updates a changed document; an instance fails and its output is read',
    role: 'nixos-ssm-deploy-staging',
    claims: STAGING,
    seed: () => {
      sandbox.ssm.createDocument({ name: STAGING_DOCUMENT, content: JSON.stringify({ ...JSON.parse(DOCUMENT), description: 'an older version' }) });
      addInstances({ status: 'Failed' });
    },
    action: 'ssm-deploy',
    inputs: () => ({ ...SSM, 'max-errors': '1' }),
    expectCall: 'ssm:GetCommandInvocation',
    exitCode: 1,
  },
  {
    name: 'ssm-deploy times out and cancels the command',
    role: 'nixos-ssm-deploy-staging',
    claims: STAGING,
    seed: () => addInstances({ status: 'Success', durationSeconds: 100_000 }),
    action: 'ssm-deploy',
    inputs: () => ({ ...SSM, 'timeout-minutes': '0.03' }),
    expectCall: 'ssm:CancelCommand',
    exitCode: 1,
  },
  {
    name: 'ssm-deploy association mode creates the association and deploys',
    role: 'nixos-ssm-deploy-staging',
    claims: STAGING,
    seed: () => addInstances(),
    action: 'ssm-deploy',
    inputs: () => ASSOCIATION,
    expectCall: 'ssm:CreateAssociation',
    exitCode: 0,
  },
  {
    name: 'ssm-deploy association mode applies an unchanged association once',
    role: 'nixos-ssm-deploy-staging',
    claims: STAGING,
    seed: () => {
      addInstances();
      seedAssociation(STORE_PATH);
    },
    action: 'ssm-deploy',
    inputs: () => ASSOCIATION,
    expectCall: 'ssm:StartAssociationsOnce',
    exitCode: 0,
  },
  {
    name: 'ssm-deploy association mode updates the association; an instance fails, its output is read and the association is returned',
    role: 'nixos-ssm-deploy-staging',
    claims: STAGING,
    seed: () => {
      addInstances({ status: 'Failed' });
      seedAssociation(OLD_STORE_PATH);
    },
    action: 'ssm-deploy',
    inputs: () => ({ ...ASSOCIATION, 'max-concurrency': '100%' }),
    expectCall: 'ssm:UpdateAssociation',
    exitCode: 1,
  },
  {
    name: 'upload-ami uploads, registers, deprecates and copies',
    role: 'nixos-image-upload',
    claims: { event_name: 'schedule' },
    seed: () => undefined,
    action: 'upload-ami',
    inputs: UPLOAD,
    expectCall: 'ec2:CopyImage',
    exitCode: 0,
  },
  {
    name: 'upload-ami deletes its snapshot when a block write is refused',
    role: 'nixos-image-upload',
    claims: { event_name: 'schedule' },
    seed: () => sandbox.faults.add({ kind: 'throttle', code: 'ValidationException', service: 'ebs', operation: 'PutSnapshotBlock', count: 1 }),
    action: 'upload-ami',
    inputs: UPLOAD,
    expectCall: 'ec2:DeleteSnapshot',
    exitCode: 1,
  },
  {
    name: 'upload-ami uploads and deprecates a raw file outside the Nix store',
    role: 'nixos-image-upload',
    claims: { event_name: 'schedule' },
    seed: () => undefined,
    action: 'upload-ami',
    inputs: UPLOAD_OUTSIDE,
    expectCall: 'ec2:EnableImageDeprecation',
    exitCode: 0,
  },
  {
    name: 'upload-ami deletes the snapshot of a file outside the Nix store when a block write is refused',
    role: 'nixos-image-upload',
    claims: { event_name: 'schedule' },
    seed: () => sandbox.faults.add({ kind: 'throttle', code: 'ValidationException', service: 'ebs', operation: 'PutSnapshotBlock', count: 1 }),
    action: 'upload-ami',
    inputs: UPLOAD_OUTSIDE,
    expectCall: 'ec2:DeleteSnapshot',
    exitCode: 1,
  },
  {
    name: 'ssm-deploy association mode fails its first deploy and deletes the association it created',
    role: 'nixos-ssm-deploy-staging',
    claims: STAGING,
    seed: () => addInstances({ status: 'Failed' }),
    action: 'ssm-deploy',
    inputs: () => ({ ...ASSOCIATION, 'max-concurrency': '100%' }),
    expectCall: 'ssm:DeleteAssociation',
    exitCode: 1,
  },
];

/** The account and region the policies in iam/ name (the sandbox's own differ). */
const EXAMPLE_ARN = 'arn:aws:ssm:eu-central-1:123456789012';
const documentArn = (name: string) => (name.startsWith('arn:') ? name : `${EXAMPLE_ARN}:document/${name}`);
const parameterArn = (name: string) => (name.startsWith('arn:') ? name : `${EXAMPLE_ARN}:parameter/${name.replace(/^\//, '')}`);

/** The resource a call acts on, where the policies scope it by ARN alone (tag conditions are argued in docs/security.md). */
function resourceOf(call: CallRecord): string | undefined {
  const name = call.params.Name ?? call.params.DocumentName;
  // An association's own calls name it by ID (CreateAssociation and UpdateAssociation name the document too).
  if (call.service === 'ssm' && typeof call.params.AssociationId === 'string' && typeof name !== 'string') {
    return `${EXAMPLE_ARN}:association/${call.params.AssociationId}`;
  }
  if (call.service !== 'ssm' || typeof name !== 'string') return undefined;
  return call.operation === 'GetParameter' ? parameterArn(name) : documentArn(name);
}

/** `job_workflow_ref` of a job in this repository's reusable workflow for `action`, as a caller pinned to `@v1` runs it. */
const reusableWorkflowRef = (action: string) => `octo-org/nixos-aws/.github/workflows/${action}.yml@refs/tags/v1`;

interface Call {
  /** `service:Operation` */
  action: string;
  resource?: string;
  /** The tag condition keys IAM would see, where the role's policy scopes the call by tags. */
  context?: RequestContext;
}

/**
 * upload-ami's calls as IAM sees their tags: StartSnapshot's request tags (`aws:RequestTag/*`, `aws:TagKeys`), and the
 * tags of the snapshot (the one StartSnapshot made in this run) or image a later call acts on (`aws:ResourceTag/*`).
 */
function uploadTagContext(call: CallRecord, all: CallRecord[]): RequestContext {
  type Tags = Record<string, string>;
  const tagsOf = (list: unknown): Tags => Object.fromEntries(((list ?? []) as Array<{ Key: string; Value: string }>).map((t) => [t.Key, t.Value]));
  const keyed = (prefix: string, tags: Tags) => Object.fromEntries(Object.entries(tags).map(([key, value]) => [`${prefix}${key}`, value]));
  switch (call.operation) {
    case 'StartSnapshot': {
      const tags = tagsOf(call.params.Tags);
      return { ...keyed('aws:RequestTag/', tags), 'aws:TagKeys': Object.keys(tags) };
    }
    case 'PutSnapshotBlock':
    case 'CompleteSnapshot':
    case 'DeleteSnapshot': {
      const starts = all.filter((c) => c.operation === 'StartSnapshot' && c.errorCode === undefined);
      if (starts.length !== 1) throw new Error(`expected one StartSnapshot, saw ${starts.length}`);
      return keyed('aws:ResourceTag/', tagsOf(starts[0].params.Tags));
    }
    case 'EnableImageDeprecation':
      return keyed('aws:ResourceTag/', Object.fromEntries(sandbox.images.images.get(String(call.params.ImageId))?.tags ?? []));
    default:
      return {};
  }
}

interface Outcome {
  result: StepResult;
  /** Every call made with the role's credentials. */
  calls: Call[];
}
const outcomes = new Map<string, Outcome>();
const seen = new Map<string, Set<string>>();

beforeAll(async () => {
  await sandbox.start();
  nix = await tempNix();
  flake = await writeFlake(await nix.folder('flake'), await currentSystem(nix), [{ name: 'lib' }, { name: 'web', deps: ['lib'] }]);
  const image = execFileSync('nix-store', ['--add', join(REPO_ROOT, 'upload-ami/fixtures/image')], { encoding: 'utf8', timeout: 60_000 }).trim();
  amiInfo = join(image, 'nix-support/image-info.json');
  for (const scenario of SCENARIOS) {
    sandbox.reset();
    sandbox.clock.setSpeed(SPEED);
    cache = `file://${await nix.folder('cache')}`;
    sandbox.oidc.setClaims({
      environment: undefined,
      event_name: 'push',
      ref: 'refs/heads/main',
      job_workflow_ref: reusableWorkflowRef(scenario.action),
      ...scenario.claims,
    });
    const roleArn = sandbox.sts.addRole({ name: scenario.role, trustPolicy: JSON.stringify(readJson(scenario.role, 'trust-policy.json')) });
    await scenario.seed();
    const step = () =>
      runAction(scenario.action, {
        env: { ...sandbox.env(), ...scenario.env?.() },
        inputs: { ...scenario.inputs(), 'role-to-assume': roleArn },
      });
    const hold = scenario.holdClockUntil;
    const result = hold ? await withClockHeld(sandbox, () => sandbox.calls.of(hold).length > 0, step) : await step();
    const session = `arn:aws:sts::${sandbox.accountId}:assumed-role/${scenario.role}/`;
    const made = sandbox.calls.all().filter((call) => call.caller.startsWith(session));
    const calls = made.map((call) => ({
      action: `${call.service}:${call.operation}`,
      resource: resourceOf(call),
      context: scenario.action === 'upload-ami' ? uploadTagContext(call, made) : undefined,
    }));
    outcomes.set(scenario.name, { result, calls });
    const role = seen.get(scenario.role) ?? new Set<string>();
    calls.forEach((call) => role.add(call.action));
    seen.set(scenario.role, role);
  }
}, 180_000);

afterAll(async () => {
  await sandbox.stop();
  await nix?.remove();
});

const errors = (result: StepResult) => result.annotations.filter((a) => a.level === 'error').map((a) => a.message);

describe('each action, run as its role, is allowed every call it makes', () => {
  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', (name, scenario) => {
    const { result, calls } = outcomes.get(name)!;
    expect({ exitCode: result.exitCode, errors: scenario.exitCode === 0 ? errors(result) : [] }).toEqual({ exitCode: scenario.exitCode, errors: [] });
    // The trust policy let the job in: the action's AWS calls were made as the role.
    if (scenario.expectCall) expect(calls.map((call) => call.action)).toContain(scenario.expectCall);
    const policy = permissions(scenario.role);
    expect(calls.filter((call) => !allows(policy, call.action, call.resource, call.context))).toEqual([]);
  });
});

describe('ssm-deploy makes the calls of its mode only', () => {
  const operationsOf = (association: boolean) =>
    [
      ...new Set(
        SCENARIOS.filter((s) => s.action === 'ssm-deploy' && s.name.startsWith('ssm-deploy association mode') === association).flatMap((s) =>
          outcomes.get(s.name)!.calls.map((c) => c.action),
        ),
      ),
    ].sort();
  const DOCUMENT_CALLS = ['ssm:CreateDocument', 'ssm:DescribeDocument', 'ssm:UpdateDocument', 'ssm:UpdateDocumentDefaultVersion'];

  it('command mode: the document, then Run Command', () => {
    expect(operationsOf(false).filter((a) => !DOCUMENT_CALLS.includes(a))).toEqual([
      'ssm:CancelCommand',
      'ssm:GetCommandInvocation',
      'ssm:ListCommandInvocations',
      'ssm:ListCommands',
      'ssm:SendCommand',
    ]);
  });

  it('association mode: the document, then State Manager, and a failed instance\'s Run Command output', () => {
    expect(operationsOf(true).filter((a) => !DOCUMENT_CALLS.includes(a))).toEqual([
      'ssm:CreateAssociation',
      'ssm:DeleteAssociation',
      'ssm:DescribeAssociation',
      'ssm:DescribeAssociationExecutionTargets',
      'ssm:DescribeAssociationExecutions',
      'ssm:GetCommandInvocation',
      'ssm:ListAssociations',
      'ssm:StartAssociationsOnce',
      'ssm:UpdateAssociation',
    ]);
  });
});

/** Roles whose actions the scenarios ran; the others are checked against them or need no permissions of their own. */
const EXERCISED = [...new Set(SCENARIOS.map((s) => s.role))];

describe('each role is granted only what its action was seen doing or docs/security.md justifies', () => {
  it.each(EXERCISED)('%s', (role) => {
    const unseen = grantedActions(permissions(role)).filter((action) => !seen.get(role)?.has(action));
    const reasons = justified()
      .filter((row) => row.roles.includes(role))
      .map((row) => row.action)
      .sort();
    expect(unseen).toEqual(reasons);
  });

  it.each([
    ['nixos-deploy-staging', 'nixos-deploy-production'],
    ['nixos-ssm-deploy-staging', 'nixos-ssm-deploy-production'],
  ])('%s and %s differ only in the environment they name', (staging, production) => {
    for (const file of ['trust-policy.json', 'permission-policy.json']) {
      expect(JSON.stringify(readJson(staging, file)).replaceAll('staging', 'production')).toBe(JSON.stringify(readJson(production, file)));
    }
  });

  it('the instance role may only read the cache and complete lifecycle actions, with the SSM agent managed policy beside it', () => {
    const granted = ['autoscaling:CompleteLifecycleAction', 's3:GetObject', 's3:ListBucket'];
    expect(grantedActions(permissions('web-instance'))).toEqual(granted);
    expect(readJson('web-instance', 'managed-policies.json')).toEqual(['arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore']);
    expect(justified().filter((row) => row.roles.includes('web-instance')).map((row) => row.action).sort()).toEqual(granted);
  });

  it("the instance role completes lifecycle actions only of groups, and only of its own (the group's Role tag)", () => {
    const statements = [permissions('web-instance').Statement].flat().filter((s) => [s.Action].flat().includes('autoscaling:CompleteLifecycleAction'));
    expect(statements.map((s) => ({ resource: s.Resource, condition: s.Condition }))).toEqual([
      {
        resource: 'arn:aws:autoscaling:eu-central-1:123456789012:autoScalingGroup:*:autoScalingGroupName/*',
        condition: { StringEquals: { 'autoscaling:ResourceTag/Role': 'web' } },
      },
    ]);
  });

  it("docs/security.md's table of what each role can and cannot do names every role in iam/", () => {
    const readme = readFileSync(join(REPO_ROOT, 'docs/security.md'), 'utf8');
    const table = /^\| Role \| Who may assume it \| Can \| Cannot \|\n\|[- |]+\|\n((?:\|.*\n)+)/m.exec(readme)?.[1] ?? '';
    const named = table.split('\n').flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]));
    expect(named.sort()).toEqual(ROLES);
  });

  it('covers every role in iam/', () => {
    expect(ROLES).toEqual([...EXERCISED, 'nixos-deploy-production', 'nixos-ssm-deploy-production', 'web-instance'].sort());
  });

  /** `[role, action, resource]`: without a resource, the action on any resource. */
  const FORBIDDEN: Array<[string, string, string?]> = [
    ['nixos-build', 'ssm:GetParameter'],
    ['nixos-build', 's3:PutObject'],
    ['nixos-build', 'kms:Decrypt'],
    ['nixos-deploy-staging', 'ssm:SendCommand'],
    ['nixos-ssm-deploy-staging', 'autoscaling:StartInstanceRefresh'],
    ['nixos-deploy-staging', 'ec2:CreateLaunchTemplate'],
    ['web-instance', 's3:PutObject'],
    // The readiness gate reports; it neither extends its wait nor changes hooks or groups.
    ['web-instance', 'autoscaling:RecordLifecycleActionHeartbeat'],
    ['web-instance', 'autoscaling:PutLifecycleHook'],
    ['web-instance', 'autoscaling:DeleteLifecycleHook'],
    ['web-instance', 'autoscaling:StartInstanceRefresh'],
    ['web-instance', 'autoscaling:CompleteLifecycleAction', 'arn:aws:autoscaling:eu-central-1:123456789012:launchConfiguration:*:launchConfigurationName/web'],
    // One deploy document per environment: neither deploy role may run or rewrite the other's.
    ['nixos-ssm-deploy-staging', 'ssm:UpdateDocument', documentArn('NixOS-Deploy-production')],
    ['nixos-ssm-deploy-staging', 'ssm:UpdateDocumentDefaultVersion', documentArn('NixOS-Deploy-production')],
    ['nixos-ssm-deploy-staging', 'ssm:CreateDocument', documentArn('NixOS-Deploy-production')],
    ['nixos-ssm-deploy-staging', 'ssm:SendCommand', documentArn('NixOS-Deploy-production')],
    ['nixos-ssm-deploy-staging', 'ssm:UpdateDocument', documentArn('NixOS-Deploy')],
    ['nixos-ssm-deploy-production', 'ssm:UpdateDocument', documentArn(STAGING_DOCUMENT)],
    ['nixos-ssm-deploy-production', 'ssm:SendCommand', documentArn(STAGING_DOCUMENT)],
    ['nixos-ssm-deploy-staging', 'ssm:SendCommand', documentArn('AWS-RunShellScript')],
    ['nix-cache-writer', 'ssm:GetParameter', parameterArn('/nix/another-parameter')],
  ];
  it.each(FORBIDDEN.map(([role, action, resource]) => [role, action, resource ?? 'any resource', resource] as const))(
    '%s may not %s on %s',
    (role, action, _on, resource) => {
      expect(allows(permissions(role), action, resource)).toBe(false);
    },
  );

  it.each<[string, string, string]>([
    ['nixos-ssm-deploy-staging', 'ssm:UpdateDocument', documentArn(STAGING_DOCUMENT)],
    ['nixos-ssm-deploy-production', 'ssm:UpdateDocument', documentArn('NixOS-Deploy-production')],
    ['nix-cache-writer', 'ssm:GetParameter', parameterArn('/nix/cache-signing-key')],
  ])('%s may %s %s', (role, action, resource) => {
    expect(allows(permissions(role), action, resource)).toBe(true);
  });
});

describe('an SSM deploy role touches only associations tagged with its environment', () => {
  const association = `${EXAMPLE_ARN}:association/8dfe3659-4309-493a-8755-0123456789ab`;
  const tagged = (environment: string): RequestContext => ({ 'aws:ResourceTag/Environment': environment });
  const creating = (environment?: string, keys = environment ? ['Environment'] : []): RequestContext =>
    environment ? { 'aws:RequestTag/Environment': environment, 'aws:TagKeys': keys } : { 'aws:TagKeys': keys };
  // Every call a deploy makes on an association; CreateAssociation is also checked on the document (unconditioned).
  it.each<[string, string, string, RequestContext, boolean]>([
    ['staging', 'ssm:UpdateAssociation', 'production', tagged('production'), false],
    ['staging', 'ssm:StartAssociationsOnce', 'production', tagged('production'), false],
    ['staging', 'ssm:DeleteAssociation', 'production', tagged('production'), false],
    ['staging', 'ssm:UpdateAssociation', 'untagged', {}, false],
    ['staging', 'ssm:UpdateAssociation', 'staging', tagged('staging'), true],
    ['staging', 'ssm:StartAssociationsOnce', 'staging', tagged('staging'), true],
    ['staging', 'ssm:DeleteAssociation', 'staging', tagged('staging'), true],
    ['production', 'ssm:UpdateAssociation', 'staging', tagged('staging'), false],
    ['production', 'ssm:UpdateAssociation', 'production', tagged('production'), true],
    ['staging', 'ssm:CreateAssociation', 'a new one tagged production', creating('production'), false],
    ['staging', 'ssm:CreateAssociation', 'a new one without a tag', creating(), false],
    ['staging', 'ssm:CreateAssociation', 'a new one tagged staging and Owner', creating('staging', ['Environment', 'Owner']), false],
    ['staging', 'ssm:CreateAssociation', 'a new one tagged staging', creating('staging'), true],
    ['staging', 'ssm:AddTagsToResource', 'production, re-tagged staging', { ...creating('staging'), ...tagged('production') }, false],
    ['production', 'ssm:CreateAssociation', 'a new one tagged production', creating('production'), true],
    // Reading is not scoped: association IDs are not secret, and reading changes nothing.
    ['staging', 'ssm:DescribeAssociation', 'production', tagged('production'), true],
  ])('the %s role, %s on the association %s: %s', (environment, action, _which, context, expected) => {
    expect(allows(permissions(`nixos-ssm-deploy-${environment}`), action, association, context)).toBe(expected);
  });
});

describe('the policy evaluator', () => {
  const policy: PermissionPolicy = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['ssm:Get*', 'ec2:Describe?'], Resource: '*' },
      { Effect: 'Deny', Action: 'ssm:GetParameters', Resource: '*' },
      { Effect: 'Deny', NotAction: ['ssm:*', 'ec2:*'], Resource: '*' },
    ],
  };
  it.each<[string, boolean]>([
    ['ssm:GetParameter', true],
    ['SSM:getparameter', true],
    ['ssm:GetParameters', false],
    ['ssm:PutParameter', false],
    ['ec2:DescribeX', true],
    ['ec2:DescribeXY', false],
    ['s3:GetObject', false],
  ])('%s allowed: %s', (action, expected) => {
    expect(allows(policy, action)).toBe(expected);
  });

  it.each<[string, string, boolean]>([
    ['ssm:GetDocument', 'arn:aws:ssm:r:1:document/Mine-staging', true],
    ['ssm:GetDocument', 'arn:aws:ssm:r:1:document/Mine-production', false],
    ['ssm:GetDocument', 'arn:aws:ssm:r:1:document/mine-staging', false],
    ['ssm:GetDocument', 'arn:aws:ssm:r:1:document/Other', true],
    ['ssm:GetDocument', 'arn:aws:ssm:r:1:parameter/x', false],
  ])('%s on %s allowed: %s', (action, resource, expected) => {
    const scoped: PermissionPolicy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'ssm:GetDocument', Resource: ['arn:aws:ssm:r:1:document/Mine-*', 'arn:aws:ssm:r:1:document/Other'] },
        { Effect: 'Deny', Action: 'ssm:*', NotResource: ['arn:aws:ssm:r:1:document/*-staging', 'arn:aws:ssm:r:1:document/Other'] },
      ],
    };
    expect(allows(scoped, action, resource)).toBe(expected);
  });

  it('refuses to list what a wildcard grants', () => {
    expect(() => grantedActions(policy)).toThrow('wildcard actions allowed: ssm:Get*, ec2:Describe?');
  });
});

describe('the trust policies, asked by the sandbox STS', () => {
  const PR = { event_name: 'pull_request', ref: 'refs/pull/7/merge' };
  const MAIN = { event_name: 'push', ref: 'refs/heads/main' };
  const FEATURE = { event_name: 'push', ref: 'refs/heads/feature' };
  const TAG = { event_name: 'push', ref: 'refs/tags/v2.0.0' };
  const BUILD = { job_workflow_ref: reusableWorkflowRef('build-and-push') };
  const REFRESH = { job_workflow_ref: reusableWorkflowRef('instance-refresh') };
  const SSM_DEPLOY = { job_workflow_ref: reusableWorkflowRef('ssm-deploy') };
  const UPLOAD_AMI = { job_workflow_ref: reusableWorkflowRef('upload-ami') };
  /** A job of the repository's own workflow (any step of it could ask for a token). */
  const OWN = { job_workflow_ref: 'octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main' };
  const env = (environment: string) => ({ environment });
  /** Tokens of jobs: the event and ref of the run, the job's environment and the workflow file the job is in. */
  const SUBJECTS: Array<[string, Record<string, string | undefined>]> = [
    ['build, pull request', { ...PR, ...BUILD }],
    ['build, main', { ...MAIN, ...BUILD }],
    ['build, feature branch', { ...FEATURE, ...BUILD }],
    ['own workflow, main', { ...MAIN, ...OWN }],
    ['own workflow, pull request', { ...PR, ...OWN }],
    ['build, main, another repository', { ...MAIN, ...BUILD, repository: 'evil-org/octo-repo' }],
    ['instance-refresh, staging, main', { ...MAIN, ...REFRESH, ...env('staging') }],
    ['ssm-deploy, staging, main', { ...MAIN, ...SSM_DEPLOY, ...env('staging') }],
    ['instance-refresh, staging, pull request', { ...PR, ...REFRESH, ...env('staging') }],
    ['ssm-deploy, staging, pull request', { ...PR, ...SSM_DEPLOY, ...env('staging') }],
    ['instance-refresh, staging, feature branch', { ...FEATURE, ...REFRESH, ...env('staging') }],
    ['ssm-deploy, staging, tag', { ...TAG, ...SSM_DEPLOY, ...env('staging') }],
    ['own workflow, staging, main', { ...MAIN, ...OWN, ...env('staging') }],
    ['build, staging, main', { ...MAIN, ...BUILD, ...env('staging') }],
    ['instance-refresh, production, main', { ...MAIN, ...REFRESH, ...env('production') }],
    ['ssm-deploy, production, main', { ...MAIN, ...SSM_DEPLOY, ...env('production') }],
    ['instance-refresh, production, pull request', { ...PR, ...REFRESH, ...env('production') }],
    ['ssm-deploy, production, feature branch', { ...FEATURE, ...SSM_DEPLOY, ...env('production') }],
    ['own workflow, production, main', { ...MAIN, ...OWN, ...env('production') }],
    ['instance-refresh, production, main, another repository', { ...MAIN, ...REFRESH, ...env('production'), repository: 'evil-org/octo-repo' }],
    ['upload-ami, main (the weekly schedule)', { event_name: 'schedule', ref: 'refs/heads/main', ...UPLOAD_AMI }],
    ['upload-ami, pull request', { ...PR, ...UPLOAD_AMI }],
    ['upload-ami, feature branch', { ...FEATURE, ...UPLOAD_AMI }],
    ['upload-ami, staging, main', { ...MAIN, ...UPLOAD_AMI, ...env('staging') }],
  ];
  /**
   * Which tokens each role admits: only the example pipeline's own jobs. A pull request, another branch or a tag, the
   * repository's own workflows and another workflow of this repository are refused even when they declare the
   * environment (whose protection rules GitHub checks, and docs/security.md asks for, besides).
   */
  const ADMITS: Record<string, string[]> = {
    'nixos-build': ['build, pull request', 'build, main'],
    'nix-cache-writer': ['build, main'],
    'nixos-deploy-staging': ['instance-refresh, staging, main'],
    'nixos-ssm-deploy-staging': ['ssm-deploy, staging, main'],
    'nixos-deploy-production': ['instance-refresh, production, main'],
    'nixos-ssm-deploy-production': ['ssm-deploy, production, main'],
    'web-instance': [],
    'nixos-image-upload': ['upload-ami, main (the weekly schedule)'],
  };

  /** The example pipeline's jobs: which role each assumes, through which workflow, in which environment. */
  const PIPELINE = parse(readFileSync(join(REPO_ROOT, 'examples/pipeline.yml'), 'utf8')) as {
    jobs: Record<string, { uses?: string; with?: Record<string, unknown> }>;
  };
  const callers = (role: string) =>
    Object.values(PIPELINE.jobs)
      .filter((job) => new RegExp(`:role/${role}'?$|:role/${role}'? `).test(String(job.with?.['role-to-assume'] ?? '')))
      .map((job) => ({ workflow: `${job.uses?.replace(/@.*$/, '')}@*`, environment: job.with?.environment }));

  it.each(ROLES.filter((role) => role !== 'web-instance'))('%s trusts the workflow and environment the example pipeline assumes it from', (role) => {
    const statement = (readJson(role, 'trust-policy.json') as { Statement: Array<{ Condition: Record<string, Record<string, unknown>> }> })
      .Statement[0];
    const claim = (key: string) => statement.Condition.StringEquals[`token.actions.githubusercontent.com:${key}`] ?? statement.Condition.StringLike[`token.actions.githubusercontent.com:${key}`];
    const environment = /:environment:(\w+)$/.exec(String(claim('sub')))?.[1];
    const found = callers(role);
    expect(found.length).toBeGreaterThan(0);
    expect(new Set(found.map((caller) => JSON.stringify(caller)))).toEqual(new Set([JSON.stringify({ workflow: claim('job_workflow_ref'), environment })]));
  });

  it.each(ROLES)('%s', async (role) => {
    sandbox.reset();
    const roleArn = sandbox.sts.addRole({ name: role, trustPolicy: JSON.stringify(readJson(role, 'trust-policy.json')) });
    const sts = new STSClient({ endpoint: sandbox.url, region: sandbox.region });
    const admitted: string[] = [];
    for (const [subject, claims] of SUBJECTS) {
      const token = sandbox.oidc.mint({ aud: 'sts.amazonaws.com', environment: undefined, ...claims });
      try {
        await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: 'trust-test', WebIdentityToken: token }));
        admitted.push(subject);
      } catch (error) {
        expect([(error as Error).name, (error as Error).message]).toEqual(['AccessDenied', expect.any(String)]);
      }
    }
    sts.destroy();
    expect(admitted).toEqual(ADMITS[role]);
  });
});
