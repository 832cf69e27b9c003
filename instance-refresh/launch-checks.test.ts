import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { PUBLIC_KEY_SOURCE } from '../shared/store-uri.js';
import { launchProblems, tagKeyProblem, tagValueProblem, type LaunchCheck } from './launch-checks.js';

const STORE_PATH = '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05';
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
