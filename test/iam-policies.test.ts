/**
 * The IAM policies in iam/ against what the actions really do. Each action's bundle runs through the runner harness
 * against the sandbox as its role (assumed through the role's own trust policy), in its main success path and in its
 * abort paths; every call it makes as that role must be allowed by the role's permission policy, and every action
 * the policy grants must be either seen here or justified in the README's table (nothing granted without a reason).
 * The trust policies are seeded into the sandbox's STS and asked which GitHub OIDC subjects may assume which role.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { currentSystem, generateKey, tempNix, writeFlake, type TempNix } from '../build-and-push/fixtures/temp-nix.js';
import { Sandbox } from '../sandbox/server.js';
import { STORE_PATH } from './actions.js';
import { REPO_ROOT, runAction, type StepResult } from './harness/runner.js';
import { allows, grantedActions, type PermissionPolicy } from './iam-policy.js';

const IAM = join(REPO_ROOT, 'iam');
const ROLES = readdirSync(IAM).sort();
const readJson = (role: string, file: string): unknown => JSON.parse(readFileSync(join(IAM, role, file), 'utf8'));
const permissions = (role: string) => readJson(role, 'permission-policy.json') as PermissionPolicy;

/** The README's table of actions granted but not seen in these runs: `| roles | action | why |` rows. */
function justified(): Array<{ roles: string[]; action: string }> {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
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

/** Someone else's refresh, still running when the step first looks however slow the machine (hours of warmup), and quick to cancel. */
function otherRefresh(templateId: string): void {
  sandbox.autoscaling.scriptRefresh('web', { cancelSeconds: 10 });
  sandbox.autoscaling.operations.StartInstanceRefresh(
    {
      AutoScalingGroupName: 'web',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: templateId, Version: '1' } },
      Preferences: { MinHealthyPercentage: '90', InstanceWarmup: '3600' },
    },
    { caller: 'someone-else', requestId: 'r', sandbox },
  );
}

const addInstances = (outcome?: { status: 'Failed' | 'Success'; durationSeconds?: number }) =>
  [1, 2].forEach((n) =>
    sandbox.ssm.addInstance({ instanceId: `i-${String(n).padStart(17, '0')}`, tags: { Role: 'web', Environment: 'staging' }, outcome: n === 2 ? outcome : undefined }),
  );

const DOCUMENT = readFileSync(join(REPO_ROOT, 'ssm-deploy/nixos-deploy.json'), 'utf8');
const REFRESH = { 'auto-scaling-group-name': 'web', 'store-path': STORE_PATH, 'poll-interval-seconds': '1', 'instance-warmup': '60' };
/** A refresh that takes sandbox hours: only the timeout ends the wait. */
const SLOW = { ...REFRESH, 'instance-warmup': '3600', 'timeout-minutes': '0.03' };
const SSM = { targets: 'tag:Role=web\ntag:Environment=staging', 'store-path': STORE_PATH, 'poll-interval-seconds': '1' };
const STAGING = { environment: 'staging' };
let flake = '';
let cache = '';

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
      sandbox.ssm.createDocument({ name: 'NixOS-Deploy', content: JSON.stringify({ ...JSON.parse(DOCUMENT), description: 'an older version' }) });
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
];

interface Outcome {
  result: StepResult;
  /** `service:Operation` of every call made with the role's credentials. */
  calls: string[];
}
const outcomes = new Map<string, Outcome>();
const seen = new Map<string, Set<string>>();

beforeAll(async () => {
  await sandbox.start();
  nix = await tempNix();
  flake = await writeFlake(await nix.folder('flake'), await currentSystem(nix), [{ name: 'lib' }, { name: 'web', deps: ['lib'] }]);
  for (const scenario of SCENARIOS) {
    sandbox.reset();
    sandbox.clock.setSpeed(SPEED);
    cache = `file://${await nix.folder('cache')}`;
    sandbox.oidc.setClaims({ environment: undefined, event_name: 'push', ref: 'refs/heads/main', ...scenario.claims });
    const roleArn = sandbox.sts.addRole({ name: scenario.role, trustPolicy: JSON.stringify(readJson(scenario.role, 'trust-policy.json')) });
    await scenario.seed();
    const result = await runAction(scenario.action, {
      env: { ...sandbox.env(), ...scenario.env?.() },
      inputs: { ...scenario.inputs(), 'role-to-assume': roleArn },
    });
    const session = `arn:aws:sts::${sandbox.accountId}:assumed-role/${scenario.role}/`;
    const calls = sandbox.calls
      .all()
      .filter((call) => call.caller.startsWith(session))
      .map((call) => `${call.service}:${call.operation}`);
    outcomes.set(scenario.name, { result, calls });
    const role = seen.get(scenario.role) ?? new Set<string>();
    calls.forEach((call) => role.add(call));
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
    if (scenario.expectCall) expect(calls).toContain(scenario.expectCall);
    const policy = permissions(scenario.role);
    expect(calls.filter((call) => !allows(policy, call))).toEqual([]);
  });
});

/** Roles whose actions the scenarios ran; the others are checked against them or need no permissions of their own. */
const EXERCISED = [...new Set(SCENARIOS.map((s) => s.role))];

describe('each role is granted only what its action was seen doing or the README justifies', () => {
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

  it('the instance role may only read the cache, with the SSM agent managed policy beside it', () => {
    expect(grantedActions(permissions('web-instance'))).toEqual(['s3:GetObject', 's3:ListBucket']);
    expect(readJson('web-instance', 'managed-policies.json')).toEqual(['arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore']);
    expect(justified().filter((row) => row.roles.includes('web-instance')).map((row) => row.action).sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
  });

  it('covers every role in iam/', () => {
    expect(ROLES).toEqual([...EXERCISED, 'nixos-deploy-production', 'nixos-ssm-deploy-production', 'web-instance'].sort());
  });

  it.each<[string, string]>([
    ['nixos-build', 'ssm:GetParameter'],
    ['nixos-build', 's3:PutObject'],
    ['nixos-build', 'kms:Decrypt'],
    ['nixos-deploy-staging', 'ssm:SendCommand'],
    ['nixos-ssm-deploy-staging', 'autoscaling:StartInstanceRefresh'],
    ['nixos-deploy-staging', 'ec2:CreateLaunchTemplate'],
    ['web-instance', 's3:PutObject'],
  ])('%s may not %s', (role, action) => {
    expect(allows(permissions(role), action)).toBe(false);
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

  it('refuses to list what a wildcard grants', () => {
    expect(() => grantedActions(policy)).toThrow('wildcard actions allowed: ssm:Get*, ec2:Describe?');
  });
});

describe('the trust policies, asked by the sandbox STS', () => {
  const SUBJECTS: Array<[string, Record<string, string | undefined>]> = [
    ['pull_request', { event_name: 'pull_request', ref: 'refs/pull/7/merge' }],
    ['ref main', { event_name: 'push', ref: 'refs/heads/main' }],
    ['ref feature', { event_name: 'push', ref: 'refs/heads/feature' }],
    ['environment staging', { event_name: 'push', ref: 'refs/heads/main', environment: 'staging' }],
    ['environment production', { event_name: 'push', ref: 'refs/heads/main', environment: 'production' }],
    ['another repository, ref main', { event_name: 'push', ref: 'refs/heads/main', repository: 'evil-org/octo-repo' }],
  ];
  /** Which subjects each role admits. */
  const ADMITS: Record<string, string[]> = {
    'nixos-build': ['pull_request', 'ref main'],
    'nix-cache-writer': ['ref main'],
    'nixos-deploy-staging': ['environment staging'],
    'nixos-ssm-deploy-staging': ['environment staging'],
    'nixos-deploy-production': ['environment production'],
    'nixos-ssm-deploy-production': ['environment production'],
    'web-instance': [],
  };

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
