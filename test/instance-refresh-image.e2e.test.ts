/**
 * instance-refresh's `image-id` end to end: the bundle against the sandbox's EC2 and Auto Scaling. The new launch
 * template version launches the AMI given, with a new store path or the one the instances already run, and the
 * refresh rolls it out like any other version; a malformed AMI ID changes nothing.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { isMutating } from '../sandbox/call-log.js';
import { Sandbox } from '../sandbox/server.js';
import { STORE_PATH } from './actions.js';
import { runAction, type StepResult } from './harness/runner.js';

const SPEED = 200;
const sandbox = new Sandbox({ speed: SPEED });
beforeAll(() => sandbox.start());
afterAll(() => sandbox.stop());

const OLD_IMAGE = 'ami-0123456789abcdef0';
const NEW_IMAGE = 'ami-0fedcba9876543210';
const OTHER_STORE_PATH = '/nix/store/1c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.11';
let templateId: string;

beforeEach(() => {
  sandbox.reset();
  sandbox.clock.setSpeed(SPEED);
  templateId = sandbox.ec2.createLaunchTemplate({
    name: 'web',
    data: {
      ImageId: OLD_IMAGE,
      InstanceType: 't3.small',
      MetadataOptions: { HttpTokens: 'required', InstanceMetadataTags: 'enabled' },
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'NixStorePath', Value: STORE_PATH }] }],
    },
  }).id;
  sandbox.autoscaling.createGroup({ name: 'web', launchTemplate: { id: templateId, version: '1' }, desiredCapacity: 2 });
});

function deploy(inputs: Record<string, string>): Promise<StepResult> {
  return runAction('instance-refresh', {
    env: sandbox.env(),
    inputs: { 'auto-scaling-group-name': 'web', 'poll-interval-seconds': '1', 'instance-warmup': '60', ...inputs },
  });
}

const version = (number: number) => sandbox.ec2.templates.get(templateId)!.versions.find((v) => v.number === number)!;
const storePathTag = (number: number) => {
  const specs = version(number).data.TagSpecifications as Array<{ Tags?: Array<{ Key?: string; Value?: string }> }> | undefined;
  return specs?.[0].Tags?.find((tag) => tag.Key === 'NixStorePath')?.Value;
};

describe('image-id', () => {
  it.each([
    ['with a new store path', OTHER_STORE_PATH],
    ['with the store path the instances run', STORE_PATH],
  ])('rolls out the new image %s', async (_case, storePath) => {
    const result = await deploy({ 'store-path': storePath, 'image-id': NEW_IMAGE });

    expect(result.annotations.filter((a) => a.level === 'error')).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(version(2).data.ImageId).toBe(NEW_IMAGE);
    expect(storePathTag(2)).toBe(storePath);
    expect(version(1).data.ImageId).toBe(OLD_IMAGE);
    const [create] = sandbox.calls.of('CreateLaunchTemplateVersion');
    expect(create.params).toMatchObject({ SourceVersion: '1', LaunchTemplateData: { ImageId: NEW_IMAGE } });
    expect(result.outputs).toMatchObject({ 'launch-template-version': '2', status: 'Successful' });
    expect(result.stdout).toContain(`NixStorePath=${storePath}, image ${NEW_IMAGE}.`);
    expect(result.summary).toContain(`<code>${NEW_IMAGE}</code>`);
  });

  it('keeps the source version\'s image without it', async () => {
    const result = await deploy({ 'store-path': OTHER_STORE_PATH });
    expect(result.exitCode).toBe(0);
    expect(version(2).data.ImageId).toBe(OLD_IMAGE);
    expect(sandbox.calls.of('CreateLaunchTemplateVersion')[0].params).not.toHaveProperty('LaunchTemplateData.ImageId');
  });

  it.each([['ami-0FEDCBA9876543210'], ['ami-123'], ['nixos-25.05']])('refuses %s with no call', async (imageId) => {
    const result = await deploy({ 'store-path': OTHER_STORE_PATH, 'image-id': imageId });
    expect(result.exitCode).not.toBe(0);
    expect(result.annotations.map((a) => a.message).join('\n')).toContain(
      `Input 'image-id' must be an AMI ID, ami- and 8 or 17 hex digits, got ${JSON.stringify(imageId)}`,
    );
    expect(sandbox.calls.all()).toEqual([]);
    expect(sandbox.calls.all().filter((call) => isMutating(call.operation))).toEqual([]);
  });
});
