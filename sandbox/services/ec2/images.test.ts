/**
 * Images through the AWS SDK, which sends the members Debian's CLI predates (RegisterImage's and CopyImage's
 * TagSpecifications, the uefi-preferred boot mode): the sandbox reads them through `models/ec2-overlay.json`.
 */
import {
  CopyImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  RegisterImageCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Sandbox, STATIC_CREDENTIALS } from '../../server.js';
import { BLOCK_SIZE } from '../ebs/snapshots.js';

describe('EC2 images through the SDK', () => {
  const sandbox = new Sandbox({ speed: 0 });
  const client = (region: string) => new EC2Client({ region, endpoint: sandbox.url, credentials: STATIC_CREDENTIALS, maxAttempts: 1 });
  let east: EC2Client;
  let west: EC2Client;
  beforeAll(async () => {
    await sandbox.start();
    east = client(sandbox.region);
    west = client('eu-west-1');
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.reset());

  const register = (snapshotId: string, extra: Partial<ConstructorParameters<typeof RegisterImageCommand>[0]> = {}) =>
    east.send(
      new RegisterImageCommand({
        Name: 'nixos-25.11-aarch64',
        Architecture: 'arm64',
        BootMode: 'uefi-preferred',
        VirtualizationType: 'hvm',
        EnaSupport: true,
        ImdsSupport: 'v2.0',
        RootDeviceName: '/dev/xvda',
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshotId, VolumeType: 'gp3', DeleteOnTermination: true } }],
        TagSpecifications: [
          { ResourceType: 'image', Tags: [{ Key: 'StorePath', Value: '/nix/store/abc-nixos' }] },
          { ResourceType: 'snapshot', Tags: [{ Key: 'StorePath', Value: '/nix/store/abc-nixos' }] },
        ],
        ...extra,
      }),
    );

  it('RegisterImage with tag specifications tags the image and its snapshot; uefi-preferred is a boot mode', async () => {
    const snapshot = sandbox.ebs.seedSnapshot({ volumeSize: 2, blocks: new Map([[0, Buffer.alloc(BLOCK_SIZE, 1)]]) });
    const { ImageId } = await register(snapshot.id);
    sandbox.clock.advance(sandbox.images.registerDelayMs);
    const { Images } = await east.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'tag:StorePath', Values: ['/nix/store/abc-nixos'] }] }));
    expect(Images).toMatchObject([{ ImageId, State: 'available', BootMode: 'uefi-preferred', Architecture: 'arm64', Tags: [{ Key: 'StorePath', Value: '/nix/store/abc-nixos' }] }]);
    const { Snapshots } = await east.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:StorePath', Values: ['/nix/store/abc-nixos'] }] }));
    expect(Snapshots?.map((s) => s.SnapshotId)).toEqual([snapshot.id]);
  });

  it('CopyImage copies into the client’s region with its own tag specifications, pending until copyDelayMs', async () => {
    const snapshot = sandbox.ebs.seedSnapshot({ volumeSize: 2 });
    const { ImageId } = await register(snapshot.id);
    const early = east.send(new CopyImageCommand({ SourceRegion: sandbox.region, SourceImageId: ImageId, Name: 'copy' }));
    await expect(early).rejects.toMatchObject({ name: 'IncorrectState' });
    sandbox.clock.advance(sandbox.images.registerDelayMs);
    const copy = await west.send(
      new CopyImageCommand({
        SourceRegion: sandbox.region,
        SourceImageId: ImageId,
        Name: 'nixos-25.11-aarch64',
        ClientToken: 'copy-eu-west-1',
        TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'Copy', Value: 'yes' }] }],
      }),
    );
    const describe = () => west.send(new DescribeImagesCommand({ ImageIds: [copy.ImageId!] }));
    expect((await describe()).Images).toMatchObject([{ State: 'pending', Tags: [{ Key: 'Copy', Value: 'yes' }] }]);
    sandbox.clock.advance(sandbox.images.copyDelayMs);
    expect((await describe()).Images).toMatchObject([{ State: 'available' }]);
    await expect(east.send(new DescribeImagesCommand({ ImageIds: [copy.ImageId!] }))).rejects.toMatchObject({ name: 'InvalidAMIID.NotFound' });
  });

  it.each([
    ['deregistered', false, ['deregistered']],
    ['failed', false, ['failed']],
    ['disabled', false, []],
    ['disabled', true, ['disabled']],
  ] as const)('a seeded %s image (IncludeDisabled %s) is listed in that state, a disabled one only with IncludeDisabled', async (state, includeDisabled, listed) => {
    const snapshot = sandbox.ebs.seedSnapshot({ volumeSize: 2 });
    const { ImageId } = await register(snapshot.id);
    sandbox.images.images.get(ImageId!)!.state = state;
    const { Images } = await east.send(new DescribeImagesCommand({ Filters: [{ Name: 'image-id', Values: [ImageId!] }], IncludeDisabled: includeDisabled }));
    expect(Images?.map((image) => image.State)).toEqual(listed);
  });
});
