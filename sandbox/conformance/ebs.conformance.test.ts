import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '../server.js';
import { BLOCK_SIZE } from '../services/ebs/snapshots.js';
import { awsCli, expectAllOperationsCovered } from './aws-cli.js';

/** What the CLI prints for a failed call: `An error occurred (<Code>) when calling the <Op> operation: ...`. */
const errorCode = (stderr: string) => /An error occurred \(([^)]+)\)/.exec(stderr)?.[1];
const digest = (data: Buffer) => createHash('sha256').update(data).digest();
const block = (fill: number) => Buffer.alloc(BLOCK_SIZE, fill);

describe('EBS direct APIs through the AWS CLI', () => {
  const sandbox = new Sandbox();
  const seen = new Set<string>();
  const dir = mkdtempSync(join(tmpdir(), 'ebs-conformance-'));
  const file = (name: string, data: Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, data);
    return path;
  };
  beforeAll(() => sandbox.start());
  afterAll(() => sandbox.stop());
  beforeEach(() => {
    record();
    sandbox.reset();
  });
  const record = () => sandbox.calls.all().forEach((c) => c.status === 200 && seen.add(c.operation));

  const start = async (...extra: string[]) => {
    const result = await awsCli(sandbox, ['ebs', 'start-snapshot', '--volume-size', '1', ...extra]);
    expect(result).toMatchObject({ code: 0 });
    return result.json as { SnapshotId: string };
  };
  const put = (snapshotId: string, index: number, data: Buffer, checksum = digest(data).toString('base64')) =>
    awsCli(sandbox, [
      'ebs', 'put-snapshot-block', '--snapshot-id', snapshotId, '--block-index', String(index),
      '--block-data', file(`block-${index}`, data), '--data-length', String(data.length),
      '--checksum', checksum, '--checksum-algorithm', 'SHA256',
    ]);
  const complete = (snapshotId: string, count: number, checksum?: string) =>
    awsCli(sandbox, [
      'ebs', 'complete-snapshot', '--snapshot-id', snapshotId, '--changed-blocks-count', String(count),
      ...(checksum ? ['--checksum', checksum, '--checksum-algorithm', 'SHA256', '--checksum-aggregation-method', 'LINEAR'] : []),
    ]);

  it('start-snapshot answers the snapshot under the CLI names, and a retry with its token the same one', async () => {
    const args = ['--timeout', '60', '--client-token', 'upload-1', '--description', 'nixos', '--tags', 'Key=StorePath,Value=/nix/store/abc-nixos'];
    const first = await awsCli(sandbox, ['ebs', 'start-snapshot', '--volume-size', '2', ...args]);
    expect(first.code).toBe(0);
    expect(first.json).toEqual({
      Description: 'nixos',
      SnapshotId: expect.stringMatching(/^snap-[0-9a-f]{17}$/),
      OwnerId: '123456789012',
      Status: 'pending',
      StartTime: expect.any(String),
      VolumeSize: 2,
      BlockSize: BLOCK_SIZE,
      Tags: [{ Key: 'StorePath', Value: '/nix/store/abc-nixos' }],
    });
    const again = await awsCli(sandbox, ['ebs', 'start-snapshot', '--volume-size', '2', ...args]);
    expect(again.json.SnapshotId).toBe(first.json.SnapshotId);
    const other = await awsCli(sandbox, ['ebs', 'start-snapshot', '--volume-size', '3', ...args]);
    expect(errorCode(other.stderr)).toBe('ConflictException');
  });

  it('put, complete, list and get: a block reads back as written, with its checksum', async () => {
    const { SnapshotId } = await start();
    const data = Buffer.concat([Buffer.from('nixos'), Buffer.alloc(BLOCK_SIZE - 5, 7)]);
    const put1 = await put(SnapshotId, 3, data);
    expect(put1).toMatchObject({ code: 0 });
    expect(put1.json).toEqual({ Checksum: digest(data).toString('base64'), ChecksumAlgorithm: 'SHA256' });
    const aggregate = digest(digest(data)).toString('base64');
    const done = await complete(SnapshotId, 1, aggregate);
    expect(done.json).toEqual({ Status: 'pending' });
    sandbox.clock.advance(sandbox.ebs.snapshots.completionDelayMs);
    const list = await awsCli(sandbox, ['ebs', 'list-snapshot-blocks', '--snapshot-id', SnapshotId]);
    expect(list.json).toEqual({
      Blocks: [{ BlockIndex: 3, BlockToken: expect.any(String) }],
      ExpiryTime: expect.any(String),
      VolumeSize: 1,
      BlockSize: BLOCK_SIZE,
    });
    const out = join(dir, 'out');
    const get = await awsCli(sandbox, [
      'ebs', 'get-snapshot-block', '--snapshot-id', SnapshotId, '--block-index', '3', '--block-token', list.json.Blocks[0].BlockToken, out,
    ]);
    // botocore leaves a header's integer as the header's text.
    expect(get.json).toEqual({ DataLength: String(BLOCK_SIZE), Checksum: digest(data).toString('base64'), ChecksumAlgorithm: 'SHA256' });
    expect(readFileSync(out).equals(data)).toBe(true);
  });

  it.each([
    ['a wrong checksum', 0, block(1), digest(block(2)).toString('base64'), 'ValidationException'],
    ['a short block', 0, Buffer.alloc(4096, 1), undefined, 'ValidationException'],
    ['an index beyond the volume', 2048, block(1), undefined, 'ValidationException'],
  ])('put-snapshot-block refuses %s', async (_case, index, data, checksum, code) => {
    const { SnapshotId } = await start();
    const result = await put(SnapshotId, index, data, checksum);
    expect(errorCode(result.stderr)).toBe(code);
  });

  it('complete-snapshot refuses a changed-blocks count that is not what was written', async () => {
    const { SnapshotId } = await start();
    await put(SnapshotId, 0, block(1));
    const result = await complete(SnapshotId, 2);
    expect(errorCode(result.stderr)).toBe('ValidationException');
    expect(result.stderr).toContain('ChangedBlocksCount 2 does not match the 1 blocks written');
  });

  it('an unknown snapshot is ResourceNotFoundException', async () => {
    const result = await awsCli(sandbox, ['ebs', 'list-snapshot-blocks', '--snapshot-id', 'snap-0123456789abcdef0']);
    expect(errorCode(result.stderr)).toBe('ResourceNotFoundException');
  });

  it('covers every EBS operation', () => {
    record();
    expectAllOperationsCovered(sandbox, 'ebs', seen);
  });
});
