/**
 * The EBS direct APIs over real HTTP, as the SDK sends them (restJson: path, headers, raw body), for what the CLI
 * conformance test cannot reach: the snapshot's states on the sandbox clock, malformed bodies and headers, paging,
 * incremental snapshots, regions, faults, and a call log without block data.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Sandbox } from '../../server.js';
import { BLOCK_SIZE, linearChecksum } from './snapshots.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('base64');
const block = (fill: number) => Buffer.alloc(BLOCK_SIZE, fill);
/** An Authorization header whose credential scope names `region` (the sandbox reads the scope, not the signature). */
const signedFor = (region: string) => ({ authorization: `AWS4-HMAC-SHA256 Credential=AKIASANDBOX/20261129/${region}/ebs/aws4_request, SignedHeaders=host, Signature=0` });

describe('EBS direct APIs over HTTP', () => {
  // A stopped clock: the test moves time, the machine's speed does not.
  const sandbox = new Sandbox({ speed: 0 });
  beforeAll(() => sandbox.start());
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.reset());

  const request = async (method: string, path: string, init: { headers?: Record<string, string>; body?: Buffer | string } = {}) => {
    const response = await fetch(`${sandbox.url}${path}`, { method, headers: init.headers, body: init.body });
    const body = Buffer.from(await response.arrayBuffer());
    const text = body.toString('utf8');
    const json = response.headers.get('content-type') === 'application/json' && text ? JSON.parse(text) : undefined;
    return { status: response.status, type: response.headers.get('x-amzn-errortype'), headers: response.headers, body, json };
  };
  const start = async (members: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    (await request('POST', '/snapshots', { headers, body: JSON.stringify({ VolumeSize: 1, ...members }) })).json as { SnapshotId: string };
  const put = (id: string, index: number | string, data: Buffer, headers: Record<string, string> = {}) =>
    request('PUT', `/snapshots/${id}/blocks/${index}`, {
      headers: { 'x-amz-Data-Length': String(data.length), 'x-amz-Checksum': sha(data), 'x-amz-Checksum-Algorithm': 'SHA256', ...headers },
      body: data,
    });
  const complete = (id: string, count: number, headers: Record<string, string> = {}) =>
    request('POST', `/snapshots/completion/${id}`, { headers: { 'x-amz-ChangedBlocksCount': String(count), ...headers } });
  const snapshotOf = (id: string) => sandbox.ebs.snapshots.get(sandbox.region, id)!;

  it.each([
    ['a body shorter than x-amz-Data-Length', (id: string) => put(id, 0, block(1).subarray(1), { 'x-amz-Data-Length': String(BLOCK_SIZE) }), 'INVALID_PARAMETER_VALUE'],
    ['a body of 4 MiB', (id: string) => put(id, 0, Buffer.alloc(4 * BLOCK_SIZE * 2, 1), { 'x-amz-Data-Length': String(BLOCK_SIZE) }), 'INVALID_PARAMETER_VALUE'],
    ['a checksum of other data', (id: string) => put(id, 0, block(1), { 'x-amz-Checksum': sha(block(2)) }), 'INVALID_BLOCK'],
    ['the last index plus one', (id: string) => put(id, 2048, block(1)), 'INVALID_BLOCK'],
    ['a block after CompleteSnapshot', async (id: string) => (await complete(id, 0), put(id, 0, block(1))), 'INVALID_SNAPSHOT_ID'],
    ['a block after the snapshot timed out', (id: string) => (sandbox.clock.advance(61 * 60_000), put(id, 0, block(1))), 'INVALID_SNAPSHOT_ID'],
  ])('PutSnapshotBlock refuses %s with a ValidationException and its Reason, writing nothing', async (_case, act, reason) => {
    const { SnapshotId } = await start();
    const answer = await act(SnapshotId);
    expect(answer).toMatchObject({ status: 400, type: 'ValidationException', json: { Reason: reason } });
    expect(snapshotOf(SnapshotId).blocks.size).toBe(0);
  });

  it.each([
    ['no checksum', { 'x-amz-Checksum': '' }, 'ValidationException'],
    ['an algorithm the model does not know', { 'x-amz-Checksum-Algorithm': 'MD5' }, 'ValidationException'],
    ['a progress over 100', { 'x-amz-Progress': '101' }, 'ValidationException'],
    ['a data length that is not a number', { 'x-amz-Data-Length': 'lots' }, 'SerializationException'],
  ])('PutSnapshotBlock with %s is refused by the model', async (_case, headers, type) => {
    const { SnapshotId } = await start();
    const answer = await put(SnapshotId, 0, block(1), headers);
    expect(answer).toMatchObject({ status: 400, type });
  });

  it.each([
    ['no block written within the timeout', [], 10 * 60_000 + 1, 'error'],
    ['blocks written, not completed within the timeout of the last', [9 * 60_000], 9 * 60_000 + 10 * 60_000 + 1, 'error'],
    ['the last block written less than the timeout ago', [9 * 60_000], 18 * 60_000, 'pending'],
  ])('Timeout (10 minutes): %s', async (_case, writesAt, endAt, state) => {
    const { SnapshotId } = await start({ Timeout: 10 });
    const begun = sandbox.clock.nowMs();
    for (const at of writesAt) {
      sandbox.clock.advance(begun + at - sandbox.clock.nowMs());
      expect(await put(SnapshotId, 0, block(1))).toMatchObject({ status: 201 });
    }
    sandbox.clock.advance(begun + endAt - sandbox.clock.nowMs());
    expect(sandbox.ebs.snapshots.stateOf(snapshotOf(SnapshotId))).toBe(state);
  });

  it('a timed-out snapshot is error; a sealed one pending, then completed after completionDelayMs', async () => {
    const late = await start({ Timeout: 10 });
    const sealed = await start();
    await put(sealed.SnapshotId, 1, block(1));
    expect((await complete(sealed.SnapshotId, 1)).json).toEqual({ Status: 'pending' });
    sandbox.clock.advance(sandbox.ebs.snapshots.completionDelayMs - 1);
    expect(sandbox.ebs.snapshots.stateOf(snapshotOf(sealed.SnapshotId))).toBe('pending');
    sandbox.clock.advance(10 * 60_000);
    expect(sandbox.ebs.snapshots.stateOf(snapshotOf(sealed.SnapshotId))).toBe('completed');
    expect(sandbox.ebs.snapshots.stateOf(snapshotOf(late.SnapshotId))).toBe('error');
    expect((await complete(late.SnapshotId, 0)).json).toMatchObject({ Reason: 'INVALID_SNAPSHOT_ID' });
  });

  // "If you retry an API request with the same client token and the same request parameters after it has completed
  // successfully, the result of the original request is returned" (Ensure idempotency in StartSnapshot API requests):
  // the same snapshot, whatever became of it since; upload-ami's same-attempt re-runs rely on it.
  it('a repeated ClientToken gives back the first snapshot, being written, sealed or completed; other parameters conflict', async () => {
    const first = await start({ ClientToken: 'token-1', Description: 'image' });
    const again = async () => (await request('POST', '/snapshots', { body: JSON.stringify({ VolumeSize: 1, ClientToken: 'token-1', Description: 'image' }) })).json;
    expect(await again()).toMatchObject({ SnapshotId: first.SnapshotId, Status: 'pending' });
    await put(first.SnapshotId, 0, block(1));
    await complete(first.SnapshotId, 1);
    expect(await again()).toMatchObject({ SnapshotId: first.SnapshotId, Status: 'pending' });
    // Sealed: the snapshot given back takes no more blocks.
    expect((await put(first.SnapshotId, 1, block(2))).json).toMatchObject({ Reason: 'INVALID_SNAPSHOT_ID' });
    sandbox.clock.advance(sandbox.ebs.snapshots.completionDelayMs);
    expect(await again()).toMatchObject({ SnapshotId: first.SnapshotId, Status: 'completed' });
    expect(sandbox.ebs.snapshots.inRegion(sandbox.region)).toHaveLength(1);
    const conflict = await request('POST', '/snapshots', { body: JSON.stringify({ VolumeSize: 2, ClientToken: 'token-1', Description: 'image' }) });
    expect(conflict).toMatchObject({ status: 409, type: 'ConflictException' });
  });

  it.each([
    ['the LINEAR checksum of the blocks written', 202, (blocks: Buffer[]) => linearChecksum(new Map(blocks.map((b, i) => [i * 7, { data: b, checksum: sha(b) }])))],
    ['the checksum of the blocks in another order', 400, (blocks: Buffer[]) => linearChecksum(new Map(blocks.reverse().map((b, i) => [i, { data: b, checksum: sha(b) }])))],
    ['the SHA-256 of the base64 checksums', 400, (blocks: Buffer[]) => sha(Buffer.from(blocks.map(sha).join('')))],
  ])('CompleteSnapshot with %s answers %i', async (_case, status, aggregate) => {
    const { SnapshotId } = await start();
    const blocks = [block(1), block(2), block(3)];
    for (const [i, data] of blocks.entries()) await put(SnapshotId, i * 7, data);
    const answer = await complete(SnapshotId, 3, {
      'x-amz-Checksum': aggregate(blocks),
      'x-amz-Checksum-Algorithm': 'SHA256',
      'x-amz-Checksum-Aggregation-Method': 'LINEAR',
    });
    expect(answer.status).toBe(status);
  });

  it('ListSnapshotBlocks pages through written blocks only; GetSnapshotBlock checks the token', async () => {
    const data = block(9);
    const snapshot = sandbox.ebs.seedSnapshot({ volumeSize: 1, blocks: new Map(Array.from({ length: 150 }, (_, i) => [i * 2, data])) });
    const first = await request('GET', `/snapshots/${snapshot.id}/blocks?maxResults=100`);
    expect(first.json.Blocks).toHaveLength(100);
    const second = await request('GET', `/snapshots/${snapshot.id}/blocks?maxResults=100&pageToken=${encodeURIComponent(first.json.NextToken)}`);
    expect(second.json.Blocks.map((b: { BlockIndex: number }) => b.BlockIndex)).toEqual(Array.from({ length: 50 }, (_, i) => 200 + i * 2));
    expect(second.json.NextToken).toBeUndefined();
    const bad = await request('GET', `/snapshots/${snapshot.id}/blocks?pageToken=AAAA`);
    expect(bad.json).toMatchObject({ Reason: 'INVALID_PAGE_TOKEN' });
    sandbox.clock.advance(60 * 60_000 + 1);
    const expired = await request('GET', `/snapshots/${snapshot.id}/blocks?maxResults=100&pageToken=${encodeURIComponent(first.json.NextToken)}`);
    expect(expired.json).toMatchObject({ Reason: 'INVALID_PAGE_TOKEN', message: 'The page token has expired.' });
    const { BlockIndex, BlockToken } = second.json.Blocks[0];
    const got = await request('GET', `/snapshots/${snapshot.id}/blocks/${BlockIndex}?blockToken=${encodeURIComponent(BlockToken)}`);
    expect(got.body.equals(data)).toBe(true);
    expect(got.headers.get('x-amz-checksum')).toBe(sha(data));
    const forged = await request('GET', `/snapshots/${snapshot.id}/blocks/1?blockToken=${encodeURIComponent(BlockToken)}`);
    expect(forged.json).toMatchObject({ Reason: 'INVALID_BLOCK_TOKEN' });
    expect(sandbox.ebs.snapshots.bytes(snapshot, 3 * BLOCK_SIZE).equals(Buffer.concat([data, block(0), data]))).toBe(true);
  });

  it('an incremental snapshot starts from its parent, counts only the blocks written to it, and is no smaller', async () => {
    const parent = sandbox.ebs.seedSnapshot({ volumeSize: 2, blocks: new Map([[0, block(1)]]) });
    const { SnapshotId } = await start({ ParentSnapshotId: parent.id, VolumeSize: 2 });
    await put(SnapshotId, 3000, block(2));
    expect((await complete(SnapshotId, 2)).json).toMatchObject({ Reason: 'INVALID_PARAMETER_VALUE' });
    expect((await complete(SnapshotId, 1)).status).toBe(202);
    expect([...snapshotOf(SnapshotId).blocks.keys()]).toEqual([0, 3000]);
    const smaller = await request('POST', '/snapshots', { body: JSON.stringify({ VolumeSize: 1, ParentSnapshotId: parent.id }) });
    expect(smaller.json).toMatchObject({ Reason: 'INVALID_VOLUME_SIZE' });
  });

  it.each([
    ['a volume over 64 TiB', { VolumeSize: 65_537 }, 'INVALID_VOLUME_SIZE'],
    ['a parent with Encrypted', { ParentSnapshotId: 'snap-0123456789abcdef0', Encrypted: true }, 'INVALID_PARAMETER_VALUE'],
    ['an aws: tag', { Tags: [{ Key: 'aws:x', Value: '1' }] }, 'INVALID_TAG'],
    ['a tag key given twice', { Tags: [{ Key: 'a', Value: '1' }, { Key: 'a', Value: '2' }] }, 'INVALID_TAG'],
  ])('StartSnapshot refuses %s and starts nothing', async (_case, members, reason) => {
    const answer = await request('POST', '/snapshots', { body: JSON.stringify({ VolumeSize: 1, ...members }) });
    expect(answer).toMatchObject({ status: 400, type: 'ValidationException', json: { Reason: reason } });
    expect(sandbox.ebs.snapshots.inRegion(sandbox.region)).toEqual([]);
  });

  it('with keepData off, blocks are checked and counted but not kept', async () => {
    sandbox.ebs.snapshots.keepData = false;
    const { SnapshotId } = await start();
    const data = block(4);
    await put(SnapshotId, 0, data);
    const aggregate = linearChecksum(new Map([[0, { checksum: sha(data) }]]));
    const done = await complete(SnapshotId, 1, { 'x-amz-Checksum': aggregate, 'x-amz-Checksum-Algorithm': 'SHA256', 'x-amz-Checksum-Aggregation-Method': 'LINEAR' });
    expect(done.status).toBe(202);
    expect(snapshotOf(SnapshotId).blocks.get(0)).toEqual({ checksum: sha(data), data: undefined });
  });

  it('a call signed with expired credentials is ExpiredTokenException, as the JSON protocols answer it', async () => {
    const issued = sandbox.sts.issue('arn:aws:sts::123456789012:assumed-role/upload/run-1', 'AROA:run-1', 900);
    sandbox.clock.advance(901_000);
    const scope = `AWS4-HMAC-SHA256 Credential=${issued.accessKeyId}/20261129/${sandbox.region}/ebs/aws4_request, SignedHeaders=host, Signature=0`;
    const answer = await request('POST', '/snapshots', { headers: { authorization: scope }, body: JSON.stringify({ VolumeSize: 1 }) });
    expect(answer).toMatchObject({ status: 400, type: 'ExpiredTokenException' });
    expect(sandbox.ebs.snapshots.inRegion(sandbox.region)).toEqual([]);
  });

  it('snapshots are per region: the credential scope names it', async () => {
    const { SnapshotId } = await start({}, signedFor('eu-west-1'));
    expect(sandbox.ebs.snapshots.get('eu-west-1', SnapshotId)).toBeDefined();
    expect(await put(SnapshotId, 0, block(1))).toMatchObject({ status: 404, type: 'ResourceNotFoundException', json: { Reason: 'SNAPSHOT_NOT_FOUND' } });
    expect(await put(SnapshotId, 0, block(1), signedFor('eu-west-1'))).toMatchObject({ status: 201 });
  });

  it.each([
    [{ kind: 'throttle' as const }, 400, 'RequestThrottledException'],
    [{ kind: 'throttle' as const, code: 'ConcurrentLimitExceededException' }, 400, 'ConcurrentLimitExceededException'],
    [{ kind: 'server-error' as const, code: 'InternalServerException' }, 500, 'InternalServerException'],
  ])('a %o fault answers %i %s and writes nothing', async (fault, status, type) => {
    const { SnapshotId } = await start();
    sandbox.faults.add({ ...fault, service: 'ebs', operation: 'PutSnapshotBlock', count: 1 });
    expect(await put(SnapshotId, 0, block(1))).toMatchObject({ status, type });
    expect(snapshotOf(SnapshotId).blocks.size).toBe(0);
    expect(await put(SnapshotId, 0, block(1))).toMatchObject({ status: 201 });
  });

  it('logs a block write by its headers, never its data', async () => {
    const { SnapshotId } = await start({ Tags: [{ Key: 'StorePath', Value: '/nix/store/abc-nixos' }] });
    await put(SnapshotId, 5, block(1), { 'x-amz-Progress': '50' });
    const [, logged] = sandbox.calls.all();
    expect(logged).toMatchObject({ service: 'ebs', operation: 'PutSnapshotBlock', status: 200 });
    expect(logged.params).toEqual({ SnapshotId, BlockIndex: 5, DataLength: BLOCK_SIZE, Checksum: sha(block(1)), ChecksumAlgorithm: 'SHA256', Progress: 50 });
  });
});
