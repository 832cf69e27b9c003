import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { BLOCK_SIZE, blockChecksum } from './plan.js';
import { uploadBlocks, type PutBlock } from './upload.js';

const dir = mkdtempSync(join(tmpdir(), 'upload-ami-upload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file of `blocks` blocks and `tail` bytes more, where the blocks in `data` hold their index and the rest zeros. */
function image(name: string, blocks: number, data: number[], tail = 0): { file: string; bytes: Buffer } {
  const bytes = Buffer.alloc(blocks * BLOCK_SIZE + tail);
  for (const index of data) bytes.fill(index + 1, index * BLOCK_SIZE, Math.min(bytes.length, index * BLOCK_SIZE + 1000));
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return { file, bytes };
}

/** A PutSnapshotBlock that records what it got, holds each call a few event-loop turns, and fails as `fail` says. */
function recorder(fail: (index: number, attempt: number) => { name: string; status?: number } | undefined = () => undefined) {
  const written = new Map<number, Buffer>();
  const attempts = new Map<number, number>();
  let inFlight = 0;
  let most = 0;
  const putBlock: PutBlock = async (block) => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    try {
      for (let i = 0; i < 3; i += 1) await new Promise((resolve) => setImmediate(resolve));
      const attempt = (attempts.get(block.index) ?? 0) + 1;
      attempts.set(block.index, attempt);
      const failure = fail(block.index, attempt);
      if (failure) {
        throw Object.assign(new Error(`${failure.name} for block ${block.index}`), { name: failure.name, $metadata: { httpStatusCode: failure.status ?? 400 } });
      }
      expect(block.checksum).toBe(blockChecksum(block.data).base64);
      written.set(block.index, Buffer.from(block.data));
    } finally {
      inFlight -= 1;
    }
  };
  return { putBlock, written, attempts, most: () => most };
}

const run = (file: string, imageBytes: number, putBlock: PutBlock, concurrency = 4) =>
  uploadBlocks({ file, imageBytes, putBlock, concurrency, signal: new AbortController().signal, log: () => undefined, progressIntervalMs: 60_000 });

describe('uploadBlocks', () => {
  it('writes each non-zero block once, pads the last, keeps at most `concurrency` blocks in flight and in memory', async () => {
    const { file, bytes } = image('mixed.raw', 40, [0, 1, 2, 7, 20, 21, 39, 40], 4096);
    const put = recorder();
    const result = await run(file, bytes.length, put.putBlock, 4);

    expect([...put.written.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2, 7, 20, 21, 39, 40]);
    expect(put.written.get(40)).toEqual(Buffer.concat([bytes.subarray(40 * BLOCK_SIZE), Buffer.alloc(BLOCK_SIZE - 4096)]));
    expect(put.written.get(7)).toEqual(bytes.subarray(7 * BLOCK_SIZE, 8 * BLOCK_SIZE));
    expect(result).toMatchObject({ read: 41, total: 41, sent: 8, skipped: 33, sentBytes: 8 * BLOCK_SIZE, throttled: 0 });
    expect(put.most()).toBeLessThanOrEqual(4);
    expect(result.buffers).toBeLessThanOrEqual(4);
    expect([...result.digests.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2, 7, 20, 21, 39, 40]);
  });

  it('halves what is in flight on throttling and sends the block again', async () => {
    const { file, bytes } = image('throttled.raw', 32, Array.from({ length: 32 }, (_, i) => i));
    const put = recorder((index, attempt) => (index % 5 === 0 && attempt === 1 ? { name: 'RequestThrottledException' } : undefined));
    const result = await run(file, bytes.length, put.putBlock, 8);

    expect(put.written.size).toBe(32);
    expect(result.throttled).toBe(7);
    expect(result.lowestConcurrency).toBeLessThan(8);
    expect(put.attempts.get(5)).toBe(2);
  });

  it.each([
    ['a refusal, at once', { name: 'ValidationException' }, 1],
    ['a 5xx every time, after 5 attempts', { name: 'InternalServerException', status: 500 }, 5],
  ])('ends the upload on %s', async (_case, failure, attempts) => {
    const { file, bytes } = image(`fails-${failure.name}.raw`, 8, [0, 1, 2, 3]);
    const failing = recorder((index) => (index === 2 ? failure : undefined));
    await expect(run(file, bytes.length, failing.putBlock)).rejects.toThrow(`PutSnapshotBlock of block 2 failed: ${failure.name} for block 2`);
    expect(failing.attempts.get(2)).toBe(attempts);
  });

  it('tries a block again after a passing 5xx', async () => {
    const { file, bytes } = image('flaky.raw', 4, [0, 1, 2, 3]);
    const put = recorder((index, attempt) => (index === 1 && attempt < 3 ? { name: 'InternalServerException', status: 503 } : undefined));
    expect((await run(file, bytes.length, put.putBlock)).sent).toBe(4);
    expect(put.attempts.get(1)).toBe(3);
  });

  it('stops when its signal aborts, with the signal\'s reason', async () => {
    const { file, bytes } = image('aborted.raw', 16, Array.from({ length: 16 }, (_, i) => i));
    const controller = new AbortController();
    const put = recorder((index) => {
      if (index === 3) controller.abort(new Error('cancelled'));
      return undefined;
    });
    await expect(
      uploadBlocks({ file, imageBytes: bytes.length, putBlock: put.putBlock, concurrency: 2, signal: controller.signal, log: () => undefined }),
    ).rejects.toThrow('cancelled');
    expect(put.written.size).toBeLessThan(16);
  });

  it('stops and waits for the blocks in flight when the file is cut short mid-upload, trying none again', async () => {
    const { file, bytes } = image('truncated.raw', 40, Array.from({ length: 40 }, (_, i) => i));
    const lines: string[] = [];
    const pending = new Set<number>();
    const aborted: number[] = [];
    // The first block cuts the file to 10 blocks; every block then waits for its abort, as a hung HTTP call does.
    const putBlock: PutBlock = (block, signal) =>
      new Promise<void>((resolve, reject) => {
        if (block.index === 0) truncateSync(file, 10 * BLOCK_SIZE);
        pending.add(block.index);
        signal.addEventListener('abort', () => {
          pending.delete(block.index);
          aborted.push(block.index);
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        });
      });
    const upload = uploadBlocks({ file, imageBytes: bytes.length, putBlock, concurrency: 16, signal: new AbortController().signal, log: (l) => lines.push(l) });

    await expect(upload).rejects.toThrow(/truncated\.raw ended at 5242880 bytes, before its 20971520: it changed while being read/);
    // Resolved only once every call in flight settled: none is left to land after the snapshot is deleted.
    expect(pending.size).toBe(0);
    expect(aborted.sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(lines.filter((l) => /trying again/.test(l))).toEqual([]);
  });
});
