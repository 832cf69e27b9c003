/**
 * instance-refresh's `image-id` end to end: the bundle against the sandbox's EC2 and Auto Scaling. The new launch
 * template version launches the AMI given, with a new store path or the one the instances already run, and the
 * refresh rolls it out like any other version; a malformed AMI ID changes nothing, and neither does an AMI that EC2
 * does not list in the group's region, that is not available, or whose architecture differs from the AMI the group
 * launches now (the sandbox's DescribeImages, over real HTTP).
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

/** An AMI in the sandbox's region, available unless `extra` says otherwise. */
function seedImage(id: string, architecture: string, extra: { state?: 'deregistered' | 'disabled' | 'failed'; availableAtMs?: number; region?: string } = {}): void {
  sandbox.images.add({
    id,
    region: sandbox.region,
    name: `nixos-${id}`,
    architecture,
    rootDeviceName: '/dev/xvda',
    virtualizationType: 'hvm',
    mappings: [],
    tags: new Map(),
    creationDate: sandbox.clock.now(),
    availableAtMs: sandbox.clock.nowMs(),
    ...extra,
  });
}

beforeEach(() => {
  sandbox.reset();
  sandbox.clock.setSpeed(SPEED);
  seedImage(OLD_IMAGE, 'x86_64');
  seedImage(NEW_IMAGE, 'x86_64');
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
    expect(sandbox.calls.of('DescribeImages')).toHaveLength(1);
    expect(result.annotations.filter((a) => a.level === 'warning')).toEqual([]);
  });

  it('keeps the source version\'s image without it', async () => {
    const result = await deploy({ 'store-path': OTHER_STORE_PATH });
    expect(result.exitCode).toBe(0);
    expect(version(2).data.ImageId).toBe(OLD_IMAGE);
    expect(sandbox.calls.of('CreateLaunchTemplateVersion')[0].params).not.toHaveProperty('LaunchTemplateData.ImageId');
    expect(sandbox.calls.of('DescribeImages')).toEqual([]);
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

  /** The refusal of `image-id`, after the reads and before any change. */
  async function refused(message: string): Promise<StepResult> {
    const result = await deploy({ 'store-path': OTHER_STORE_PATH, 'image-id': NEW_IMAGE });
    expect(result.exitCode).not.toBe(0);
    expect(result.annotations.filter((a) => a.level === 'error').map((a) => a.message)).toEqual([`${message}\nNothing was changed.`]);
    expect(sandbox.calls.of('DescribeImages').map((call) => call.params)).toHaveLength(1);
    expect(sandbox.calls.all().filter((call) => isMutating(call.operation))).toEqual([]);
    expect(sandbox.calls.of('CreateLaunchTemplateVersion')).toEqual([]);
    expect(sandbox.calls.of('StartInstanceRefresh')).toEqual([]);
    expect(sandbox.ec2.templates.get(templateId)!.versions).toHaveLength(1);
    expect(result.outputs['launch-template-version']).toBeUndefined();
    return result;
  }

  const NOT_LISTED = `Image ${NEW_IMAGE} (image-id) does not exist in ${sandbox.region}: DescribeImages does not list it. An AMI is regional (copy it here, e.g. upload-ami's copy-to-regions), and one of another account must be shared with this one.`;
  const NOT_AVAILABLE = (state: string, why: string) => `Image ${NEW_IMAGE} (image-id) is ${state}, not available, so no instance can launch it: ${why}.`;

  it.each<[string, () => void, string]>([
    ['an AMI that does not exist', () => sandbox.images.images.delete(NEW_IMAGE), NOT_LISTED],
    ['an AMI of another region', () => { sandbox.images.images.delete(NEW_IMAGE); seedImage(NEW_IMAGE, 'x86_64', { region: 'eu-west-1' }); }, NOT_LISTED],
    [
      'an arm64 AMI for an x86_64 template',
      () => seedImage(NEW_IMAGE, 'arm64'),
      `Image ${NEW_IMAGE} (image-id) is arm64, but launch template ${'$TEMPLATE'} version 1 launches x86_64 (image ${OLD_IMAGE}): the group's instance types cannot boot it. Build the image for x86_64, or change the instance types first.`,
    ],
    // Pending for a sandbox year: it cannot turn available while the step runs, however slow the machine.
    ['a pending AMI', () => seedImage(NEW_IMAGE, 'x86_64', { availableAtMs: sandbox.clock.nowMs() + 365 * 86_400_000 }), NOT_AVAILABLE('pending', 'it is still being registered or copied; deploy it once it is available')],
    ['a deregistered AMI (still listed)', () => seedImage(NEW_IMAGE, 'x86_64', { state: 'deregistered' }), NOT_AVAILABLE('deregistered', 'it was deregistered')],
    ['a disabled AMI', () => seedImage(NEW_IMAGE, 'x86_64', { state: 'disabled' }), NOT_AVAILABLE('disabled', 'it was disabled (EnableImage makes it available again)')],
  ])('refuses %s, making no version and no refresh', async (_case, seed, message) => {
    seed();
    await refused(message.replace('$TEMPLATE', templateId));
  });

  it('refuses a deregistered AMI that is no longer listed (DeregisterImage)', async () => {
    await sandbox.images.operations.DeregisterImage({ ImageId: NEW_IMAGE }, { caller: 'someone-else', requestId: 'r', sandbox });
    await refused(NOT_LISTED);
  });

  it("rolls out without comparing architectures when the template's own AMI is gone, and says so", async () => {
    sandbox.images.images.delete(OLD_IMAGE);
    const result = await deploy({ 'store-path': OTHER_STORE_PATH, 'image-id': NEW_IMAGE });
    expect(result.exitCode).toBe(0);
    expect(version(2).data.ImageId).toBe(NEW_IMAGE);
    expect(result.annotations.filter((a) => a.level === 'warning').map((a) => a.message)).toContain(
      `The architecture of image ${NEW_IMAGE} (x86_64) was not compared with the instances': launch template ${templateId} version 1 launches image ${OLD_IMAGE}, which DescribeImages no longer lists.`,
    );
  });
});
