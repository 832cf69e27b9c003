/**
 * The demo's pipeline: a build job (build-and-push) and a production deploy job (assume-role, instance-refresh,
 * ssm-deploy), each step the real bundle run as the runner runs it, against the stage. Each step states what
 * the demo expects of it and checks that this, and nothing else, happened; the SSM deploy is expected to fail on
 * the one instance whose health check fails.
 */
import { Job, type StepResult } from '../test/harness/runner.js';
import { INSTALLABLE_ATTRIBUTE, type Stage } from './stage.js';

export interface StepOutcome {
  action: string;
  title: string;
  job: string;
  /** What the demo expects of the step, in words. */
  expected: string;
  result: StepResult;
  /** How the step went otherwise than expected; empty when it did what was expected. */
  problems: string[];
}

/** What the steps pass on: the store path the build made. */
interface Carried {
  storePath: string;
}

interface DemoStep {
  action: string;
  title: string;
  job: 'build' | 'deploy';
  expected: string;
  inputs(stage: Stage, carried: Carried): Record<string, string>;
  check(result: StepResult, stage: Stage, carried: Carried): Promise<Array<string | false>>;
}

const SYSTEM_NAME = /^\/nix\/store\/[0-9a-z]{32}-nixos-system-web-25\.05$/;

const STEPS: DemoStep[] = [
  {
    action: 'build-and-push',
    title: 'Build the stand-in NixOS system, sign its closure and push it to the binary cache',
    job: 'build',
    expected: 'succeeds: 3 store paths built, signed and pushed',
    inputs: (stage) => ({
      installable: `${stage.flake}#${INSTALLABLE_ATTRIBUTE}`,
      'store-uri': stage.cacheUri,
      'signing-key': stage.key.secret,
    }),
    async check(result, stage, carried) {
      carried.storePath = result.outputs['store-path'] ?? '';
      return [
        ...exitedWith(result, 0),
        !SYSTEM_NAME.test(carried.storePath) && `the store-path output is ${JSON.stringify(carried.storePath)}`,
        result.outputs['pushed-paths'] !== '3' && `pushed ${result.outputs['pushed-paths']} paths, not 3`,
        ...(exitedCleanly(result) && carried.storePath ? await substituteLikeAnInstance(stage, carried.storePath) : []),
      ];
    },
  },
  {
    action: 'assume-role',
    title: 'Assume the production deploy role with the job\'s OIDC token (environment: production)',
    job: 'deploy',
    expected: 'succeeds: credentials of nixos-deploy-production exported to the later steps',
    inputs: (stage) => ({ 'role-to-assume': stage.world.roles.deployProduction, 'allowed-account-ids': stage.sandbox.accountId }),
    async check(result, stage) {
      const arn = result.outputs['assumed-role-arn'] ?? '';
      return [
        ...exitedWith(result, 0),
        !arn.startsWith(`arn:aws:sts::${stage.sandbox.accountId}:assumed-role/nixos-deploy-production/`) && `assumed ${JSON.stringify(arn)}`,
        !result.exportedEnv.AWS_SESSION_TOKEN && 'exported no credentials',
      ];
    },
  },
  {
    action: 'instance-refresh',
    title: 'Roll the system out to the Auto Scaling group, pausing at a 20% canary checkpoint',
    job: 'deploy',
    expected: 'succeeds: the group runs a new launch template version tagged with the store path',
    inputs: (stage, carried) => ({
      'auto-scaling-group-name': stage.world.groupName,
      'store-path': carried.storePath,
      tags: `TrustedPublicKeys=${stage.key.public}`,
      'checkpoint-percentages': '20,100',
      'checkpoint-delay': '300',
      'instance-warmup': '30',
      'poll-interval-seconds': '1',
    }),
    async check(result, stage, carried) {
      const { sandbox, world } = stage;
      const group = sandbox.autoscaling.describeGroup(world.groupName).LaunchTemplate as { Version: string };
      const template = sandbox.ec2.templates.get(world.launchTemplateId);
      const version = template?.versions.find((v) => String(v.number) === group.Version);
      const specs = (version?.data.TagSpecifications ?? []) as Array<{ ResourceType: string; Tags: Array<{ Key: string; Value: string }> }>;
      const tags = specs.find((spec) => spec.ResourceType === 'instance')?.Tags ?? [];
      return [
        ...exitedWith(result, 0),
        result.outputs.status !== 'Successful' && `the refresh ended ${result.outputs.status}`,
        !result.logLines.some((line) => line.includes('Checkpoint 20% reached')) && 'never paused at the 20% checkpoint',
        group.Version !== result.outputs['launch-template-version'] && `the group is on version ${group.Version}`,
        !tags.some((tag) => tag.Key === 'NixStorePath' && tag.Value === carried.storePath) && 'the group\'s version lacks the NixStorePath tag',
        ...madeAsProductionRole(stage, ['autoscaling', 'ec2']),
      ];
    },
  },
  {
    action: 'ssm-deploy',
    title: 'Switch the SSM-managed fleet to the system in place, one instance at a time',
    job: 'deploy',
    expected: 'fails: one instance fails its health check and rolls back (exit 2), the other two deploy',
    inputs: (stage, carried) => ({
      targets: 'tag:Service=monitoring\ntag:Environment=production',
      'store-path': carried.storePath,
      substituters: stage.cacheUri,
      'trusted-public-keys': stage.key.public,
      'health-check-units': 'prometheus.service',
      'max-concurrency': '1',
      'max-errors': '1',
      'poll-interval-seconds': '1',
    }),
    async check(result, stage) {
      return [...expectedFleetFailure(result, stage.failingInstanceId, stage.world.ssmInstanceIds), ...madeAsProductionRole(stage, ['ssm'])];
    },
  },
];

/** Runs the steps in order, telling `onStep` about each; stops after the first that went otherwise than expected. */
export async function runSteps(stage: Stage, onStep: (outcome: StepOutcome, index: number, count: number) => void): Promise<StepOutcome[]> {
  const carried: Carried = { storePath: '' };
  const env = { ...stage.sandbox.env(), NIX_CONFIG: stage.nix.nixConfig };
  const jobs = { build: new Job({ env, run: { job: 'build' } }), deploy: new Job({ env, run: { job: 'deploy' } }) };
  const outcomes: StepOutcome[] = [];
  try {
    for (const [index, step] of STEPS.entries()) {
      // GitHub names the environment in the token's subject of a job that has one: here, only the deploy job.
      stage.sandbox.oidc.setClaims({ environment: step.job === 'deploy' ? 'production' : undefined });
      stage.sandbox.calls.clear();
      const result = await jobs[step.job].step(step.action, { inputs: step.inputs(stage, carried), timeoutMs: 40_000 });
      const problems = (await step.check(result, stage, carried)).filter((problem): problem is string => Boolean(problem));
      const outcome = { action: step.action, title: step.title, job: step.job, expected: step.expected, result, problems };
      outcomes.push(outcome);
      onStep(outcome, index, STEPS.length);
      if (problems.length > 0) break;
    }
  } finally {
    await Promise.all(Object.values(jobs).map((job) => job.cleanup()));
  }
  return outcomes;
}

/**
 * The SSM step's expected failure: the command sent, every instance run, exactly the scripted one failed with the
 * document's "rolled back" exit code (2), and the step failing because of it, naming it.
 */
export function expectedFleetFailure(result: StepResult, failingId: string, fleet: string[]): Array<string | false> {
  let instances: Array<{ instanceId: string; status: string; responseCode: number }> = [];
  try {
    instances = JSON.parse(result.outputs.instances ?? '[]');
  } catch {
    return ['the instances output is not JSON'];
  }
  const failed = instances.filter((i) => i.status !== 'Success');
  const errors = errorsOf(result);
  return [
    ...exitedWith(result, 1),
    instances.length !== fleet.length && `reported ${instances.length} instances, not ${fleet.length}`,
    (failed.length !== 1 || failed[0].instanceId !== failingId || failed[0].status !== 'Failed' || failed[0].responseCode !== 2) &&
      `instances that did not deploy: ${failed.map((i) => `${i.instanceId} ${i.status} (exit ${i.responseCode})`).join(', ') || 'none'}`,
    !(errors.length === 1 && errors[0].includes(`${failingId} Failed (exit 2: rolled back to the previous generation)`)) &&
      `the step's errors: ${errors.join(' | ') || 'none'}`,
  ];
}

function errorsOf(result: StepResult): string[] {
  return result.annotations.filter((a) => a.level === 'error').map((a) => a.message);
}

function exitedCleanly(result: StepResult): boolean {
  return result.exitCode === 0 && !result.timedOut;
}

function exitedWith(result: StepResult, code: number): Array<string | false> {
  if (result.timedOut) return [`did not end within ${Math.round(result.durationMs / 1000)} s and was killed`];
  if (result.exitCode === code) return [];
  const errors = errorsOf(result);
  return [`exited ${result.exitCode ?? result.exitSignal}, not ${code}${errors.length ? `: ${errors.join(' | ')}` : ''}`];
}

/** The credentials assume-role exported are what the later steps of its job used. */
function madeAsProductionRole(stage: Stage, services: string[]): Array<string | false> {
  const calls = stage.sandbox.calls.all().filter((call) => services.includes(call.service));
  const prefix = `arn:aws:sts::${stage.sandbox.accountId}:assumed-role/nixos-deploy-production/`;
  const others = [...new Set(calls.filter((call) => !call.caller.startsWith(prefix)).map((call) => call.caller))];
  return [calls.length === 0 && `made no ${services.join('/')} calls`, others.length > 0 && `made calls as ${others.join(', ')}`];
}

/** What an instance does first: fetch the closure from the cache into an empty store that trusts only the demo key. */
async function substituteLikeAnInstance(stage: Stage, storePath: string): Promise<string[]> {
  const store = await stage.nix.folder('instance-store');
  try {
    await stage.nix.nix([
      'build', '--no-link', '--store', store, '--option', 'substituters', stage.cacheUri,
      '--option', 'trusted-public-keys', stage.key.public, '--option', 'require-sigs', 'true', storePath,
    ]);
    return [];
  } catch (error) {
    return [`a store trusting only the demo key could not fetch it from the cache: ${(error as Error).message}`];
  }
}
