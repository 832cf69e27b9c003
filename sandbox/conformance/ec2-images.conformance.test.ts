import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Sandbox } from '../server.js';
import { BLOCK_SIZE } from '../services/ebs/snapshots.js';
import { awsCli } from './aws-cli.js';

/** What the CLI prints for a failed call: `An error occurred (<Code>) when calling the <Op> operation: ...`. */
const errorCode = (stderr: string) => /An error occurred \(([^)]+)\)/.exec(stderr)?.[1];

/** The operations this file covers (ec2.conformance.test.ts covers the rest of EC2). */
const OPERATIONS = ['DescribeSnapshots', 'DeleteSnapshot'];

describe('EC2 snapshots and images through the AWS CLI', () => {
  const sandbox = new Sandbox();
  const seen = new Set<string>();
  beforeAll(() => sandbox.start());
  afterAll(() => sandbox.stop());
  beforeEach(() => {
    record();
    sandbox.reset();
  });
  const record = () => sandbox.calls.all().forEach((c) => c.status === 200 && seen.add(c.operation));
  const seed = (tags: Record<string, string> = {}, region?: string) =>
    sandbox.ebs.seedSnapshot({ volumeSize: 2, blocks: new Map([[0, Buffer.alloc(BLOCK_SIZE, 1)]]), tags, region });

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

  it('covers every snapshot and image operation', () => {
    record();
    expect(OPERATIONS.filter((operation) => !seen.has(operation))).toEqual([]);
    expect(Object.keys(sandbox.ec2.operations)).toEqual(expect.arrayContaining(OPERATIONS));
  });
});
