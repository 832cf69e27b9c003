import type { LaunchTemplateTagSpecification } from '@aws-sdk/client-ec2';
import { describe, expect, it } from '@jest/globals';
import { mergeTagSpecifications, type Tag } from './tag-specifications.js';

const PATH = { key: 'NixStorePath', value: '/nix/store/new' };

describe('mergeTagSpecifications', () => {
  it.each<[string, LaunchTemplateTagSpecification[] | undefined, Tag[], object[]]>([
    ['no specifications', undefined, [PATH], [{ ResourceType: 'instance', Tags: [{ Key: 'NixStorePath', Value: '/nix/store/new' }] }]],
    [
      'other resources only: an instance specification is added after them',
      [{ ResourceType: 'volume', Tags: [{ Key: 'Team', Value: 'web' }] }],
      [PATH],
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
      [PATH, { key: 'Role', value: 'web' }],
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
    ['a specification without tags', [{ ResourceType: 'instance' }], [PATH], [{ ResourceType: 'instance', Tags: [{ Key: 'NixStorePath', Value: '/nix/store/new' }] }]],
  ])('%s', (_case, existing, tags, expected) => {
    expect(mergeTagSpecifications(existing, tags)).toEqual(expected);
  });

  it('leaves what it was given alone', () => {
    const existing = [{ ResourceType: 'instance' as const, Tags: [{ Key: 'NixStorePath', Value: '/nix/store/old' }] }];
    mergeTagSpecifications(existing, [PATH]);
    expect(existing[0].Tags[0].Value).toBe('/nix/store/old');
  });

  it("refuses to go over EC2's 50 tags", () => {
    const held = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    expect(() => mergeTagSpecifications([{ ResourceType: 'instance', Tags: held }], [PATH])).toThrow(
      "The instance tags would number 51, over EC2's limit of 50 per instance.",
    );
  });
});
