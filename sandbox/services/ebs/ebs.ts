/**
 * The EBS direct APIs (restJson, `ebs.<region>.amazonaws.com`): write a snapshot block by block and read it back.
 * Checks beyond the model, as the API reference states them: the block size (524288 bytes), the block index
 * within the volume size, the block's SHA-256 checksum, a snapshot that still accepts blocks, the changed-blocks
 * count and the LINEAR aggregate checksum on completion, and StartSnapshot's ClientToken. Which `Reason` AWS gives
 * for each refusal is not documented beyond the enum; the sandbox picks the closest member of it.
 */
import { createHash } from 'node:crypto';
import { AwsError, AwsErrorWithFields } from '../../errors.js';
import type { Account, CallContext, Operation, Service } from '../../service.js';
import {
  BLOCK_SIZE,
  BLOCKS_PER_GIB,
  DEFAULT_TIMEOUT_MINUTES,
  linearChecksum,
  newId,
  sha256Base64,
  SnapshotStore,
  type Snapshot,
} from './snapshots.js';

/** StartSnapshot's `VolumeSize`: "The maximum size is 65536 GiB (64 TiB)." */
const MAX_VOLUME_GIB = 65_536;
/** Tags per resource, EC2's limit. */
const MAX_TAGS = 50;
/** How long ListSnapshotBlocks' block tokens stay valid (the EBS direct APIs FAQ: seven days)... */
const TOKEN_LIFETIME_MS = 7 * 24 * 3600_000;
/** ...and its page tokens (60 minutes). */
const PAGE_TOKEN_LIFETIME_MS = 60 * 60_000;
const DEFAULT_PAGE = 10_000;

type Tag = { Key?: string; Value?: string };

const withReason = (code: string, status: number, message: string, reason: string): AwsError =>
  new AwsErrorWithFields(code, message, status, { Reason: reason });
export const invalid = (message: string, reason: string): AwsError => withReason('ValidationException', 400, message, reason);
const notFound = (id: string): AwsError =>
  withReason('ResourceNotFoundException', 404, `The snapshot '${id}' does not exist.`, 'SNAPSHOT_NOT_FOUND');

/** JSON with sorted keys, so a retried request compares equal to the first whatever its member order. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );

/** A block's token: opaque, stable for the block's content, and unforgeable without it. */
const blockToken = (snapshot: Snapshot, index: number, checksum: string): string =>
  createHash('sha256').update(`${snapshot.id}:${index}:${checksum}`).digest('base64');

const tagList = (tags: Map<string, string>): Tag[] | undefined =>
  tags.size === 0 ? undefined : [...tags].map(([Key, Value]) => ({ Key, Value }));

function readTags(tags: Tag[] | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const tag of tags ?? []) {
    const key = tag.Key ?? '';
    if (key === '' || key.toLowerCase().startsWith('aws:')) throw invalid(`The tag key '${key}' is not valid.`, 'INVALID_TAG');
    if (map.has(key)) throw invalid(`The tag key '${key}' is given more than once.`, 'INVALID_TAG');
    map.set(key, tag.Value ?? '');
  }
  if (map.size > MAX_TAGS) throw invalid(`A snapshot can have at most ${MAX_TAGS} tags.`, 'INVALID_TAG');
  return map;
}

interface StartParams {
  VolumeSize: number;
  ParentSnapshotId?: string;
  Tags?: Tag[];
  Description?: string;
  ClientToken?: string;
  Encrypted?: boolean;
  KmsKeyArn?: string;
  Timeout?: number;
}

export class EbsService implements Service {
  readonly name = 'ebs';
  readonly protocol = 'rest-json' as const;
  readonly snapshots: SnapshotStore;

  constructor(private readonly account: Account) {
    this.snapshots = new SnapshotStore(account);
  }

  /**
   * Seeds a completed snapshot (tests and benchmarks): `blocks` by index, each of BLOCK_SIZE bytes; in the
   * sandbox's region unless `region` is given.
   */
  seedSnapshot(seed: { volumeSize: number; blocks?: Map<number, Buffer>; tags?: Record<string, string>; region?: string }): Snapshot {
    const now = this.account.clock.now();
    const blocks = new Map([...(seed.blocks ?? [])].map(([index, data]) => [index, { data, checksum: sha256Base64(data) }]));
    return this.snapshots.add({
      id: newId('snap'),
      region: seed.region ?? this.account.region,
      ownerId: this.account.accountId,
      volumeSize: seed.volumeSize,
      tags: new Map(Object.entries(seed.tags ?? {})),
      startTime: now,
      timeoutMinutes: DEFAULT_TIMEOUT_MINUTES,
      encrypted: false,
      volumeId: 'vol-ffffffff',
      blocks,
      changed: new Set(blocks.keys()),
      readyAtMs: now.getTime(),
    });
  }

  private regionOf = (call: CallContext): string => call.region ?? this.account.region;

  private find(call: CallContext, id: string): Snapshot {
    const snapshot = this.snapshots.get(this.regionOf(call), id);
    if (!snapshot) throw notFound(id);
    return snapshot;
  }

  private completed(call: CallContext, id: string): Snapshot {
    const snapshot = this.find(call, id);
    if (this.snapshots.stateOf(snapshot) !== 'completed') {
      throw invalid(`The snapshot '${id}' is not completed: only completed snapshots can be read.`, 'INVALID_SNAPSHOT_ID');
    }
    return snapshot;
  }

  private startAnswer(snapshot: Snapshot): Record<string, unknown> {
    return {
      Description: snapshot.description,
      SnapshotId: snapshot.id,
      OwnerId: snapshot.ownerId,
      Status: this.snapshots.stateOf(snapshot),
      StartTime: snapshot.startTime,
      VolumeSize: snapshot.volumeSize,
      BlockSize: BLOCK_SIZE,
      Tags: tagList(snapshot.tags),
      ParentSnapshotId: snapshot.parentSnapshotId,
      KmsKeyArn: snapshot.kmsKeyArn,
    };
  }

  /** The parent of an incremental snapshot: completed, in the region, no larger than the new volume. */
  private parentOf(call: CallContext, params: StartParams): Snapshot | undefined {
    if (params.ParentSnapshotId === undefined) return undefined;
    const parent = this.snapshots.get(this.regionOf(call), params.ParentSnapshotId);
    if (!parent) {
      throw withReason('ResourceNotFoundException', 404, `The parent snapshot '${params.ParentSnapshotId}' does not exist.`, 'DEPENDENCY_RESOURCE_NOT_FOUND');
    }
    if (this.snapshots.stateOf(parent) !== 'completed') {
      throw invalid(`The parent snapshot '${parent.id}' is not completed.`, 'INVALID_DEPENDENCY_REQUEST');
    }
    if (params.VolumeSize < parent.volumeSize) {
      throw invalid(`The volume size must be at least the parent snapshot's, ${parent.volumeSize} GiB.`, 'INVALID_VOLUME_SIZE');
    }
    return parent;
  }

  private start(params: StartParams, call: CallContext): Record<string, unknown> {
    const region = this.regionOf(call);
    const fingerprint = canonical({ ...params, ClientToken: undefined });
    const earlier = params.ClientToken === undefined ? undefined : this.snapshots.byClientToken(region, params.ClientToken);
    if (earlier) {
      if (earlier.fingerprint !== fingerprint) {
        throw new AwsError('ConflictException', 'The request uses the same client token as a previous, but non-identical request.', 409);
      }
      return this.startAnswer(earlier);
    }
    // "You can't specify ParentSnapshotId and Encrypted in the same request."
    if (params.ParentSnapshotId !== undefined && params.Encrypted !== undefined) {
      throw invalid('You cannot specify ParentSnapshotId and Encrypted in the same request.', 'INVALID_PARAMETER_VALUE');
    }
    if (params.VolumeSize > MAX_VOLUME_GIB) {
      throw invalid(`The volume size must be at most ${MAX_VOLUME_GIB} GiB.`, 'INVALID_VOLUME_SIZE');
    }
    const tags = readTags(params.Tags);
    const parent = this.parentOf(call, params);
    const snapshot = this.snapshots.add({
      id: newId('snap'),
      region,
      ownerId: this.account.accountId,
      volumeSize: params.VolumeSize,
      description: params.Description,
      tags,
      startTime: this.account.clock.now(),
      timeoutMinutes: params.Timeout ?? DEFAULT_TIMEOUT_MINUTES,
      encrypted: params.Encrypted === true || parent?.encrypted === true,
      kmsKeyArn: params.KmsKeyArn,
      parentSnapshotId: parent?.id,
      volumeId: 'vol-ffffffff',
      blocks: new Map(parent?.blocks),
      changed: new Set(),
      clientToken: params.ClientToken,
      fingerprint,
    });
    return this.startAnswer(snapshot);
  }

  private put(
    params: { SnapshotId: string; BlockIndex: number; DataLength: number; Checksum: string; Progress?: number },
    call: CallContext,
  ): Record<string, unknown> {
    const snapshot = this.find(call, params.SnapshotId);
    if (!this.snapshots.acceptsBlocks(snapshot)) {
      throw invalid(`The snapshot '${snapshot.id}' is not pending: blocks can only be written before CompleteSnapshot and within its timeout.`, 'INVALID_SNAPSHOT_ID');
    }
    const blocks = snapshot.volumeSize * BLOCKS_PER_GIB;
    if (params.BlockIndex >= blocks) {
      throw invalid(`The block index ${params.BlockIndex} is beyond the volume: a ${snapshot.volumeSize} GiB snapshot has blocks 0 to ${blocks - 1}.`, 'INVALID_BLOCK');
    }
    const data = call.payload ?? Buffer.alloc(0);
    if (params.DataLength !== BLOCK_SIZE || data.length !== BLOCK_SIZE) {
      throw invalid(`The block data must be ${BLOCK_SIZE} bytes (x-amz-Data-Length ${params.DataLength}, ${data.length} bytes sent).`, 'INVALID_PARAMETER_VALUE');
    }
    const checksum = sha256Base64(data);
    if (checksum !== params.Checksum) {
      throw invalid(`The checksum ${params.Checksum} does not match the block data's SHA-256, ${checksum}.`, 'INVALID_BLOCK');
    }
    snapshot.blocks.set(params.BlockIndex, { data: this.snapshots.keepData ? data : undefined, checksum });
    snapshot.changed.add(params.BlockIndex);
    snapshot.lastWriteMs = this.account.clock.nowMs();
    return { Checksum: checksum, ChecksumAlgorithm: 'SHA256' };
  }

  private complete(
    params: { SnapshotId: string; ChangedBlocksCount: number; Checksum?: string; ChecksumAlgorithm?: string; ChecksumAggregationMethod?: string },
    call: CallContext,
  ): Record<string, unknown> {
    const snapshot = this.find(call, params.SnapshotId);
    if (snapshot.sealedAtMs !== undefined) return { Status: this.snapshots.stateOf(snapshot) };
    if (!this.snapshots.acceptsBlocks(snapshot)) {
      throw invalid(`The snapshot '${snapshot.id}' timed out before it was completed.`, 'INVALID_SNAPSHOT_ID');
    }
    if (params.ChangedBlocksCount !== snapshot.changed.size) {
      throw invalid(`ChangedBlocksCount ${params.ChangedBlocksCount} does not match the ${snapshot.changed.size} blocks written.`, 'INVALID_PARAMETER_VALUE');
    }
    if (params.Checksum !== undefined) {
      if (params.ChecksumAlgorithm === undefined || params.ChecksumAggregationMethod === undefined) {
        throw invalid('An aggregated checksum needs x-amz-Checksum-Algorithm and x-amz-Checksum-Aggregation-Method.', 'INVALID_PARAMETER_VALUE');
      }
      const changed = new Map([...snapshot.changed].map((index) => [index, snapshot.blocks.get(index)!]));
      const expected = linearChecksum(changed);
      if (expected !== params.Checksum) {
        throw invalid(`The aggregated checksum ${params.Checksum} does not match the blocks written, ${expected}.`, 'INVALID_PARAMETER_VALUE');
      }
    }
    snapshot.sealedAtMs = this.account.clock.nowMs();
    return { Status: 'pending' };
  }

  private list(
    params: { SnapshotId: string; NextToken?: string; MaxResults?: number; StartingBlockIndex?: number },
    call: CallContext,
  ): Record<string, unknown> {
    const snapshot = this.completed(call, params.SnapshotId);
    let from = params.StartingBlockIndex ?? 0;
    // "If NextToken is specified with StartingBlockIndex, NextToken is used"; it is valid for 60 minutes.
    if (params.NextToken !== undefined) {
      const match = /^(snap-[0-9a-f]+):(\d+):(\d+)$/.exec(Buffer.from(params.NextToken, 'base64').toString('utf8'));
      if (!match || match[1] !== snapshot.id) throw invalid('The page token is not valid.', 'INVALID_PAGE_TOKEN');
      if (this.account.clock.nowMs() > Number(match[3]) + PAGE_TOKEN_LIFETIME_MS) throw invalid('The page token has expired.', 'INVALID_PAGE_TOKEN');
      from = Number(match[2]);
    }
    const indexes = [...snapshot.blocks.keys()].filter((i) => i >= from).sort((a, b) => a - b);
    const page = indexes.slice(0, params.MaxResults ?? DEFAULT_PAGE);
    const next = indexes[page.length];
    return {
      Blocks: page.map((index) => ({ BlockIndex: index, BlockToken: blockToken(snapshot, index, snapshot.blocks.get(index)!.checksum) })),
      ExpiryTime: new Date(this.account.clock.nowMs() + TOKEN_LIFETIME_MS),
      VolumeSize: snapshot.volumeSize,
      BlockSize: BLOCK_SIZE,
      NextToken: next === undefined ? undefined : Buffer.from(`${snapshot.id}:${next}:${this.account.clock.nowMs()}`).toString('base64'),
    };
  }

  private get(params: { SnapshotId: string; BlockIndex: number; BlockToken: string }, call: CallContext): Record<string, unknown> {
    const snapshot = this.completed(call, params.SnapshotId);
    const block = snapshot.blocks.get(params.BlockIndex);
    if (!block || blockToken(snapshot, params.BlockIndex, block.checksum) !== params.BlockToken) {
      throw invalid(`The block token is not valid for block ${params.BlockIndex} of '${snapshot.id}'.`, 'INVALID_BLOCK_TOKEN');
    }
    if (!block.data) throw new AwsError('InternalServerException', 'The sandbox did not keep this block\'s data (snapshots.keepData is off).', 500);
    return { DataLength: block.data.length, BlockData: block.data, Checksum: block.checksum, ChecksumAlgorithm: 'SHA256' };
  }

  readonly operations: Record<string, Operation> = {
    StartSnapshot: (params: StartParams, call: CallContext) => this.start(params, call),
    PutSnapshotBlock: (params, call: CallContext) => this.put(params, call),
    CompleteSnapshot: (params, call: CallContext) => this.complete(params, call),
    ListSnapshotBlocks: (params, call: CallContext) => this.list(params, call),
    GetSnapshotBlock: (params, call: CallContext) => this.get(params, call),
  };
}
