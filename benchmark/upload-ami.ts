/**
 * `npx tsx benchmark/upload-ami.ts [size-gib] [used-share] [latency-ms] [concurrency]`: a NixOS-like raw image
 * (`mkfs.ext4 -d` of `size-gib` GiB holding `used-share` of it in files of random bytes, so the used blocks do not
 * compress away and the rest is the file system's own layout), put in the Nix store as `nix build` leaves an Amazon
 * image, uploaded to the sandbox's EBS direct APIs with a fixed `latency-ms` on every PutSnapshotBlock, in one run:
 * - every block written (zero blocks too) at `concurrency`: the reference tool's method, with this project's
 *   uploader and client (StartSnapshot to CompleteSnapshot), in a child process;
 * - the action's bundle, run as the runner runs it: its upload phase (StartSnapshot to CompleteSnapshot, from the
 *   summary's chart), bytes sent, peak memory;
 * - the action again on the same image: bytes sent (none: the image exists).
 * Prints figures; asserts nothing. Needs mkfs.ext4 and nix-store, and about 3 x size-gib of free disk.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EBSClient } from '@aws-sdk/client-ebs';
import { Sandbox } from '../sandbox/server.js';
import { clientFactory } from '../shared/aws-clients.js';
import { runAction } from '../test/harness/runner.js';
import { completeSnapshot, putBlock, startSnapshot } from '../upload-ami/aws.js';
import { linearChecksum, volumeGiB } from '../upload-ami/plan.js';
import { uploadBlocks } from '../upload-ami/upload.js';

const MIB = 1024 * 1024;

/**
 * This process's own peak resident memory (KiB): VmHWM of `/proc/self/status`, the high-water mark of the address
 * space that exec made. Not `process.resourceUsage().maxRSS`: Linux carries ru_maxrss across fork and exec, so a
 * child reports at least its parent's RSS at spawn time, and this benchmark's parent holds the sandbox's snapshots.
 */
const VM_HWM = /^VmHWM:\s+(\d+) kB$/m;
function ownPeakKiB(): number {
  return Number(VM_HWM.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
}

if (process.argv[2] === '--every-block') {
  // The child: every block of the file, zeros included, StartSnapshot to CompleteSnapshot; prints its figures.
  const [file, bytes, concurrency] = [process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
  const ebs = clientFactory({ region: process.env.AWS_REGION!, maxAttempts: 1, retryMode: 'standard' })(EBSClient);
  const started = Date.now();
  const { snapshotId } = await startSnapshot(ebs, { volumeGiB: volumeGiB(bytes), description: 'every block', tags: [], clientToken: String(started), timeoutMinutes: 60 });
  const result = await uploadBlocks({
    file,
    imageBytes: bytes,
    concurrency,
    sendZeroBlocks: true,
    putBlock: (block, signal) => putBlock(ebs, snapshotId, block, signal),
    signal: new AbortController().signal,
    log: () => undefined,
  });
  await completeSnapshot(ebs, snapshotId, result.sent, linearChecksum(result.digests));
  ebs.destroy();
  console.log(JSON.stringify({ ms: Date.now() - started, sentBytes: result.sentBytes, sent: result.sent, peakKiB: ownPeakKiB() }));
  process.exit(0);
}

const sizeGiB = Number(process.argv[2] ?? 2);
const used = Number(process.argv[3] ?? 0.35);
const latencyMs = Number(process.argv[4] ?? 50);
const concurrency = Number(process.argv[5] ?? 64);

const work = mkdtempSync(join(tmpdir(), 'upload-ami-bench-'));
const mkfs = ['/usr/sbin/mkfs.ext4', '/sbin/mkfs.ext4'].find((path) => existsSync(path)) ?? 'mkfs.ext4';
let storePath: string | undefined;
// Fast enough that a snapshot completes (30 s) and an image registers (10 s) within seconds, slow enough that the
// snapshots' 60-minute timeout, which the sandbox counts from StartSnapshot, leaves six real minutes to upload.
const sandbox = await new Sandbox({ speed: 10 }).start();
try {
  // ---- the image ----
  const files = join(work, 'files');
  const out = join(work, 'nixos-amazon-image-bench');
  mkdirSync(join(files, 'nix/store'), { recursive: true });
  mkdirSync(join(out, 'nix-support'), { recursive: true });
  const dataBytes = Math.round(sizeGiB * 1024 * MIB * used);
  // Store paths of 1-16 MiB: big enough that ext4 keeps them in long extents, as a closure's NARs unpacked are not;
  // the share of blocks touched is what the figure depends on.
  for (let written = 0, i = 0; written < dataBytes; i += 1) {
    const size = Math.min(dataBytes - written, MIB * (1 + ((i * 7) % 16)));
    writeFileSync(join(files, `nix/store/path-${i}`), randomBytes(size));
    written += size;
  }
  const raw = join(out, 'nixos.raw');
  execFileSync(mkfs, ['-q', '-F', '-t', 'ext4', '-L', 'nixos', '-d', files, raw, `${sizeGiB * 1024}M`], { timeout: 600_000 });
  rmSync(files, { recursive: true, force: true });
  const imageBytes = sizeGiB * 1024 * MIB;
  writeFileSync(
    join(out, 'nix-support/image-info.json'),
    JSON.stringify({ label: '25.05.bench', boot_mode: 'uefi', system: 'x86_64-linux', logical_bytes: String(imageBytes), file: 'nixos.raw' }),
  );
  storePath = execFileSync('nix-store', ['--add', out], { encoding: 'utf8', timeout: 600_000 }).trim();
  rmSync(out, { recursive: true, force: true });
  const image = join(storePath, 'nixos.raw');
  console.log(`Image: ${sizeGiB} GiB raw ext4, ${(used * 100).toFixed(0)}% of it in files; PutSnapshotBlock latency ${latencyMs} ms; concurrency ${concurrency}.`);

  const slowBlocks = () => sandbox.faults.add({ kind: 'latency', service: 'ebs', operation: 'PutSnapshotBlock', latencyMs, count: 1_000_000 });

  // ---- every block, in a child process of its own ----
  sandbox.reset();
  slowBlocks();
  // Not spawnSync: the sandbox answering it runs in this process.
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], '--every-block', image, String(imageBytes), String(concurrency)], {
    env: { ...process.env, ...sandbox.env() },
  });
  let childOut = '';
  child.stdout.on('data', (chunk: Buffer) => (childOut += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (childOut += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (status !== 0) throw new Error(`the every-block upload failed:\n${childOut}`);
  const every = JSON.parse(childOut.trim().split('\n').at(-1)!) as { ms: number; sentBytes: number; sent: number; peakKiB: number };

  // ---- the action ----
  sandbox.reset();
  slowBlocks();
  const peakFile = join(work, 'peak-rss');
  const preload = join(work, 'peak.cjs');
  writeFileSync(
    preload,
    // Both measures, the old one (ru_maxrss) to show what it counted.
    `const fs = require('node:fs');\nprocess.on('exit', () => fs.writeFileSync(${JSON.stringify(peakFile)}, JSON.stringify({ ` +
      `peakKiB: Number(new RegExp(${JSON.stringify(VM_HWM.source)}, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]), ` +
      `maxRssKiB: process.resourceUsage().maxRSS })));\n`,
  );
  const run = () =>
    runAction('upload-ami', {
      env: { ...sandbox.env(), NODE_OPTIONS: `--require ${preload}` },
      inputs: { 'image-info': join(storePath!, 'nix-support/image-info.json'), 'upload-concurrency': String(concurrency) },
      timeoutMs: 1_800_000,
    });
  const first = await run();
  if (first.exitCode !== 0) throw new Error(`the action failed:\n${first.stdout}${first.stderr}`);
  const peak = JSON.parse(readFileSync(peakFile, 'utf8')) as { peakKiB: number; maxRssKiB: number };
  const parentMiB = process.memoryUsage().rss / MIB;
  const upload = /^Upload :done, (\d+), (\d+)$/m.exec(first.summary);
  if (!upload) throw new Error(`no Upload phase in the summary:\n${first.summary}`);
  const actionMs = Number(upload[2]) - Number(upload[1]);
  const second = await run();
  if (second.exitCode !== 0) throw new Error(`the second run failed:\n${second.stdout}${second.stderr}`);

  const gib = (bytes: number) => `${(bytes / 1024 / MIB).toFixed(2)} GiB`;
  console.log(`Every block (the reference method): ${(every.ms / 1000).toFixed(1)} s, ${gib(every.sentBytes)} sent in ${every.sent} blocks, peak memory ${(every.peakKiB / 1024).toFixed(0)} MiB (tsx included)`);
  console.log(
    `The action: upload ${(actionMs / 1000).toFixed(1)} s, ${gib(Number(first.outputs['uploaded-bytes']))} sent, ` +
      `${first.outputs['skipped-blocks']} zero blocks skipped, step ${(first.durationMs / 1000).toFixed(1)} s in all, peak memory ${(peak.peakKiB / 1024).toFixed(0)} MiB ` +
      `(its ru_maxrss said ${(peak.maxRssKiB / 1024).toFixed(0)} MiB, this process holding ${parentMiB.toFixed(0)} MiB)`,
  );
  console.log(`Wall-time ratio (every block / the action's upload): ${(every.ms / actionMs).toFixed(2)}x; bytes sent ratio ${(every.sentBytes / Number(first.outputs['uploaded-bytes'])).toFixed(2)}x`);
  console.log(`The action again on the same image: ${second.outputs['uploaded-bytes']} bytes sent, ${(second.durationMs / 1000).toFixed(1)} s`);
} finally {
  await sandbox.stop();
  rmSync(work, { recursive: true, force: true });
  if (storePath) spawnSync('nix-store', ['--delete', storePath], { stdio: 'ignore' });
}
