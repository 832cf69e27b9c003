import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Sandbox } from '../server.js';
import { BLOCK_SIZE } from '../services/ebs/snapshots.js';
import { awsCli } from './aws-cli.js';

/** What the CLI prints for a failed call: `An error occurred (<Code>) when calling the <Op> operation: ...`. */
const errorCode = (stderr: string) => /An error occurred \(([^)]+)\)/.exec(stderr)?.[1];


describe('EC2 snapshots and images through the AWS CLI', () => {
  const sandbox = new Sandbox();
  const seen = new Set<string>();
  beforeAll(() => sandbox.start());
  afterAll(() => sandbox.stop());
  beforeEach(() => {
    record();
    sandbox.reset();
    // Time moves only when a test pushes it: a busy machine must not turn a pending image available between calls.
    sandbox.clock.setSpeed(0);
  });
  const record = () => sandbox.calls.all().forEach((c) => c.status === 200 && seen.add(c.operation));
  const imageSeed = (snapshotId: string) => ({
    id: 'ami-0123456789abcdef0',
    region: sandbox.region,
    name: 'seeded',
    architecture: 'x86_64',
    rootDeviceName: '/dev/xvda',
    virtualizationType: 'hvm',
    mappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshotId } }],
    tags: new Map<string, string>(),
    creationDate: sandbox.clock.now(),
    availableAtMs: sandbox.clock.nowMs(),
  });
  const seed = (tags: Record<string, string> = {}, region?: string) =>
    sandbox.ebs.seedSnapshot({ volumeSize: 2, blocks: new Map([[0, Buffer.alloc(BLOCK_SIZE, 1)]]), tags, region });

  const ROOT = '/dev/xvda';
  const register = (snapshotId: string, ...extra: string[]) =>
    awsCli(sandbox, [
      'ec2', 'register-image', '--name', 'nixos-25.11-x86_64', '--architecture', 'x86_64', '--virtualization-type', 'hvm',
      '--root-device-name', ROOT, '--block-device-mappings', `DeviceName=${ROOT},Ebs={SnapshotId=${snapshotId},VolumeType=gp3}`,
      ...extra,
    ]);
  const describeImage = async (imageId: string, region?: string) => {
    const result = await awsCli(sandbox, ['ec2', 'describe-images', '--image-ids', imageId, ...(region ? ['--region', region] : [])]);
    expect(result).toMatchObject({ code: 0 });
    return result.json.Images[0];
  };

  // Debian's CLI (2.9) predates RegisterImage's TagSpecifications: images.test.ts sends them with the SDK.
  it('register-image from a completed snapshot: pending, then available on the sandbox clock; create-tags on image and snapshot', async () => {
    const snapshot = seed();
    const result = await register(snapshot.id, '--boot-mode', 'uefi', '--tpm-support', 'v2.0', '--ena-support', '--imds-support', 'v2.0', '--description', 'NixOS');
    expect(result).toMatchObject({ code: 0 });
    const imageId: string = result.json.ImageId;
    expect(imageId).toMatch(/^ami-[0-9a-f]{17}$/);
    expect((await describeImage(imageId)).State).toBe('pending');
    const tagged = await awsCli(sandbox, ['ec2', 'create-tags', '--resources', imageId, '--tags', 'Key=StorePath,Value=/nix/store/abc-nixos']);
    expect(tagged).toMatchObject({ code: 0 });
    await awsCli(sandbox, ['ec2', 'create-tags', '--resources', snapshot.id, '--tags', 'Key=Name,Value=nixos']);
    sandbox.clock.advance(sandbox.images.registerDelayMs);
    const listed = await awsCli(sandbox, ['ec2', 'describe-images', '--owners', 'self', '--filters', 'Name=tag:StorePath,Values=/nix/store/abc-nixos', 'Name=state,Values=available']);
    expect(listed.json.Images).toEqual([
      {
        ImageId: imageId,
        ImageLocation: '123456789012/nixos-25.11-x86_64',
        State: 'available',
        OwnerId: '123456789012',
        CreationDate: expect.any(String),
        Public: false,
        Architecture: 'x86_64',
        ImageType: 'machine',
        PlatformDetails: 'Linux/UNIX',
        UsageOperation: 'RunInstances',
        Name: 'nixos-25.11-x86_64',
        Description: 'NixOS',
        RootDeviceType: 'ebs',
        RootDeviceName: ROOT,
        BlockDeviceMappings: [
          { DeviceName: ROOT, Ebs: { DeleteOnTermination: true, SnapshotId: snapshot.id, VolumeSize: 2, VolumeType: 'gp3', Encrypted: false } },
        ],
        VirtualizationType: 'hvm',
        Tags: [{ Key: 'StorePath', Value: '/nix/store/abc-nixos' }],
        EnaSupport: true,
        Hypervisor: 'xen',
        BootMode: 'uefi',
        TpmSupport: 'v2.0',
        ImdsSupport: 'v2.0',
      },
    ]);
    expect(Object.fromEntries(snapshot.tags)).toEqual({ Name: 'nixos' });
  });

  it.each([
    ['a name in use', ['--name', 'taken'], 'InvalidAMIName.Duplicate'],
    ['a malformed name', ['--name', 'nixos*'], 'InvalidAMIName.Malformed'],
    ['a name too short', ['--name', 'ab'], 'InvalidAMIName.Malformed'],
    ['TPM without UEFI', ['--boot-mode', 'legacy-bios', '--tpm-support', 'v2.0'], 'InvalidParameterCombination'],
    ['arm64 with legacy BIOS', ['--architecture', 'arm64', '--boot-mode', 'legacy-bios'], 'InvalidParameterCombination'],
    ['an unknown boot mode', ['--boot-mode', 'bios'], 'InvalidParameterValue'],
  ])('register-image refuses %s, and registers nothing', async (_case, extra, code) => {
    const snapshot = seed();
    sandbox.images.add({ ...imageSeed(snapshot.id), name: 'taken' });
    const result = await register(snapshot.id, ...extra);
    expect(errorCode(result.stderr)).toBe(code);
    expect(sandbox.images.images.size).toBe(1);
  });

  it.each([
    ['an unknown snapshot', () => 'snap-0123456789abcdef0', 'InvalidSnapshot.NotFound'],
    ['a pending snapshot', () => sandbox.ebs.operations.StartSnapshot({ VolumeSize: 1 }, { caller: 'x', requestId: 'r', sandbox }) as { SnapshotId: string }, 'IncorrectState'],
  ])('register-image refuses %s', async (_case, snapshotOf, code) => {
    const made = snapshotOf();
    const result = await register(typeof made === 'string' ? made : made.SnapshotId);
    expect(errorCode(result.stderr)).toBe(code);
  });

  it.each([
    ['a reserved key', [`Key=aws:x,Value=1`], 'InvalidParameterValue'],
    ['an unknown image', [`Key=a,Value=1`], 'InvalidAMIID.NotFound', 'ami-0123456789abcdef1'],
  ])('create-tags refuses %s, and tags nothing', async (_case, tags, code, resource = 'ami-0123456789abcdef0') => {
    const snapshot = seed();
    sandbox.images.add(imageSeed(snapshot.id));
    const result = await awsCli(sandbox, ['ec2', 'create-tags', '--resources', snapshot.id, resource, '--tags', ...tags]);
    expect(errorCode(result.stderr)).toBe(code);
    expect(snapshot.tags.size).toBe(0);
  });

  it('copy-image to another region: a retry with its token is the same copy, available after the copy delay with its own snapshot', async () => {
    const snapshot = seed();
    const source = sandbox.images.add({ ...imageSeed(snapshot.id), tags: new Map([['StorePath', '/nix/store/abc-nixos']]) });
    const args = ['ec2', 'copy-image', '--region', 'eu-west-1', '--source-region', sandbox.region, '--source-image-id', source.id, '--name', 'seeded', '--client-token', 'copy-1', '--copy-image-tags'];
    const first = await awsCli(sandbox, args);
    expect(first).toMatchObject({ code: 0 });
    expect((await awsCli(sandbox, args)).json).toEqual(first.json);
    const copy = await describeImage(first.json.ImageId, 'eu-west-1');
    expect(copy).toMatchObject({ State: 'pending', Name: 'seeded', Tags: [{ Key: 'StorePath', Value: '/nix/store/abc-nixos' }] });
    const copied = copy.BlockDeviceMappings[0].Ebs.SnapshotId;
    expect(copied).not.toBe(snapshot.id);
    sandbox.clock.advance(sandbox.images.copyDelayMs);
    expect((await describeImage(first.json.ImageId, 'eu-west-1')).State).toBe('available');
    expect(sandbox.ebs.snapshots.get('eu-west-1', copied)?.blocks).toBe(snapshot.blocks);
    const other = await awsCli(sandbox, [...args.slice(0, -1), '--description', 'other']);
    expect(errorCode(other.stderr)).toBe('IdempotentParameterMismatch');
    const again = await awsCli(sandbox, args.map((a) => (a === 'copy-1' ? 'copy-2' : a)));
    expect(errorCode(again.stderr)).toBe('InvalidAMIName.Duplicate');
  });

  it('enable-image-deprecation rounds to the minute and refuses a time in the past', async () => {
    const image = sandbox.images.add(imageSeed(seed().id));
    const at = new Date(sandbox.clock.nowMs() + 30 * 24 * 3600_000);
    at.setUTCSeconds(31, 0);
    const result = await awsCli(sandbox, ['ec2', 'enable-image-deprecation', '--image-id', image.id, '--deprecate-at', at.toISOString()]);
    expect(result.json).toEqual({ Return: true });
    const rounded = new Date(at.getTime() + 29_000).toISOString();
    expect((await describeImage(image.id)).DeprecationTime).toBe(rounded);
    const past = await awsCli(sandbox, ['ec2', 'enable-image-deprecation', '--image-id', image.id, '--deprecate-at', '2020-01-01T00:00:00Z']);
    expect(errorCode(past.stderr)).toBe('InvalidParameterValue');
  });

  it('delete-snapshot is refused while an image uses it; deregister-image frees it', async () => {
    const snapshot = seed();
    const image = sandbox.images.add(imageSeed(snapshot.id));
    const inUse = await awsCli(sandbox, ['ec2', 'delete-snapshot', '--snapshot-id', snapshot.id]);
    expect(errorCode(inUse.stderr)).toBe('InvalidSnapshot.InUse');
    expect(await awsCli(sandbox, ['ec2', 'deregister-image', '--image-id', image.id])).toMatchObject({ code: 0 });
    expect(await awsCli(sandbox, ['ec2', 'delete-snapshot', '--snapshot-id', snapshot.id])).toMatchObject({ code: 0 });
    const gone = await awsCli(sandbox, ['ec2', 'describe-images', '--image-ids', image.id]);
    expect(errorCode(gone.stderr)).toBe('InvalidAMIID.NotFound');
  });

  it('describe-snapshots by owner and tag, under the CLI names', async () => {
    const nixos = seed({ StorePath: '/nix/store/abc-nixos' });
    seed({ StorePath: '/nix/store/def-other' });
    seed({ StorePath: '/nix/store/abc-nixos' }, 'eu-west-1');
    const result = await awsCli(sandbox, [
      'ec2', 'describe-snapshots', '--owner-ids', 'self', '--filters', 'Name=tag:StorePath,Values=/nix/store/abc-*', 'Name=status,Values=completed',
    ]);
    expect(result).toMatchObject({ code: 0 });
    expect(result.json).toEqual({
      Snapshots: [
        {
          SnapshotId: nixos.id,
          VolumeId: 'vol-ffffffff',
          State: 'completed',
          StartTime: expect.any(String),
          Progress: '100%',
          OwnerId: '123456789012',
          VolumeSize: 2,
          Encrypted: false,
          Tags: [{ Key: 'StorePath', Value: '/nix/store/abc-nixos' }],
          StorageTier: 'standard',
        },
      ],
    });
  });

  it('describe-snapshots sees a region by the region the call is signed for', async () => {
    const west = seed({}, 'eu-west-1');
    seed();
    const result = await awsCli(sandbox, ['ec2', 'describe-snapshots', '--region', 'eu-west-1']);
    expect(result.json.Snapshots.map((s: { SnapshotId: string }) => s.SnapshotId)).toEqual([west.id]);
  });

  it('describe-snapshots of an unknown ID is InvalidSnapshot.NotFound', async () => {
    const result = await awsCli(sandbox, ['ec2', 'describe-snapshots', '--snapshot-ids', 'snap-0123456789abcdef0']);
    expect(errorCode(result.stderr)).toBe('InvalidSnapshot.NotFound');
  });

  it('delete-snapshot removes it; a second delete is InvalidSnapshot.NotFound', async () => {
    const snapshot = seed();
    const result = await awsCli(sandbox, ['ec2', 'delete-snapshot', '--snapshot-id', snapshot.id]);
    expect(result).toMatchObject({ code: 0 });
    expect(sandbox.ebs.snapshots.get(sandbox.region, snapshot.id)).toBeUndefined();
    const again = await awsCli(sandbox, ['ec2', 'delete-snapshot', '--snapshot-id', snapshot.id]);
    expect(errorCode(again.stderr)).toBe('InvalidSnapshot.NotFound');
  });

  it('covers every snapshot and image operation (ec2.conformance.test.ts covers the rest of EC2)', () => {
    record();
    expect(Object.keys(sandbox.images.operations).filter((operation) => !seen.has(operation))).toEqual([]);
  });
});
