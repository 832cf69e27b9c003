/**
 * EBS snapshots, shared by the EBS direct APIs (which write them block by block) and EC2 (which describes, deletes,
 * copies and registers images from them). Snapshots are per region. State is derived from the sandbox clock on
 * every read: a started snapshot is `pending`; `CompleteSnapshot` seals it and it turns `completed`
 * `completionDelayMs` later; one not completed within its `Timeout` turns `error`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Account } from '../../service.js';

/** The EBS direct APIs' block size, in bytes (StartSnapshot's `BlockSize`). */
export const BLOCK_SIZE = 524_288;
/** Blocks per GiB of volume size. */
export const BLOCKS_PER_GIB = (1024 * 1024 * 1024) / BLOCK_SIZE;
/** StartSnapshot's `Timeout` default, in minutes ("If no value is specified, the timeout defaults to 60 minutes"). */
export const DEFAULT_TIMEOUT_MINUTES = 60;

export interface Block {
  /** Undefined when the store was told not to keep block data (`keepData`). */
  data?: Buffer;
  /** Base64 SHA-256 of `data`. */
  checksum: string;
}

export interface Snapshot {
  id: string;
  region: string;
  ownerId: string;
  /** GiB. */
  volumeSize: number;
  description?: string;
  tags: Map<string, string>;
  startTime: Date;
  /**
   * StartSnapshot's `Timeout`: the snapshot is cancelled (`error`) when no block is written, or it is not completed,
   * this many minutes after its start or its last block write.
   */
  timeoutMinutes: number;
  /** Sandbox time (ms) of the last block written; the start until then. */
  lastWriteMs?: number;
  encrypted: boolean;
  kmsKeyArn?: string;
  parentSnapshotId?: string;
  /** EBS direct API snapshots have no volume: EC2 shows `vol-ffffffff`. */
  volumeId: string;
  blocks: Map<number, Block>;
  /** Indexes written to this snapshot (not inherited from its parent): what `ChangedBlocksCount` counts. */
  changed: Set<number>;
  /** Sandbox time (ms) of the CompleteSnapshot that sealed it. */
  sealedAtMs?: number;
  /** Sandbox time (ms) at which a copy (CopyImage) completes, when this is one. */
  readyAtMs?: number;
  clientToken?: string;
  /** StartSnapshot's parameters, to tell a retry from a reuse of its ClientToken. */
  fingerprint?: string;
}

export type SnapshotState = 'pending' | 'completed' | 'error';

export const sha256Base64 = (data: Buffer): string => createHash('sha256').update(data).digest('base64');

/**
 * CompleteSnapshot's LINEAR aggregate: SHA-256 over the written blocks' SHA-256 digests (raw 32-byte values, not
 * their base64 text) concatenated in ascending block index order, base64-encoded. That is what AWS's own
 * uploader (awslabs/coldsnap) sends; the API reference says "concatenate them ... and generate the checksum".
 */
export function linearChecksum(blocks: Map<number, Block>): string {
  const hash = createHash('sha256');
  for (const index of [...blocks.keys()].sort((a, b) => a - b)) hash.update(Buffer.from(blocks.get(index)!.checksum, 'base64'));
  return hash.digest('base64');
}

export const newId = (prefix: string): string => `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;

export class SnapshotStore {
  private readonly snapshots = new Map<string, Snapshot>();
  /** How long a sealed snapshot stays `pending`, on the sandbox clock. */
  completionDelayMs = 30_000;
  /**
   * Whether written blocks keep their data. A benchmark uploading gigabytes turns this off: the checks (checksums,
   * counts, the aggregate) still hold, but blocks can no longer be read back.
   */
  keepData = true;

  constructor(private readonly account: Account) {}

  add(snapshot: Snapshot): Snapshot {
    this.snapshots.set(snapshot.id, snapshot);
    return snapshot;
  }

  /** The snapshot `id` in `region`; undefined when it does not exist there (or was deleted). */
  get(region: string, id: string): Snapshot | undefined {
    const snapshot = this.snapshots.get(id);
    return snapshot?.region === region ? snapshot : undefined;
  }

  delete(id: string): void {
    this.snapshots.delete(id);
  }

  inRegion(region: string): Snapshot[] {
    return [...this.snapshots.values()].filter((s) => s.region === region);
  }

  byClientToken(region: string, token: string): Snapshot | undefined {
    return this.inRegion(region).find((s) => s.clientToken === token);
  }

  stateOf(snapshot: Snapshot): SnapshotState {
    const now = this.account.clock.nowMs();
    if (snapshot.readyAtMs !== undefined) return now >= snapshot.readyAtMs ? 'completed' : 'pending';
    if (snapshot.sealedAtMs !== undefined) return now >= snapshot.sealedAtMs + this.completionDelayMs ? 'completed' : 'pending';
    const active = snapshot.lastWriteMs ?? snapshot.startTime.getTime();
    return now > active + snapshot.timeoutMinutes * 60_000 ? 'error' : 'pending';
  }

  /** Whether blocks may still be written: started, not sealed, not timed out. */
  acceptsBlocks(snapshot: Snapshot): boolean {
    return snapshot.sealedAtMs === undefined && snapshot.readyAtMs === undefined && this.stateOf(snapshot) === 'pending';
  }

  /** The first `length` bytes of the snapshot as a volume made from it reads them (tests compare an image with it). */
  bytes(snapshot: Snapshot, length: number): Buffer {
    const blocks = Math.ceil(length / BLOCK_SIZE);
    return Buffer.concat(Array.from({ length: blocks }, (_, index) => this.read(snapshot, index))).subarray(0, length);
  }

  /** The block at `index` as a reader sees it: written data, or zeros for a block never written. */
  read(snapshot: Snapshot, index: number): Buffer {
    const block = snapshot.blocks.get(index);
    if (block && !block.data) throw new Error(`block ${index} of ${snapshot.id} was written while keepData was off`);
    return block?.data ?? Buffer.alloc(BLOCK_SIZE);
  }
}
