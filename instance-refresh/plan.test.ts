import { readFileSync } from 'node:fs';
import type { AutoScalingGroup, InstanceRefresh, StartInstanceRefreshCommandInput } from '@aws-sdk/client-auto-scaling';
import type { LaunchTemplateTagSpecification } from '@aws-sdk/client-ec2';
import { describe, expect, it } from '@jest/globals';
import { PUBLIC_KEY_SOURCE } from '../shared/store-uri.js';
import { readInputs } from './inputs.js';
import {
  abandonedInstances,
  checkGate,
  checkGroupVersion,
  chooseTemplate,
  clientToken,
  groupTemplate,
  imageCheck,
  imagesToDescribe,
  inProgressAction,
  isRequestedRefresh,
  launchProblems,
  mergeTagSpecifications,
  progressLine,
  progressPoint,
  refreshRequest,
  refreshTabUrl,
  rollbackTarget,
  tagKeyProblem,
  tagValueProblem,
  unfinishedWait,
  verdict,
  versionDescription,
  versionRequest,
  MIN_GATE_HEARTBEAT_SECONDS,
  USER_DATA_WORST_CASE_SECONDS,
  rollbackGateProblem,
  type InProgressAction,
  type LaunchCheck,
  type Tag,
  type TemplateRef,
  type Verdict,
  type VersionCheck,
} from './plan.js';

const STORE_PATH = '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05';

const ID = 'lt-0123456789abcdef0';

describe('groupTemplate', () => {
  it.each<[string, Partial<AutoScalingGroup>, TemplateRef | RegExp]>([
    ['a launch template', { LaunchTemplate: { LaunchTemplateId: ID, LaunchTemplateName: 'web', Version: '3' } }, { id: ID, name: 'web', version: '3' }],
    ['no version held', { LaunchTemplate: { LaunchTemplateName: 'web' } }, { id: undefined, name: 'web', version: '$Default' }],
    ['a mixed instances policy', { MixedInstancesPolicy: {}, LaunchTemplate: undefined }, /mixed instances policy/],
    ['a launch configuration', { LaunchConfigurationName: 'old' }, /has no launch template/],
  ])('%s', (_case, group, expected) => {
    const read = () => groupTemplate({ AutoScalingGroupName: 'web', ...group } as AutoScalingGroup);
    if (expected instanceof RegExp) expect(read).toThrow(expected);
    else expect(read()).toEqual(expected);
  });
});

describe('chooseTemplate', () => {
  const group: TemplateRef = { id: ID, name: 'web', version: '3' };
  it.each<[string, string, TemplateRef]>([
    ['no input', '', group],
    ["the group's ID", ID, group],
    ["the group's name", 'web', group],
    ['another ID', 'lt-0fedcba9876543210', { id: 'lt-0fedcba9876543210', version: '$Default' }],
    ['another name', 'web-next', { name: 'web-next', version: '$Default' }],
    ['a name that looks like an ID', 'lt-next', { name: 'lt-next', version: '$Default' }],
  ])('%s', (_case, input, expected) => {
    expect(chooseTemplate(group, input)).toEqual(expected);
  });
});

describe('checkGroupVersion', () => {
  const at = (version: string): TemplateRef => ({ id: ID, version });
  const other: TemplateRef = { name: 'other', version: '$Default' };
  it.each<[string, boolean, boolean, VersionCheck | 'error' | 'warning']>([
    ['3', true, false, {}],
    ['$Latest', true, false, 'error'],
    ['$Default', true, false, 'error'],
    ['$Latest', false, false, 'warning'],
    ['$Latest', false, true, {}],
    ['$Default', false, false, {}],
  ])('version %s, auto-rollback %s, other template %s', (version, autoRollback, otherTemplate, expected) => {
    const group = at(version);
    const check = checkGroupVersion(group, otherTemplate ? other : group, autoRollback);
    if (expected === 'error') expect(check).toEqual({ error: expect.stringContaining(`version ${version}`) });
    else if (expected === 'warning') expect(check).toEqual({ warning: expect.stringContaining('launches $Latest') });
    else expect(check).toEqual(expected);
  });
});

describe('rollbackTarget', () => {
  const group: TemplateRef = { id: ID, name: 'web', version: '3' };
  it.each<[string, TemplateRef, number | string]>([
    ["the group's template, made from the version it runs", group, 3],
    ['another template', { name: 'web-next', version: '$Default' }, '3 of launch template web'],
  ])('%s', (_case, chosen, expected) => {
    expect(rollbackTarget(group, chosen, 3)).toBe(expected);
  });
});

const PATH_TAG = { key: 'NixStorePath', value: '/nix/store/new' };

describe('mergeTagSpecifications', () => {
  it.each<[string, LaunchTemplateTagSpecification[] | undefined, Tag[], object[]]>([
    ['no specifications', undefined, [PATH_TAG], [{ ResourceType: 'instance', Tags: [{ Key: 'NixStorePath', Value: '/nix/store/new' }] }]],
    [
      'other resources only: an instance specification is added after them',
      [{ ResourceType: 'volume', Tags: [{ Key: 'Team', Value: 'web' }] }],
      [PATH_TAG],
      [
        { ResourceType: 'volume', Tags: [{ Key: 'Team', Value: 'web' }] },
        { ResourceType: 'instance', Tags: [{ Key: 'NixStorePath', Value: '/nix/store/new' }] },
      ],
    ],
    [
      'a held key keeps its place, new keys follow, other tags and resources stay',
      [
        { ResourceType: 'network-interface', Tags: [{ Key: 'Team', Value: 'web' }] },
        {
          ResourceType: 'instance',
          Tags: [
            { Key: 'Name', Value: 'web' },
            { Key: 'NixStorePath', Value: '/nix/store/old' },
            { Key: 'Substituters', Value: 's3://cache' },
          ],
        },
      ],
      [PATH_TAG, { key: 'Role', value: 'web' }],
      [
        { ResourceType: 'network-interface', Tags: [{ Key: 'Team', Value: 'web' }] },
        {
          ResourceType: 'instance',
          Tags: [
            { Key: 'Name', Value: 'web' },
            { Key: 'NixStorePath', Value: '/nix/store/new' },
            { Key: 'Substituters', Value: 's3://cache' },
            { Key: 'Role', Value: 'web' },
          ],
        },
      ],
    ],
    ['a specification without tags', [{ ResourceType: 'instance' }], [PATH_TAG], [{ ResourceType: 'instance', Tags: [{ Key: 'NixStorePath', Value: '/nix/store/new' }] }]],
  ])('%s', (_case, existing, tags, expected) => {
    expect(mergeTagSpecifications(existing, tags)).toEqual(expected);
  });

  it('leaves what it was given alone', () => {
    const existing = [{ ResourceType: 'instance' as const, Tags: [{ Key: 'NixStorePath', Value: '/nix/store/old' }] }];
    mergeTagSpecifications(existing, [PATH_TAG]);
    expect(existing[0].Tags[0].Value).toBe('/nix/store/old');
  });

  it("refuses to go over EC2's 50 tags", () => {
    const held = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    expect(() => mergeTagSpecifications([{ ResourceType: 'instance', Tags: held }], [PATH_TAG])).toThrow(
      "The instance tags would number 51, over EC2's limit of 50 per instance.",
    );
  });
});

const KEY = `cache-1:${'A'.repeat(43)}=`;

describe('tag keys', () => {
  it.each<[string, string | undefined]>([
    ['NixStorePath', undefined],
    ['team:web@eu,1=a+b_c-d.e', undefined],
    ['k8s.io/cluster-autoscaler/enabled', 'has "/": with MetadataOptions.InstanceMetadataTags enabled'],
    ['Cost Center', 'has a space:'],
    ['Größe', 'has "ö", "ß":'],
    ['tab\there', 'has "\\t":'],
    ['.', 'cannot be served by instance metadata'],
    ['..', 'cannot be served by instance metadata'],
    ['_index', 'cannot be served by instance metadata'],
    ['...', undefined],
    ['aws:nix', 'starts with aws:'],
    ['AWS:nix', 'starts with aws:'],
    ['', 'is 0 characters long; EC2 takes 1-128'],
    ['k'.repeat(129), 'is 129 characters long'],
    ['k'.repeat(128), undefined],
  ])('%j: %s', (key, problem) => {
    if (problem === undefined) expect(tagKeyProblem(key)).toBeUndefined();
    else expect(tagKeyProblem(key)).toContain(problem);
  });

  it("lets AWS's own keys on a group pass", () => {
    expect(tagKeyProblem('aws:cloudformation:stack-name', true)).toBeUndefined();
  });
});

describe('tag values', () => {
  it.each<[string, string, string | undefined]>([
    ['Substituters', 's3://cache?region=eu-central-1 https://cache.example.org?priority=10', undefined],
    ['Substituters', '', undefined],
    ['Substituters', 's3://cache?trusted=1', '"s3://cache?trusted=1" (refused settings: trusted), which the user data refuses'],
    ['Substituters', 's3://a s3://cache?secret-key=/etc/key', '(refused settings: secret-key)'],
    ['Substituters', 's3://cache?%74rusted=1', '(refused settings: trusted)'],
    ['Substituters', 'ftp://cache', 'has "ftp://cache", which the user data refuses'],
    ['Substituters', 's3://a\ts3://b', 'has control characters'],
    ['TrustedPublicKeys', `${KEY} other-1:${'B'.repeat(43)}=`, undefined],
    ['TrustedPublicKeys', 'cache-1:short=', 'has "cache-1:short=", which the user data refuses'],
    ['TrustedPublicKeys', `me@cache-1:${'A'.repeat(43)}=`, undefined],
    ['TrustedPublicKeys', `me cache-1:${'A'.repeat(43)}=`, 'has "me", which the user data refuses'],
    ['TrustedPublicKeys', `$(reboot):${'A'.repeat(43)}=`, 'which the user data refuses: each item must be a Nix public key, name:<44 characters of base64>'],
    ['TrustedPublicKeys', `a/b:${'A'.repeat(43)}=`, 'which the user data refuses'],
    ['TrustedPublicKeys', `:${'A'.repeat(43)}=`, 'which the user data refuses'],
    ['NixStorePath', STORE_PATH, undefined],
    ['NixStorePath', 'garbage', 'is "garbage", which the user data refuses (powering the instance off): it must be a full store path'],
    ['NixStorePath', '', 'is "", which the user data refuses'],
    ['NixStorePath', `${STORE_PATH}\n`, 'which the user data refuses'],
    ['NixStorePath', '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpe-x', 'which the user data refuses'],
    ['nixstorepath', 'garbage', undefined],
    ['Note', 'x'.repeat(256), undefined],
    ['Note', 'x'.repeat(257), 'is 257 characters long; EC2 takes at most 256'],
    ['Note', 's3://cache?trusted=1', undefined],
  ])('%s=%j: %s', (key, value, problem) => {
    if (problem === undefined) expect(tagValueProblem(key, value)).toBeUndefined();
    else expect(tagValueProblem(key, value)).toContain(problem);
  });

  it("checks public keys with user-data.sh's own pattern, the one public-key rule (shared/store-uri.ts)", () => {
    const script = readFileSync(new URL('./user-data.sh', import.meta.url), 'utf8');
    expect(script).toContain(`PUBLIC_KEY_PATTERN='^${PUBLIC_KEY_SOURCE}$'`);
  });
});

describe('a launch from the new version', () => {
  const TEMPLATE_TAGS = [{ Key: 'Name', Value: 'web' }, { Key: 'Substituters', Value: 's3://cache?region=eu-central-1' }];
  const fine: LaunchCheck = {
    template: 'launch template lt-0123456789abcdef0 version 3',
    groupName: 'web',
    metadataOptions: { InstanceMetadataTags: 'enabled', HttpTokens: 'required' } as LaunchCheck['metadataOptions'],
    tagSpecifications: [
      { ResourceType: 'instance', Tags: TEMPLATE_TAGS },
      { ResourceType: 'volume', Tags: [{ Key: 'backup/daily', Value: 'yes' }] },
    ],
    groupTags: [
      { Key: 'Environment', Value: 'production', PropagateAtLaunch: true },
      { Key: 'aws:cloudformation:stack-name', Value: 'web', PropagateAtLaunch: true },
      { Key: 'billing/team', Value: 'web', PropagateAtLaunch: false },
    ],
    storePathTag: 'NixStorePath',
    storePath: STORE_PATH,
    tags: [{ key: 'Role', value: 'web' }],
  };
  const instanceTags = (tags: Array<{ Key: string; Value: string }>) => [{ ResourceType: 'instance', Tags: tags }];
  const many = (count: number) => Array.from({ length: count }, (_, i) => ({ Key: `t${i}`, Value: '' }));

  it('passes a template and group that launch, ignoring volume tags and tags not propagated', () => {
    expect(launchProblems(fine)).toEqual([]);
  });

  it.each<[string, Partial<LaunchCheck>, string[]]>([
    [
      'metadata tags disabled',
      { metadataOptions: { InstanceMetadataTags: 'disabled' } },
      ['The launch template lt-0123456789abcdef0 version 3 has MetadataOptions.InstanceMetadataTags disabled: new instances could not read the NixStorePath tag, and the user data powers them off. Set MetadataOptions.InstanceMetadataTags to enabled in the launch template.'],
    ],
    ['no metadata options', { metadataOptions: undefined }, ['has MetadataOptions.InstanceMetadataTags unset (disabled)']],
    [
      'instance metadata switched off',
      { metadataOptions: { InstanceMetadataTags: 'enabled', HttpEndpoint: 'disabled' } },
      ['has MetadataOptions.HttpEndpoint disabled'],
    ],
    [
      'a template instance tag with /',
      { tagSpecifications: instanceTags([...TEMPLATE_TAGS, { Key: 'k8s.io/cluster-autoscaler/enabled', Value: 'true' }]) },
      ['Tag key "k8s.io/cluster-autoscaler/enabled" (an instance tag of launch template lt-0123456789abcdef0 version 3) has "/"'],
    ],
    [
      'a template instance tag with a space',
      { tagSpecifications: instanceTags([{ Key: 'Cost Center', Value: '42' }]) },
      ['Tag key "Cost Center" (an instance tag of launch template lt-0123456789abcdef0 version 3) has a space'],
    ],
    [
      'a group tag with / propagated at launch',
      { groupTags: [{ Key: 'kubernetes.io/cluster/web', Value: 'owned', PropagateAtLaunch: true }] },
      ['Tag key "kubernetes.io/cluster/web" (a tag of group web with PropagateAtLaunch) has "/"'],
    ],
    [
      'a template substituter that skips signatures',
      { tagSpecifications: instanceTags([{ Key: 'Substituters', Value: 's3://cache?trusted=1' }]) },
      ['The value of tag "Substituters" (an instance tag of launch template lt-0123456789abcdef0 version 3) has "s3://cache?trusted=1" (refused settings: trusted)'],
    ],
    [
      'a group tag over the store path',
      { groupTags: [{ Key: 'NixStorePath', Value: STORE_PATH, PropagateAtLaunch: true }] },
      ['Tag "NixStorePath" is a tag of group web with PropagateAtLaunch, which Auto Scaling puts on new instances over the launch template\'s: the value this deploy sets would never reach them.'],
    ],
    [
      'a template store path that is not one, the store path carried by another tag',
      { storePathTag: 'Name', tagSpecifications: instanceTags([{ Key: 'NixStorePath', Value: 'garbage' }]) },
      ['The value of tag "NixStorePath" (an instance tag of launch template lt-0123456789abcdef0 version 3) is "garbage", which the user data refuses'],
    ],
    [
      'a tags input store path that is not one, the store path carried by another tag',
      { storePathTag: 'Name', tags: [{ key: 'NixStorePath', value: 'garbage' }] },
      ['The value of tag "NixStorePath" (input \'tags\') is "garbage", which the user data refuses'],
    ],
    [
      'a propagated group store path that is not one, the store path carried by another tag',
      { storePathTag: 'Name', groupTags: [{ Key: 'NixStorePath', Value: '/nix/store/x', PropagateAtLaunch: true }] },
      ['The value of tag "NixStorePath" (a tag of group web with PropagateAtLaunch) is "/nix/store/x", which the user data refuses'],
    ],
    [
      'a group tag over a tags input',
      { groupTags: [{ Key: 'Role', Value: 'api', PropagateAtLaunch: true }] },
      ['Tag "Role" is a tag of group web with PropagateAtLaunch'],
    ],
    [
      'a group key with a bad substituter',
      { groupTags: [{ Key: 'Substituters', Value: 'https://cache?require-sigs=false', PropagateAtLaunch: true }] },
      ['The value of tag "Substituters" (a tag of group web with PropagateAtLaunch) has "https://cache?require-sigs=false" (refused settings: require-sigs)'],
    ],
    [
      '52 tags with the group\'s',
      { tagSpecifications: instanceTags(many(45)), groupTags: many(50).slice(45).map((t) => ({ ...t, Key: `g${t.Key}`, PropagateAtLaunch: true })) },
      ["New instances would carry 52 tags (the launch template's, this deploy's and the group's with PropagateAtLaunch), over EC2's limit of 50 per instance."],
    ],
  ])('refuses %s', (_case, change, expected) => {
    const problems = launchProblems({ ...fine, ...change });
    expect(problems).toHaveLength(expected.length);
    expected.forEach((text, i) => expect(problems[i]).toContain(text));
  });

  it('passes a valid store path in NixStorePath when another tag carries the store path', () => {
    const check = { ...fine, storePathTag: 'Name', tagSpecifications: instanceTags([{ Key: 'NixStorePath', Value: STORE_PATH }]) };
    expect(launchProblems(check)).toEqual([]);
  });

  it('counts 50 tags as within the limit, AWS-owned ones aside', () => {
    const check = { ...fine, tagSpecifications: instanceTags(many(47)), groupTags: fine.groupTags };
    // 47 + NixStorePath + Role + Environment = 50; aws:cloudformation:stack-name does not count.
    expect(launchProblems(check)).toEqual([]);
  });
});

const RUN = { GITHUB_REPOSITORY: 'octo-org/octo-repo', GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '1' };

describe('clientToken', () => {
  const token = clientToken(RUN, 'web', STORE_PATH);

  it.each<[string, NodeJS.ProcessEnv, string, string, boolean]>([
    ['the same run, group and store path', RUN, 'web', STORE_PATH, true],
    ['another attempt', { ...RUN, GITHUB_RUN_ATTEMPT: '2' }, 'web', STORE_PATH, false],
    ['another run', { ...RUN, GITHUB_RUN_ID: '43' }, 'web', STORE_PATH, false],
    ['another repository', { ...RUN, GITHUB_REPOSITORY: 'octo-org/other' }, 'web', STORE_PATH, false],
    ['another group', RUN, 'api', STORE_PATH, false],
    ['another store path', RUN, 'web', STORE_PATH.replace('web-25.05', 'web-25.11'), false],
  ])('%s: same token %s', (_case, env, group, path, same) => {
    expect(clientToken(env, group, path) === token).toBe(same);
  });

  it("is EC2's form, and none outside a workflow run", () => {
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(clientToken({}, 'web', STORE_PATH)).toBeUndefined();
  });
});

describe('versionDescription', () => {
  it.each<[string, NodeJS.ProcessEnv, string]>([
    ['in a run', RUN, `${STORE_PATH}, octo-org/octo-repo run 42 attempt 1`],
    ['outside a run', {}, STORE_PATH],
    ['a store path that leaves no room', RUN, `/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-${'n'.repeat(211)}`],
  ])('%s', (_case, env, expected) => {
    const path = expected.split(',')[0];
    expect(versionDescription(path, env)).toBe(expected);
    expect(versionDescription(path, env).length).toBeLessThanOrEqual(255);
  });
});

describe('versionRequest', () => {
  it('makes the version from the source with the store path tag first, then the tags', () => {
    const request = versionRequest({
      templateId: 'lt-0123456789abcdef0',
      sourceVersion: 7,
      sourceTagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web' }] }],
      storePath: STORE_PATH,
      storePathTag: 'System',
      tags: [{ key: 'Substituters', value: 's3://cache' }],
      groupName: 'web',
      env: RUN,
    });
    expect(request).toEqual({
      LaunchTemplateId: 'lt-0123456789abcdef0',
      SourceVersion: '7',
      VersionDescription: `${STORE_PATH}, octo-org/octo-repo run 42 attempt 1`,
      ClientToken: clientToken(RUN, 'web', STORE_PATH),
      LaunchTemplateData: {
        TagSpecifications: [
          {
            ResourceType: 'instance',
            Tags: [
              { Key: 'Name', Value: 'web' },
              { Key: 'System', Value: STORE_PATH },
              { Key: 'Substituters', Value: 's3://cache' },
            ],
          },
        ],
      },
    });
  });
});

describe('versionRequest and the readiness gate', () => {
  const gated = [{ Key: 'Name', Value: 'web' }, { Key: 'AutoScalingGroupName', Value: 'old' }, { Key: 'LifecycleHookName', Value: 'old' }];
  const instanceTags = (gateHook: string | undefined, source = gated) =>
    versionRequest({
      templateId: ID,
      sourceVersion: 1,
      sourceTagSpecifications: [{ ResourceType: 'instance', Tags: source }, { ResourceType: 'volume', Tags: gated }],
      storePath: STORE_PATH,
      storePathTag: 'NixStorePath',
      tags: [],
      groupName: 'web',
      env: {},
      gateHook,
    }).LaunchTemplateData!.TagSpecifications;
  it.each<[string, string | undefined, Array<{ Key: string; Value: string }>]>([
    ['with the gate: group and hook set over an earlier value', 'ready', [{ Key: 'Name', Value: 'web' }, { Key: 'AutoScalingGroupName', Value: 'web' }, { Key: 'LifecycleHookName', Value: 'ready' }, { Key: 'NixStorePath', Value: STORE_PATH }]],
    ['without it: an earlier deploy\'s gate tags kept, which a hook still on the group waits for', undefined, [...gated, { Key: 'NixStorePath', Value: STORE_PATH }]],
  ])('%s (only on instances)', (_name, hook, tags) => {
    expect(instanceTags(hook)).toEqual([{ ResourceType: 'instance', Tags: tags }, { ResourceType: 'volume', Tags: gated }]);
  });
});

describe('checkGate', () => {
  const hook = (name: string, heartbeat?: number, transition = 'autoscaling:EC2_INSTANCE_LAUNCHING', defaultResult = 'ABANDON') => ({
    LifecycleHookName: name,
    AutoScalingGroupName: 'web',
    LifecycleTransition: transition,
    HeartbeatTimeout: heartbeat,
    DefaultResult: defaultResult,
  });
  it.each<[string, string, ReturnType<typeof hook>[], string, object]>([
    ['the only launch hook', 'web', [hook('ready', 3600), hook('drain', 30, 'autoscaling:EC2_INSTANCE_TERMINATING')], '', { hook: 'ready', warning: undefined }],
    ['the floor itself', 'web', [hook('ready', MIN_GATE_HEARTBEAT_SECONDS)], '', { hook: 'ready' }],
    ["AWS's default heartbeat (3600 s, unset in the answer)", 'web', [hook('ready')], '', { hook: 'ready' }],
    ['the named one of two, warning about the other', 'web', [hook('a', 3600), hook('b', 3600)], 'b', { hook: 'b', warning: expect.stringContaining('other launch hooks (a) must be completed by something else') }],
    ['a lenient default result, with a warning', 'web', [hook('ready', 3600, undefined, 'CONTINUE')], '', { hook: 'ready', warning: expect.stringContaining("DefaultResult is CONTINUE") }],
    ['no hook', 'web', [], '', { error: expect.stringMatching(/^Group web has no autoscaling:EC2_INSTANCE_LAUNCHING lifecycle hook.*--heartbeat-timeout 3600 --default-result ABANDON$/) }],
    ['only a terminate hook', 'web', [hook('drain', 3600, 'autoscaling:EC2_INSTANCE_TERMINATING')], '', { error: expect.stringContaining('has no autoscaling:EC2_INSTANCE_LAUNCHING') }],
    ['a heartbeat below the floor', 'web', [hook('ready', MIN_GATE_HEARTBEAT_SECONDS - 1)], '', { error: expect.stringContaining(`times out after ${MIN_GATE_HEARTBEAT_SECONDS - 1} s`) }],
    ['two and none named', 'web', [hook('a', 3600), hook('b', 3600)], '', { error: expect.stringContaining("hooks a, b: so which one the instances complete must be named (input 'lifecycle-hook-name')") }],
    ['a name the group does not have', 'web', [hook('a', 3600)], 'c', { error: expect.stringContaining('none named "c"') }],
    ['a group name the user data refuses', 'web api', [hook('a', 3600)], '', { error: expect.stringContaining('group name of A-Z a-z 0-9 . / _ -') }],
  ])('%s', (_name, group, hooks, wanted, expected) => {
    expect(checkGate(group, hooks, wanted)).toEqual(expected);
  });
});

describe('abandonedInstances', () => {
  const launch = (id: string, why: string) =>
    `Launching a new EC2 instance: ${id}. Status Reason: Instance failed to complete user's Lifecycle Action: Lifecycle Action with token t was abandoned: ${why}`;
  it.each<[string, string | undefined, object[]]>([
    ['none', 'Instances failed health checks.', []],
    ['no reason', undefined, []],
    ['one, after the refresh\'s own words', `The instance refresh failed. ${launch('i-0123456789abcdef0', 'Heartbeat Timeout')}`, [{ instanceId: 'i-0123456789abcdef0', reason: "Instance failed to complete user's Lifecycle Action: Lifecycle Action with token t was abandoned: Heartbeat Timeout" }]],
    ['two', `${launch('i-0aaaaaaaaaaaaaaaa', 'Heartbeat Timeout')} ${launch('i-0bbbbbbbbbbbbbbbb', 'Lifecycle Action Completed with ABANDON Result')}`, [
      { instanceId: 'i-0aaaaaaaaaaaaaaaa', reason: expect.stringMatching(/Heartbeat Timeout$/) },
      { instanceId: 'i-0bbbbbbbbbbbbbbbb', reason: expect.stringMatching(/ABANDON Result$/) },
    ]],
    ['an instance ID that is not one', launch('i-$(reboot)', 'x'), []],
  ])('%s', (_name, reason, expected) => {
    expect(abandonedInstances(reason)).toEqual(expected);
  });
});

describe('versionRequest with an image', () => {
  const input = {
    templateId: 'lt-0123456789abcdef0',
    sourceVersion: 7,
    sourceTagSpecifications: undefined,
    storePath: STORE_PATH,
    storePathTag: 'NixStorePath',
    tags: [],
    groupName: 'web',
    env: RUN,
  };

  it('sets ImageId, names the image in the description, and makes another token than without it', () => {
    const request = versionRequest({ ...input, imageId: 'ami-0123456789abcdef0' });
    expect(request.LaunchTemplateData).toMatchObject({ ImageId: 'ami-0123456789abcdef0' });
    expect(request.VersionDescription).toBe(`${STORE_PATH} on ami-0123456789abcdef0, octo-org/octo-repo run 42 attempt 1`);
    expect(request.ClientToken).not.toBe(versionRequest(input).ClientToken);
    expect(request.ClientToken).not.toBe(versionRequest({ ...input, imageId: 'ami-0123abcd' }).ClientToken);
  });

  it('leaves the image to the source version without it', () => {
    expect(versionRequest(input).LaunchTemplateData).not.toHaveProperty('ImageId');
  });
});

const TARGET = { templateId: 'lt-0123456789abcdef0', version: 8 };
const request = (values: Record<string, string>) =>
  refreshRequest(
    readInputs((name) => ({ 'auto-scaling-group-name': 'web', 'store-path': STORE_PATH, ...values })[name] ?? '', { AWS_REGION: 'us-east-1' }),
    TARGET,
  );

describe('imageCheck: the AMI of image-id, before a version launches it', () => {
  const NEW = 'ami-0fedcba9876543210';
  const OLD = 'ami-0123456789abcdef0';
  const x86 = (id: string, State = 'available') => ({ ImageId: id, State, Architecture: 'x86_64' });
  const arm = (id: string, State = 'available') => ({ ImageId: id, State, Architecture: 'arm64' });
  const check = (images: Array<{ ImageId: string; State: string; Architecture: string }>, sourceImageId: string | null = OLD) =>
    imageCheck({ imageId: NEW, sourceImageId: sourceImageId ?? undefined, images, template: 'launch template lt-1 version 1', region: 'eu-central-1' });

  it.each<[string, ReturnType<typeof check>, Partial<Record<'error' | 'warning', RegExp>>]>([
    ['an available AMI of the same architecture', check([x86(NEW), x86(OLD)]), {}],
    ['arm64 for an x86_64 source', check([arm(NEW), x86(OLD)]), { error: /^Image ami-0fedcba9876543210 \(image-id\) is arm64, but launch template lt-1 version 1 launches x86_64 \(image ami-0123456789abcdef0\)/ }],
    ['x86_64 for an arm64 source', check([x86(NEW), arm(OLD)]), { error: /is x86_64, but .* launches arm64/ }],
    ['a missing AMI', check([x86(OLD)]), { error: /^Image ami-0fedcba9876543210 \(image-id\) does not exist in eu-central-1: DescribeImages does not list it/ }],
    ['a pending AMI', check([x86(NEW, 'pending'), x86(OLD)]), { error: /is pending, not available, so no instance can launch it: it is still being registered or copied/ }],
    ['a deregistered AMI', check([x86(NEW, 'deregistered'), x86(OLD)]), { error: /is deregistered, not available.*: it was deregistered\.$/ }],
    ['a disabled AMI', check([x86(NEW, 'disabled'), x86(OLD)]), { error: /is disabled, not available.*EnableImage/ }],
    ['a failed AMI', check([x86(NEW, 'failed'), x86(OLD)]), { error: /is failed, not available.*its registration failed\.$/ }],
    ['an unavailable AMI whose architecture also differs (the state first)', check([arm(NEW, 'pending'), x86(OLD)]), { error: /is pending/ }],
    ['a source AMI no longer listed', check([arm(NEW)]), { warning: /^The architecture of image ami-0fedcba9876543210 \(arm64\) was not compared .*launches image ami-0123456789abcdef0, which DescribeImages no longer lists\.$/ }],
    ['a source launching an SSM parameter', check([arm(NEW)], 'resolve:ssm:/aws/service/nixos'), { warning: /launches "resolve:ssm:\/aws\/service\/nixos", not an AMI ID\.$/ }],
    ['a source with no image', check([arm(NEW)], null), { warning: /version 1 names no image\.$/ }],
    ['the AMI the source already launches', check([x86(OLD)].map((i) => ({ ...i, ImageId: NEW })), NEW), {}],
  ])('%s', (_case, result, expected) => {
    expect(Object.keys(result).sort()).toEqual(Object.keys(expected).sort());
    for (const [key, pattern] of Object.entries(expected)) expect(result[key as 'error' | 'warning']).toMatch(pattern!);
  });
});

describe('imagesToDescribe', () => {
  it.each<[string, string | undefined, string[]]>([
    ['ami-0123456789abcdef0', 'ami-0fedcba9876543210', ['ami-0123456789abcdef0', 'ami-0fedcba9876543210']],
    ['ami-0123456789abcdef0', 'ami-0123456789abcdef0', ['ami-0123456789abcdef0']],
    ['ami-0123456789abcdef0', 'resolve:ssm:/aws/service/nixos', ['ami-0123456789abcdef0']],
    ['ami-0123456789abcdef0', undefined, ['ami-0123456789abcdef0']],
  ])('%s from a version launching %s: %j', (imageId, source, expected) => {
    expect(imagesToDescribe(imageId, source)).toEqual(expected);
  });
});

describe('refreshRequest', () => {
  it('names the version by number and leaves unset preferences to AWS', () => {
    expect(request({})).toEqual({
      AutoScalingGroupName: 'web',
      Strategy: 'Rolling',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-0123456789abcdef0', Version: '8' } },
      Preferences: {
        MinHealthyPercentage: 90,
        SkipMatching: true,
        AutoRollback: true,
        ScaleInProtectedInstances: 'Ignore',
        StandbyInstances: 'Ignore',
      },
    });
  });

  it.each<[Record<string, string>, object]>([
    [{ 'max-healthy-percentage': '150', 'instance-warmup': '5m' }, { MaxHealthyPercentage: 150, InstanceWarmup: 300 }],
    [{ 'checkpoint-percentages': '10,100', 'checkpoint-delay': '15m' }, { CheckpointPercentages: [10, 100], CheckpointDelay: 900 }],
    [{ alarms: 'web-5xx\nweb-latency', 'bake-time': '10m' }, { AlarmSpecification: { Alarms: ['web-5xx', 'web-latency'] }, BakeTime: 600 }],
    [{ 'skip-matching': 'false', 'auto-rollback': 'false' }, { SkipMatching: false, AutoRollback: false }],
    [{ 'scale-in-protected-instances': 'refresh', 'standby-instances': 'wait' }, { ScaleInProtectedInstances: 'Refresh', StandbyInstances: 'Wait' }],
  ])('%j', (values, preferences) => {
    expect(request(values).Preferences).toMatchObject(preferences);
  });
});

const VERSIONS = { source: 3, target: 4 };

describe('verdict', () => {
  it.each<[string, Partial<InstanceRefresh>, Verdict]>([
    ['Pending', {}, { kind: 'waiting' }],
    ['InProgress', {}, { kind: 'waiting' }],
    ['Baking', { StatusReason: 'Waiting 600 seconds (BakeTime) before completing.' }, { kind: 'waiting' }],
    ['Cancelling', {}, { kind: 'waiting' }],
    ['RollbackInProgress', {}, { kind: 'waiting' }],
    ['SomethingNew', {}, { kind: 'waiting' }],
    ['Successful', {}, { kind: 'succeeded', message: 'Deployed: the group runs launch template version 4.' }],
    ['Failed', { StatusReason: 'Health checks failed.' }, { kind: 'failed', message: 'Deploy failed, the instance refresh failed: Health checks failed.' }],
    ['Cancelled', {}, { kind: 'failed', message: 'Deploy failed, the instance refresh was cancelled' }],
    [
      'RollbackSuccessful',
      { StatusReason: 'status', RollbackDetails: { RollbackReason: 'Alarm web-5xx went off.' } },
      { kind: 'failed', message: 'Deploy failed, group rolled back to version 3: Alarm web-5xx went off.' },
    ],
    [
      'RollbackFailed',
      { StatusReason: 'Could not replace 1 instance.' },
      {
        kind: 'failed',
        message: 'Deploy failed, and so did the rollback to version 3: the group may run both versions: Could not replace 1 instance.',
      },
    ],
  ])('%s %j', (Status, refresh, expected) => {
    expect(verdict({ Status: Status as InstanceRefresh['Status'], ...refresh }, VERSIONS)).toEqual(expected);
  });

  it('names the other template a rollback returns to', () => {
    expect(verdict({ Status: 'RollbackSuccessful' }, { source: '7 of launch template old', target: 1 })).toEqual({
      kind: 'failed',
      message: 'Deploy failed, group rolled back to version 7 of launch template old',
    });
  });
});

describe('progressLine', () => {
  it.each<[Partial<InstanceRefresh>, string]>([
    [{ Status: 'Pending' }, 'Pending 0%'],
    [{ Status: 'InProgress', PercentageComplete: 50, InstancesToUpdate: 1 }, 'InProgress 50% (1 instance to update)'],
    [
      { Status: 'InProgress', PercentageComplete: 50, InstancesToUpdate: 2, StatusReason: 'Checkpoint 50% reached.' },
      'InProgress 50% (2 instances to update) - Checkpoint 50% reached.',
    ],
    [
      { Status: 'RollbackInProgress', PercentageComplete: 25, InstancesToUpdate: 3, RollbackDetails: { PercentageCompleteOnRollback: 50 } },
      'RollbackInProgress 25% (3 instances to update), rolling back from 50%',
    ],
  ])('%j', (refresh, line) => {
    expect(progressLine(refresh)).toBe(line);
  });
});

describe('inProgressAction', () => {
  it.each<[InProgressAction, string, InProgressAction]>([
    ['fail', 'InProgress', 'fail'],
    ['wait', 'InProgress', 'wait'],
    ['cancel', 'Pending', 'cancel'],
    ['cancel', 'Baking', 'cancel'],
    ['cancel', 'RollbackInProgress', 'wait'],
    ['cancel', 'Cancelling', 'wait'],
    ['fail', 'RollbackInProgress', 'fail'],
  ])('%s on %s: %s', (policy, status, expected) => {
    expect(inProgressAction(policy, status)).toBe(expected);
  });
});

const SINCE = Date.parse('2026-01-01T00:00:00Z');
const STARTED: StartInstanceRefreshCommandInput = {
  AutoScalingGroupName: 'web',
  DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '3' } },
};
const refresh = (id: string, version: string, start: string): InstanceRefresh => ({
  InstanceRefreshId: 'r',
  StartTime: new Date(start),
  DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: id, Version: version } },
});

describe('isRequestedRefresh: the version this deploy made, started since its first attempt', () => {
  it.each<[string, InstanceRefresh, boolean]>([
    ['same template and version, started after', refresh('lt-1', '3', '2026-01-01T00:00:05Z'), true],
    ['started at the very moment', refresh('lt-1', '3', '2026-01-01T00:00:00Z'), true],
    ['started before (an older deploy of a version of that number cannot be, but a clock can)', refresh('lt-1', '3', '2025-12-31T23:59:59Z'), false],
    ['another version', refresh('lt-1', '2', '2026-01-01T00:00:05Z'), false],
    ['another template', refresh('lt-2', '3', '2026-01-01T00:00:05Z'), false],
    ['no desired configuration (another deploy with none)', { InstanceRefreshId: 'r', StartTime: new Date('2026-01-01T00:00:05Z') }, false],
  ])('%s: %s', (_case, candidate, expected) => expect(isRequestedRefresh(candidate, STARTED, SINCE)).toBe(expected));
});

describe('unfinishedWait: why the step failed and the abort budget that applies', () => {
  it.each<[string, Parameters<typeof unfinishedWait>[0], string, string]>([
    ['timeout', { outcome: 'timeout' }, 'Instance refresh r-1 did not end within 0.5 minutes', 'timeout'],
    ['cancellation', { outcome: 'aborted' }, 'The run was cancelled while instance refresh r-1 was running', 'cancelled'],
    ['lost sight', { outcome: 'failed', error: new Error('AccessDenied') }, 'Lost sight of instance refresh r-1 (AccessDenied)', 'gave-up'],
  ])('%s', (_case, ending, why, cause) => {
    expect(unfinishedWait(ending, 'r-1', 0.5)).toEqual({ why, cause });
  });
});

describe('progressPoint: one per change of status or percentage', () => {
  const AT = new Date('2026-01-01T00:00:00Z');
  const last = { at: new Date(0), status: 'InProgress', percent: 25 };
  it.each<[string, InstanceRefresh, typeof last | undefined, object | undefined]>([
    ['the first look', { Status: 'Pending' }, undefined, { at: AT, status: 'Pending', percent: 0 }],
    ['the same status and percentage', { Status: 'InProgress', PercentageComplete: 25, StatusReason: 'Waiting' }, last, undefined],
    ['a new percentage', { Status: 'InProgress', PercentageComplete: 50 }, last, { at: AT, status: 'InProgress', percent: 50 }],
    ['a new status', { Status: 'Baking', PercentageComplete: 25 }, last, { at: AT, status: 'Baking', percent: 25 }],
    [
      'a rollback',
      { Status: 'RollbackInProgress', PercentageComplete: 25, StatusReason: 'Alarm', RollbackDetails: { PercentageCompleteOnRollback: 50 } },
      last,
      { at: AT, status: 'RollbackInProgress', percent: 25, rollbackFrom: 50, reason: 'Alarm' },
    ],
    ['no status', {}, undefined, { at: AT, status: 'Unknown', percent: 0 }],
  ])('%s', (_case, refresh, previous, point) => {
    expect(progressPoint(refresh, AT, previous)).toEqual(point);
  });
});

describe('refreshTabUrl: the console-url output, in the partition of the region', () => {
  it.each<[string, string, string]>([
    ['eu-central-1', 'web', 'https://eu-central-1.console.aws.amazon.com/ec2/home?region=eu-central-1#AutoScalingGroupDetails:id=web;view=instanceRefresh'],
    ['cn-north-1', 'web', 'https://cn-north-1.console.amazonaws.cn/ec2/home?region=cn-north-1#AutoScalingGroupDetails:id=web;view=instanceRefresh'],
    ['us-gov-west-1', 'web', 'https://us-gov-west-1.console.amazonaws-us-gov.com/ec2/home?region=us-gov-west-1#AutoScalingGroupDetails:id=web;view=instanceRefresh'],
    ['us-east-1', 'web tier#1', 'https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#AutoScalingGroupDetails:id=web%20tier%231;view=instanceRefresh'],
  ])('%s %s', (region, group, url) => {
    expect(refreshTabUrl(region, group)).toBe(url);
  });
});

describe('rollbackGateProblem', () => {
  const specs = (...tags: Array<[string, string]>) => [{ ResourceType: 'instance' as const, Tags: tags.map(([Key, Value]) => ({ Key, Value })) }];
  /** [case, the rollback version's tag specifications, refused]. */
  it.each<[string, ReturnType<typeof specs> | undefined, boolean]>([
    ['both tags for this group and hook', specs(['Name', 'web'], ['AutoScalingGroupName', 'web'], ['LifecycleHookName', 'ready']), false],
    ['no tag specifications (a first gated deploy)', undefined, true],
    ['no gate tags', specs(['Name', 'web']), true],
    ['only the group tag', specs(['AutoScalingGroupName', 'web']), true],
    ['another hook', specs(['AutoScalingGroupName', 'web'], ['LifecycleHookName', 'old']), true],
    ['another group', specs(['AutoScalingGroupName', 'api'], ['LifecycleHookName', 'ready']), true],
  ])('%s', (_case, tags, refused) => {
    const problem = rollbackGateProblem('web', 'ready', 'launch template lt-1 version 3', tags);
    if (!refused) return expect(problem).toBeUndefined();
    expect(problem).toMatch(/^A rollback would launch launch template lt-1 version 3, whose instances lack the tags AutoScalingGroupName=web and LifecycleHookName=ready: .* auto-rollback: false/);
  });

  it('reads only the instance specification', () => {
    expect(rollbackGateProblem('web', 'ready', 'v', [{ ResourceType: 'volume' as const, Tags: [{ Key: 'AutoScalingGroupName', Value: 'web' }, { Key: 'LifecycleHookName', Value: 'ready' }] }])).toBeDefined();
  });
});

describe('MIN_GATE_HEARTBEAT_SECONDS', () => {
  /** The script's default for `name`, a number. */
  const script = readFileSync(new URL('./user-data.sh', import.meta.url), 'utf8');
  const setting = (name: string) => Number(new RegExp(`^: "\\$\\{${name}:=(\\d+)\\}"$`, 'm').exec(script)?.[1]);
  const timeout = (command: string) => Number(new RegExp(`timeout (\\d+) ${command}`).exec(script)?.[1]);

  it("covers the user data's worst case, derived from the script's own timeouts", () => {
    const attempts = setting('NIXOS_AWS_COMPLETE_ATTEMPTS');
    const lastTry = 5 + 5 + 1; // a metadata token and read (--max-time 5 each) and the 1 s sleep, begun just inside the window
    const perRun = timeout('nix --version') + setting('NIXOS_AWS_IMDS_WAIT_SECONDS') + lastTry;
    const fetch = setting('NIXOS_AWS_FETCH_TIMEOUT_SECONDS') + Number(/timeout --kill-after=(\d+) "\$NIXOS_AWS_FETCH_TIMEOUT_SECONDS"/.exec(script)?.[1]);
    const checks = ['nix --extra-experimental-features nix-command path-info', 'nix --extra-experimental-features nix-command show-config', 'nix --extra-experimental-features nix-command store verify'].map(timeout);
    const install = timeout('nix-env') + Number(/timeout (\d+) "\$store_path\/bin\/switch-to-configuration" boot/.exec(script)?.[1]);
    const report = setting('NIXOS_AWS_HEALTH_CHECK_TIMEOUT_SECONDS') + 6 + attempts * setting('NIXOS_AWS_COMPLETE_TIMEOUT_SECONDS') + (attempts * (attempts - 1)) / 2;
    const derived = 2 * perRun + fetch + checks.reduce((a, b) => a + b) + install + 120 + report;

    expect(checks).toEqual([120, 120, 120]);
    expect(derived).toBe(USER_DATA_WORST_CASE_SECONDS);
    expect(USER_DATA_WORST_CASE_SECONDS).toBe(2763);
    expect(MIN_GATE_HEARTBEAT_SECONDS).toBeGreaterThan(USER_DATA_WORST_CASE_SECONDS);
    expect(MIN_GATE_HEARTBEAT_SECONDS).toBeLessThanOrEqual(7200); // PutLifecycleHook's HeartbeatTimeout maximum
  });
});
