/**
 * Writes a raw disk image into a started EBS snapshot with PutSnapshotBlock: the file is read once, front to back,
 * in 512 KiB blocks; an all-zero block is skipped (an EBS snapshot reads unwritten blocks as zeros); the others are
 * sent `concurrency` at a time, so that at most that many blocks are in memory. Throttling
 * (`RequestThrottledException`, `ConcurrentLimitExceededException`) halves the concurrency and the block is tried
 * again after a backoff; successes raise it again one at a time. Other transient failures (5xx, a hung attempt)
 * are tried again a few times; anything else ends the upload.
 */
import { open } from 'node:fs/promises';
import { isTransientError } from '../shared/transient.js';
import { sleep } from '../shared/sleep.js';
import { BLOCK_SIZE, blockChecksum, blockCount, isThrottling, isZeroBlock, nextConcurrency, progressLine } from './plan.js';

/** One PutSnapshotBlock; the caller's client hands `signal` to the SDK. */
export type PutBlock = (block: { index: number; data: Buffer; checksum: string }, signal: AbortSignal) => Promise<void>;

export interface UploadOptions {
  file: string;
  imageBytes: number;
  putBlock: PutBlock;
  /** The most blocks in flight (and in memory) at once. */
  concurrency: number;
  signal: AbortSignal;
  /** Send every block, zeros included: the reference tool's method, for the benchmark. */
  sendZeroBlocks?: boolean;
  log: (line: string) => void;
  /** Between two progress lines. Default {@link PROGRESS_INTERVAL_MS}. */
  progressIntervalMs?: number;
  /** Attempts per block for failures other than throttling. Default {@link BLOCK_ATTEMPTS}. */
  blockAttempts?: number;
  /** Called as counts change, so that a report made at any moment has them. */
  onProgress?: (progress: UploadProgress) => void;
}

export interface UploadProgress {
  /** Blocks read from the file so far. */
  read: number;
  total: number;
  /** Blocks written to the snapshot. */
  sent: number;
  skipped: number;
  sentBytes: number;
  /** Answers of EBS that were throttling, each followed by a slower pace. */
  throttled: number;
  /** The lowest concurrency the upload fell to. */
  lowestConcurrency: number;
}

export interface UploadResult extends UploadProgress {
  /** Each written block's raw SHA-256, by index: the LINEAR aggregate is made from them. */
  digests: Map<number, Buffer>;
  /** Block buffers ever allocated: at most `concurrency`, whatever the image's size. */
  buffers: number;
}

export const PROGRESS_INTERVAL_MS = 5_000;
/** A block's attempts for a 5xx or a hung attempt: the SDK's own default (3) and two more. */
export const BLOCK_ATTEMPTS = 5;
/** Backoff after throttling or a transient failure: full jitter from 200 ms, capped at 10 s. */
const BASE_DELAY_MS = 200;
const MAX_DELAY_MS = 10_000;

export async function uploadBlocks(o: UploadOptions): Promise<UploadResult> {
  const total = blockCount(o.imageBytes);
  const max = o.concurrency;
  const attempts = o.blockAttempts ?? BLOCK_ATTEMPTS;
  const interval = o.progressIntervalMs ?? PROGRESS_INTERVAL_MS;
  const progress: UploadProgress = { read: 0, total, sent: 0, skipped: 0, sentBytes: 0, throttled: 0, lowestConcurrency: max };
  const digests = new Map<number, Buffer>();
  const started = Date.now();
  let lastLine = started;
  const report = (force = false) => {
    o.onProgress?.({ ...progress });
    const now = Date.now();
    if (force || now - lastLine >= interval) {
      lastLine = now;
      o.log(progressLine({ ...progress, imageBytes: o.imageBytes, elapsedMs: now - started }));
    }
  };

  // The first failure that ends the upload; every block still in flight is then abandoned.
  const stop = new AbortController();
  const signal = AbortSignal.any([o.signal, stop.signal]);
  let failure: unknown;
  let limit = max;
  let okInRow = 0;
  const inFlight = new Set<Promise<void>>();
  let wake: (() => void) | undefined;
  const settled = () => {
    wake?.();
    wake = undefined;
  };

  const send = async (index: number, data: Buffer): Promise<void> => {
    const { digest, base64 } = blockChecksum(data);
    for (let attempt = 1, transient = 0; ; attempt += 1) {
      try {
        await o.putBlock({ index, data, checksum: base64 }, signal);
        digests.set(index, digest);
        progress.sent += 1;
        progress.sentBytes += data.length;
        okInRow += 1;
        const next = nextConcurrency(limit, max, 'ok', okInRow);
        if (next !== limit) okInRow = 0;
        limit = next;
        return;
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (isThrottling(error)) {
          progress.throttled += 1;
          const next = nextConcurrency(limit, max, 'throttled', 0);
          if (next < limit) o.log(`EBS throttled block ${index} (${(error as Error).name}): ${limit} -> ${next} blocks in flight.`);
          limit = next;
          okInRow = 0;
          progress.lowestConcurrency = Math.min(progress.lowestConcurrency, limit);
        } else if (isTransientError(error) && (transient += 1) < attempts) {
          o.log(`PutSnapshotBlock of block ${index} failed (attempt ${transient}): ${(error as Error).message}; trying again.`);
        } else {
          throw Object.assign(new Error(`PutSnapshotBlock of block ${index} failed: ${(error as Error).message}`), { cause: error });
        }
        await sleep(Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(attempt, 10)), signal);
        if (signal.aborted) throw signal.reason;
      }
    }
  };

  // At most `max` blocks exist: each is read into a buffer of this pool and returns to it once written (or skipped),
  // so memory stays at `max` x 512 KiB however fast the file is read, and no garbage waits for the collector.
  const pool: Buffer[] = [];
  let allocated = 0;
  const take = (): Buffer => pool.pop() ?? (allocated += 1, Buffer.allocUnsafe(BLOCK_SIZE));

  const handle = await open(o.file, 'r');
  const ticker = setInterval(() => report(), interval);
  try {
    for (let index = 0; index < total && !signal.aborted; index += 1) {
      // Throttling lowers `limit` below what is in flight: wait for enough blocks to land.
      while (inFlight.size >= limit && !signal.aborted) await new Promise<void>((resolve) => (wake = resolve));
      if (signal.aborted) break;
      const data = take();
      let filled = 0;
      const length = Math.min(BLOCK_SIZE, o.imageBytes - index * BLOCK_SIZE);
      // A short last block is padded with zeros: EBS takes only whole blocks, and reads the padding as the disk's.
      if (length < BLOCK_SIZE) data.fill(0, length);
      while (filled < length) {
        const { bytesRead } = await handle.read(data, filled, length - filled, index * BLOCK_SIZE + filled);
        if (bytesRead === 0) throw new Error(`${o.file} ended at ${index * BLOCK_SIZE + filled} bytes, before its ${o.imageBytes}: it changed while being read`);
        filled += bytesRead;
      }
      progress.read += 1;
      if (!o.sendZeroBlocks && isZeroBlock(data)) {
        progress.skipped += 1;
        pool.push(data);
        continue;
      }
      const task: Promise<void> = send(index, data)
        .catch((error: unknown) => {
          if (failure === undefined) failure = error;
          stop.abort(error);
        })
        .finally(() => {
          pool.push(data);
          inFlight.delete(task);
          report();
          settled();
        });
      inFlight.add(task);
    }
    await Promise.all(inFlight);
  } catch (error) {
    // A read error ends the upload like a failed block: the blocks in flight are stopped and waited for, so none
    // reaches EBS after the caller deletes the snapshot, and none is tried again after the error.
    if (failure === undefined) failure = error;
    stop.abort(error);
    await Promise.all(inFlight);
  } finally {
    clearInterval(ticker);
    await handle.close();
  }
  if (failure !== undefined) throw failure;
  if (o.signal.aborted) throw o.signal.reason;
  report(true);
  return { ...progress, digests, buffers: allocated };
}
