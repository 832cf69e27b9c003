/**
 * instance-refresh with `readiness: lifecycle-hook`, end to end: the bundle, run as the runner runs it, against the
 * sandbox's EC2 and Auto Scaling, with the test playing the new instances. Each instance that waits in
 * `Pending:Wait` completes its lifecycle action as the user data does: a CompleteLifecycleAction signed (SigV4,
 * verified by the sandbox) with instance profile credentials the sandbox minted for it.
 *
 * Sandbox time stands still and the test moves it, a step at a time, while the bundle runs: an instance is answered
 * in the same sandbox second it starts waiting however slow the machine is, and a heartbeat timeout is reached only
 * when the test lets the clock run past it.
 */
import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { isMutating } from '../sandbox/call-log.js';
import { Sandbox } from '../sandbox/server.js';
import { MIN_GATE_HEARTBEAT_SECONDS } from '../instance-refresh/plan.js';
import { STORE_PATH } from './actions.js';
import { runAction, type StepResult } from './harness/runner.js';
import { assertNoSecrets } from './harness/secrets.js';

const sandbox = new Sandbox({ speed: 0 });
/** A run of the bundle takes seconds on a busy machine; the sandbox time it needs is the test's to give. */
jest.setTimeout(240_000);
beforeAll(() => sandbox.start());
afterAll(() => sandbox.stop());

const HOOK = 'nixos-ready';
const LAUNCHING = 'autoscaling:EC2_INSTANCE_LAUNCHING';
let templateId: string;

/** Template `web` and group `web` of four instances on version 1, with a launch hook unless a test changes it. */
beforeEach(() => {
  sandbox.reset();
  sandbox.clock.setSpeed(0);
  templateId = sandbox.ec2.createLaunchTemplate({
    name: 'web',
    data: {
      ImageId: 'ami-0123456789abcdef0',
      MetadataOptions: { HttpTokens: 'required', InstanceMetadataTags: 'enabled' },
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web' }] }],
    },
  }).id;
  sandbox.autoscaling.createGroup({ name: 'web', launchTemplate: { id: templateId, version: '1' }, desiredCapacity: 4 });
});

function putHook(name = HOOK, extra: Record<string, string> = {}): void {
  sandbox.autoscaling.operations.PutLifecycleHook(
    { AutoScalingGroupName: 'web', LifecycleHookName: name, LifecycleTransition: LAUNCHING, HeartbeatTimeout: '3600', DefaultResult: 'ABANDON', ...extra },
    { caller: 'administrator', requestId: 'r', sandbox },
  );
}

const GATED = { 'poll-interval-seconds': '1', 'instance-warmup': '60', readiness: 'lifecycle-hook' };

type Answer = 'CONTINUE' | 'ABANDON' | 'silent';

/**
 * Runs the step while playing the instances. Each instance newly in `Pending:Wait` answers what `answer` says for it
 * (its 1-based launch order), signed with its own instance profile credentials, once the step has looked at the
 * refresh while it waits (so the step's log shows the wait); `silent` never answers. Sandbox time moves
 * `STEP_SECONDS` every 20 ms once the refresh has started, and stands still while an answer is due.
 */
async function deployPlaying(answer: (nth: number) => Answer, inputs: Record<string, string> = {}): Promise<{ result: StepResult; answered: string[] }> {
  const answered: string[] = [];
  let ended = false;
  const running = runAction('instance-refresh', {
    env: sandbox.env(),
    inputs: { 'auto-scaling-group-name': 'web', 'store-path': STORE_PATH, ...GATED, ...inputs },
  }).finally(() => {
    ended = true;
  });
  const looks = () => sandbox.calls.of('DescribeInstanceRefreshes').length;
  const seen = new Set<string>();
  /** Instances to answer, with the step's number of looks when they began to wait. */
  const due = new Map<string, { result: 'CONTINUE' | 'ABANDON'; looks: number }>();
  while (!ended) {
    for (const { id, version: launched } of waitingInstances().filter((i) => !seen.has(i.id))) {
      seen.add(id);
      // As user-data.sh: an instance whose version lacks the gate's tags does not know the hook, and never reports.
      const result = carriesGate(launched) ? answer(seen.size) : 'silent';
      if (result !== 'silent') due.set(id, { result, looks: looks() });
    }
    for (const [id, { result, looks: before }] of due) {
      if (looks() <= before) continue;
      await complete(id, result);
      answered.push(id);
      due.delete(id);
    }
    if (due.size === 0 && sandbox.calls.of('StartInstanceRefresh').length > 0) sandbox.clock.advance(STEP_SECONDS * 1000);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { result: await running, answered };
}

const STEP_SECONDS = 20;

/** The instances in `Pending:Wait`, with the launch template version each was launched from. */
const waitingInstances = (): Array<{ id: string; version: number }> =>
  (sandbox.autoscaling.describeGroup('web').Instances as Array<{ InstanceId: string; LifecycleState: string; LaunchTemplate: { Version: string } }>)
    .filter((i) => i.LifecycleState === 'Pending:Wait')
    .map((i) => ({ id: i.InstanceId, version: Number(i.LaunchTemplate.Version) }));

/** Whether version `number`'s instances carry the tags user-data.sh reads the gate from, for group web's hook. */
function carriesGate(number: number): boolean {
  const specs = (version(number).data.TagSpecifications ?? []) as Array<{ ResourceType: string; Tags: Array<{ Key: string; Value: string }> }>;
  const tags = specs.find((spec) => spec.ResourceType === 'instance')?.Tags ?? [];
  return tags.some((t) => t.Key === 'AutoScalingGroupName' && t.Value === 'web') && tags.some((t) => t.Key === 'LifecycleHookName' && t.Value === HOOK);
}

/** What user-data.sh sends: CompleteLifecycleAction by instance ID, as the instance's role. */
async function complete(instanceId: string, result: 'CONTINUE' | 'ABANDON'): Promise<void> {
  const doc = sandbox.instanceProfileCredentials(instanceId, 'web-instance');
  const client = new AutoScalingClient({
    region: sandbox.region,
    endpoint: sandbox.url,
    credentials: { accessKeyId: doc.AccessKeyId, secretAccessKey: doc.SecretAccessKey, sessionToken: doc.Token },
    maxAttempts: 1,
  });
  try {
    await client.send(
      new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'web', LifecycleHookName: HOOK, InstanceId: instanceId, LifecycleActionResult: result }),
    );
  } finally {
    client.destroy();
  }
}

const errors = (result: StepResult) => result.annotations.filter((a) => a.level === 'error').map((a) => a.message);
const mutations = () => sandbox.calls.all().filter((call) => isMutating(call.operation)).map((call) => call.operation);
const version = (number: number) => sandbox.ec2.templates.get(templateId)!.versions.find((v) => v.number === number)!;
const groupVersion = () => (sandbox.autoscaling.describeGroup('web').LaunchTemplate as { Version: string }).Version;
const refresh = (id: string) =>
  (sandbox.autoscaling.operations.DescribeInstanceRefreshes({ AutoScalingGroupName: 'web', InstanceRefreshIds: [id] }, { caller: 't', requestId: 'r', sandbox }) as {
    InstanceRefreshes: Array<Record<string, unknown>>;
  }).InstanceRefreshes[0];

describe('readiness: lifecycle-hook', () => {
  it('deploys when every new instance reports CONTINUE, the gate on the new version (a first gated deploy, no rollback)', async () => {
    putHook();
    const { result, answered } = await deployPlaying(() => 'CONTINUE', { 'auto-rollback': 'false' });

    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.outputs.status).toBe('Successful');
    expect(result.outputs['abandoned-instances']).toBeUndefined();
    expect(groupVersion()).toBe('2');
    // The instance learns its group and hook from these tags (user-data.sh's AutoScalingGroupName, LifecycleHookName).
    expect(version(2).data.TagSpecifications).toEqual([
      {
        ResourceType: 'instance',
        Tags: [
          { Key: 'Name', Value: 'web' },
          { Key: 'NixStorePath', Value: STORE_PATH },
          { Key: 'AutoScalingGroupName', Value: 'web' },
          { Key: 'LifecycleHookName', Value: HOOK },
        ],
      },
    ]);
    // The hooks were read before anything changed; each of the four replacements waited and reported, as itself.
    const operations = sandbox.calls.all().map((call) => call.operation);
    expect(operations.indexOf('DescribeLifecycleHooks')).toBeLessThan(operations.indexOf('CreateLaunchTemplateVersion'));
    expect(answered).toHaveLength(4);
    expect(sandbox.calls.of('CompleteLifecycleAction').map((call) => [call.status, call.caller])).toEqual(
      answered.map((id) => [200, `arn:aws:sts::123456789012:assumed-role/web-instance/${id}`]),
    );
    expect(result.summary).toContain(`lifecycle hook ${HOOK}`);
    expect(result.stdout).toContain('Waiting for instances to complete lifecycle actions');
    assertNoSecrets(result, sandbox.sts.issuedSecrets());
  });

  it('fails fast when an instance reports ABANDON: rolled back, the instance and the reason named', async () => {
    putHook();
    tagVersion1();
    // The third and fourth instances are the rollback's, from version 1, which wait on the hook too and report.
    const { result, answered } = await deployPlaying((nth) => (nth === 2 ? 'ABANDON' : 'CONTINUE'));
    expect(answered).toHaveLength(4);

    expect(result.exitCode).toBe(1);
    const abandoned = answered[1];
    expect(result.outputs['abandoned-instances']).toBe(abandoned);
    expect(result.outputs.status).toBe('RollbackSuccessful');
    expect(groupVersion()).toBe('1');
    const why = `Instance failed to complete user's Lifecycle Action: Lifecycle Action with token`;
    expect(errors(result)).toEqual([expect.stringMatching(new RegExp(`^Deploy failed, group rolled back to version 1: .*${abandoned}.*${why}.*Lifecycle Action Completed with ABANDON Result$`))]);
    expect(result.summary).toContain('Abandoned instances');
    expect(result.summary).toMatch(new RegExp(`${abandoned}.*Lifecycle Action Completed with ABANDON Result`));
    // At once: the rollback began when the ABANDON was answered, not after a warmup or a health check.
    const abandonCall = sandbox.calls.of('CompleteLifecycleAction').find((call) => call.params.LifecycleActionResult === 'ABANDON')!;
    const details = refresh(result.outputs['instance-refresh-id']).RollbackDetails as { RollbackStartTime: Date };
    expect(details.RollbackStartTime.toISOString()).toBe(abandonCall.at);
  });

  it('fails when an instance never reports: the heartbeat timeout applies DefaultResult ABANDON', async () => {
    putHook(HOOK, { HeartbeatTimeout: String(MIN_GATE_HEARTBEAT_SECONDS) });
    tagVersion1();
    // The first instance never reports; the second is the rollback's, which reports.
    const { result } = await deployPlaying((nth) => (nth === 1 ? 'silent' : 'CONTINUE'));

    expect(result.exitCode).toBe(1);
    expect(result.outputs['abandoned-instances']).toMatch(/^i-[0-9a-f]{17}$/);
    expect(result.outputs.status).toBe('RollbackSuccessful');
    expect(errors(result)).toEqual([expect.stringMatching(/was abandoned: Heartbeat Timeout$/)]);
    expect(sandbox.calls.of('CompleteLifecycleAction').map((call) => call.params.LifecycleActionResult)).toEqual(['CONTINUE']);
    // The refresh waited the hook's heartbeat (from its start after 5 s Pending), then rolled back.
    const details = refresh(result.outputs['instance-refresh-id']).RollbackDetails as { RollbackStartTime: Date };
    const started = new Date(sandbox.calls.of('StartInstanceRefresh')[0].at).getTime();
    expect(details.RollbackStartTime.getTime() - started).toBe((MIN_GATE_HEARTBEAT_SECONDS + 5) * 1000);
  });

  it("fails the rollback when the rollback's own launches never report: the hook holds them too, as on AWS", async () => {
    putHook();
    tagVersion1();
    // The first instance abandons; the rollback's instance, launched from version 1, never reports.
    const { result } = await deployPlaying((nth) => (nth === 1 ? 'ABANDON' : 'silent'));

    expect(result.exitCode).toBe(1);
    expect(result.outputs.status).toBe('RollbackFailed');
    expect(sandbox.calls.of('CompleteLifecycleAction').map((call) => call.params.LifecycleActionResult)).toEqual(['ABANDON']);
    const found = refresh(result.outputs['instance-refresh-id']);
    expect(found.StatusReason).toMatch(/^The rollback failed: .*an instance the rollback launched was abandoned by lifecycle hook nixos-ready\..*Heartbeat Timeout/);
    // It waited the hook's whole heartbeat (3600 s) after the rollback began.
    const details = found.RollbackDetails as { RollbackStartTime: Date };
    expect((found.EndTime as Date).getTime() - details.RollbackStartTime.getTime()).toBe(3600_000);
  });

  /** [case, hooks to put, inputs, the error]. */
  it.each<[string, () => void, Record<string, string>, RegExp]>([
    ['a group without a launch hook', () => undefined, {}, /^Group web has no autoscaling:EC2_INSTANCE_LAUNCHING lifecycle hook.*Add one: aws autoscaling put-lifecycle-hook --auto-scaling-group-name web --lifecycle-hook-name nixos-ready --lifecycle-transition autoscaling:EC2_INSTANCE_LAUNCHING --heartbeat-timeout 3600 --default-result ABANDON\nNothing was changed\.$/s],
    ['a group with only a terminate hook', () => putHook('drain', { LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' }), {}, /has no autoscaling:EC2_INSTANCE_LAUNCHING lifecycle hook/],
    ['a hook whose heartbeat is too short for a first boot', () => putHook(HOOK, { HeartbeatTimeout: '300' }), {}, /^Lifecycle hook nixos-ready of group web times out after 300 s .* Raise it: aws autoscaling put-lifecycle-hook --auto-scaling-group-name web --lifecycle-hook-name nixos-ready .*--heartbeat-timeout 3600/s],
    ['two launch hooks and none named', () => (putHook('a'), putHook('b')), {}, /has the autoscaling:EC2_INSTANCE_LAUNCHING lifecycle hooks a, b: so which one .* \(input 'lifecycle-hook-name'\)/],
    ['a named hook the group does not have', () => putHook(), { 'lifecycle-hook-name': 'other' }, /none named "other"/],
    ['a first gated deploy with auto-rollback: the rollback version lacks the gate tags', () => putHook(), {}, /^A rollback would launch launch template lt-[0-9a-f]+ version 1, whose instances lack the tags AutoScalingGroupName=web and LifecycleHookName=nixos-ready: .*auto-rollback: false.*\nNothing was changed\.$/s],
    ["a rollback version tagged for another hook", () => (putHook(), tagVersion1('old')), {}, /^A rollback would launch .* LifecycleHookName=nixos-ready:/],
  ])('refuses %s before any change, saying what to add', async (_case, seed, inputs, message) => {
    seed();
    const result = await runAction('instance-refresh', {
      env: sandbox.env(),
      inputs: { 'auto-scaling-group-name': 'web', 'store-path': STORE_PATH, ...GATED, ...inputs },
    });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringMatching(message)]);
    expect(sandbox.calls.of('DescribeLifecycleHooks')).toHaveLength(1);
    expect(mutations()).toEqual([]);
  });

  it.each<[Record<string, string>, string]>([
    [{ readiness: 'hook' }, 'readiness'],
    [{ readiness: 'none', 'lifecycle-hook-name': HOOK }, 'lifecycle-hook-name'],
    [{ 'lifecycle-hook-name': 'nixos ready' }, 'lifecycle-hook-name'],
    [{ tags: 'LifecycleHookName=other' }, 'tags'],
    [{ 'store-path-tag': 'AutoScalingGroupName' }, 'store-path-tag'],
  ])('%j fails naming %s, before any AWS call', async (inputs, input) => {
    const result = await runAction('instance-refresh', {
      env: sandbox.env(),
      inputs: { 'auto-scaling-group-name': 'web', 'store-path': STORE_PATH, ...GATED, ...inputs },
    });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining(`'${input}'`)]);
    expect(sandbox.calls.all()).toEqual([]);
  });
});

/** Puts the gate's tags for hook `hook` of group `web` on template version 1, as an earlier gated deploy leaves them. */
function tagVersion1(hook = HOOK): void {
  const gated = sandbox.ec2.templates.get(templateId)!.versions[0].data;
  (gated.TagSpecifications as Array<{ Tags: Array<{ Key: string; Value: string }> }>)[0].Tags.push(
    { Key: 'AutoScalingGroupName', Value: 'web' },
    { Key: 'LifecycleHookName', Value: hook },
  );
}

describe('readiness: none', () => {
  /** [case, whether the group still has the launch hook]. The instances complete the hook whenever it holds them. */
  it.each<[string, boolean]>([
    ['a group that still has the launch hook: the kept tags let the new instances end their wait', true],
    ['a group whose hook was deleted: the kept tags are harmless', false],
  ])("keeps an earlier gated deploy's tags on %s", async (_case, hook) => {
    if (hook) putHook();
    tagVersion1();
    const { result, answered } = await deployPlaying(() => 'CONTINUE', { readiness: 'none' });

    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.outputs.status).toBe('Successful');
    expect(groupVersion()).toBe('2');
    expect(answered).toHaveLength(hook ? 4 : 0);
    expect(sandbox.calls.of('DescribeLifecycleHooks')).toEqual([]);
    expect(version(2).data.TagSpecifications).toEqual([
      {
        ResourceType: 'instance',
        Tags: [
          { Key: 'Name', Value: 'web' },
          { Key: 'AutoScalingGroupName', Value: 'web' },
          { Key: 'LifecycleHookName', Value: HOOK },
          { Key: 'NixStorePath', Value: STORE_PATH },
        ],
      },
    ]);
  });
});
