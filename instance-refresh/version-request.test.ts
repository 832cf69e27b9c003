import { describe, expect, it } from '@jest/globals';
import { clientToken, versionDescription, versionRequest } from './version-request.js';

const PATH = '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05';
const RUN = { GITHUB_REPOSITORY: 'octo-org/octo-repo', GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '1' };

describe('clientToken', () => {
  const token = clientToken(RUN, 'web', PATH);

  it.each<[string, NodeJS.ProcessEnv, string, string, boolean]>([
    ['the same run, group and store path', RUN, 'web', PATH, true],
    ['another attempt', { ...RUN, GITHUB_RUN_ATTEMPT: '2' }, 'web', PATH, false],
    ['another run', { ...RUN, GITHUB_RUN_ID: '43' }, 'web', PATH, false],
    ['another repository', { ...RUN, GITHUB_REPOSITORY: 'octo-org/other' }, 'web', PATH, false],
    ['another group', RUN, 'api', PATH, false],
    ['another store path', RUN, 'web', PATH.replace('web-25.05', 'web-25.11'), false],
  ])('%s: same token %s', (_case, env, group, path, same) => {
    expect(clientToken(env, group, path) === token).toBe(same);
  });

  it("is EC2's form, and none outside a workflow run", () => {
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(clientToken({}, 'web', PATH)).toBeUndefined();
  });
});

describe('versionDescription', () => {
  it.each<[string, NodeJS.ProcessEnv, string]>([
    ['in a run', RUN, `${PATH}, octo-org/octo-repo run 42 attempt 1`],
    ['outside a run', {}, PATH],
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
      storePath: PATH,
      storePathTag: 'System',
      tags: [{ key: 'Substituters', value: 's3://cache' }],
      groupName: 'web',
      env: RUN,
    });
    expect(request).toEqual({
      LaunchTemplateId: 'lt-0123456789abcdef0',
      SourceVersion: '7',
      VersionDescription: `${PATH}, octo-org/octo-repo run 42 attempt 1`,
      ClientToken: clientToken(RUN, 'web', PATH),
      LaunchTemplateData: {
        TagSpecifications: [
          {
            ResourceType: 'instance',
            Tags: [
              { Key: 'Name', Value: 'web' },
              { Key: 'System', Value: PATH },
              { Key: 'Substituters', Value: 's3://cache' },
            ],
          },
        ],
      },
    });
  });
});
