/**
 * upload-ami end to end: the bundle, run as the runner runs it, against the sandbox's EBS direct APIs and EC2 over
 * real HTTP. The images are real ext4 file systems made by `mkfs.ext4 -d` from real files (so some 512 KiB blocks
 * are zero and most are not), put in the real Nix store with `nix-store --add` the way `nix build` leaves an
 * Amazon image (`<out>/nixos.raw`, `<out>/nix-support/image-info.json`), and read back block by block with
 * ListSnapshotBlocks and GetSnapshotBlock. The sandbox clock runs at wall speed, so EBS's snapshot timeout (an
 * hour after the last write) and the role's session never pass however slow the machine is; instead, snapshots
 * complete, images become available and copies finish after fractions of a second.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EBSClient, GetSnapshotBlockCommand, ListSnapshotBlocksCommand } from '@aws-sdk/client-ebs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Sandbox } from '../sandbox/server.js';
import { githubTrustPolicy } from '../sandbox/services/sts/sts.js';
import { runAction, type JobOptions, type StepOptions, type StepResult } from './harness/runner.js';
import { assertNoSecrets } from './harness/secrets.js';

const sandbox = new Sandbox();
const work = mkdtempSync(join(tmpdir(), 'upload-ami-e2e-'));
beforeAll(() => sandbox.start());
afterAll(async () => {
  await sandbox.stop();
  rmSync(work, { recursive: true, force: true });
});
beforeEach(() => {
  sandbox.reset();
  sandbox.ebs.snapshots.completionDelayMs = 200;
  sandbox.images.registerDelayMs = 200;
  sandbox.images.copyDelayMs = 400;
});

const BLOCK = 524_288;
const MKFS = ['/usr/sbin/mkfs.ext4', '/sbin/mkfs.ext4'].find((path) => existsSync(path)) ?? 'mkfs.ext4';

interface Built {
  /** The image's output in the Nix store. */
  storePath: string;
  info: string;
  raw: string;
  bytes: Buffer;
}

/**
 * A NixOS-like Amazon image build: an ext4 file system of `sizeMiB` holding real files (random data, so they do not
 * compress to zeros, and text), in `<out>/nixos.raw`, with nixpkgs' image-info.json beside it; `<out>` added to the
 * Nix store. `seed` makes each image (and so its store path) distinct.
 */
function buildImage(seed: string, bootMode: 'uefi' | 'legacy-bios', sizeMiB = 24, system = 'x86_64-linux'): Built {
  const root = join(work, seed);
  const files = join(root, 'files');
  const out = join(root, `nixos-amazon-image-${seed}`);
  mkdirSync(join(files, 'etc'), { recursive: true });
  mkdirSync(join(files, 'nix/store'), { recursive: true });
  mkdirSync(join(out, 'nix-support'), { recursive: true });
  writeFileSync(join(files, 'etc/hostname'), `${seed}\n`);
  writeFileSync(join(files, 'etc/os-release'), 'NAME=NixOS\nID=nixos\nVERSION_ID="25.05"\n');
  for (let i = 0; i < 4; i += 1) writeFileSync(join(files, `nix/store/blob-${i}`), randomBytes(3 * 1024 * 1024 + i * 4097));
  const raw = join(out, 'nixos.raw');
  execFileSync(MKFS, ['-q', '-F', '-t', 'ext4', '-L', 'nixos', '-d', files, raw, `${sizeMiB}M`], { timeout: 60_000 });
  writeFileSync(
    join(out, 'nix-support/image-info.json'),
    JSON.stringify({
      label: `25.05.${seed}`,
      boot_mode: bootMode,
      system,
      logical_bytes: String(sizeMiB * 1024 * 1024),
      file: 'nixos.raw',
      disks: { root: { logical_bytes: String(sizeMiB * 1024 * 1024), file: 'nixos.raw' } },
    }),
  );
  const storePath = execFileSync('nix-store', ['--add', out], { encoding: 'utf8', timeout: 120_000 }).trim();
  return { storePath, info: join(storePath, 'nix-support/image-info.json'), raw: join(storePath, 'nixos.raw'), bytes: readFileSync(raw) };
}

let uefi: Built;
let bios: Built;
beforeAll(() => {
  uefi = buildImage('uefi', 'uefi');
  bios = buildImage('bios', 'legacy-bios', 16);
}, 240_000);

function upload(inputs: Record<string, string>, options: StepOptions & JobOptions = {}): Promise<StepResult> {
  return runAction('upload-ami', { env: sandbox.env(), inputs, timeoutMs: 120_000, ...options });
}

const errors = (result: StepResult) => result.annotations.filter((a) => a.level === 'error').map((a) => a.message);

/** The blocks of `bytes` that are not all zeros. */
function nonZeroBlocks(bytes: Buffer): number[] {
  const zero = Buffer.alloc(BLOCK);
  const blocks: number[] = [];
  for (let i = 0; i * BLOCK < bytes.length; i += 1) {
    const block = Buffer.alloc(BLOCK);
    bytes.copy(block, 0, i * BLOCK, Math.min(bytes.length, (i + 1) * BLOCK));
    if (!block.equals(zero)) blocks.push(i);
  }
  return blocks;
}

/** The snapshot's content as EBS serves it: every listed block fetched, every other one zeros, cut to `length`. */
async function readBack(snapshotId: string, length: number, region = sandbox.region): Promise<{ bytes: Buffer; listed: number[] }> {
  const env = sandbox.env();
  const ebs = new EBSClient({
    region,
    endpoint: env.AWS_ENDPOINT_URL,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  try {
    const listed: Array<{ index: number; token: string }> = [];
    let next: string | undefined;
    do {
      const page = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId, NextToken: next }));
      listed.push(...(page.Blocks ?? []).map((b) => ({ index: b.BlockIndex!, token: b.BlockToken! })));
      next = page.NextToken;
    } while (next);
    const bytes = Buffer.alloc(Math.ceil(length / BLOCK) * BLOCK);
    for (const { index, token } of listed) {
      const block = await ebs.send(new GetSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: index, BlockToken: token }));
      Buffer.from(await block.BlockData!.transformToByteArray()).copy(bytes, index * BLOCK);
    }
    return { bytes: bytes.subarray(0, length), listed: listed.map((b) => b.index) };
  } finally {
    ebs.destroy();
  }
}

const image = (id: string) => sandbox.images.images.get(id)!;
/** The harness's default GITHUB_RUN_ID. */
const RUN_ID = '4242424242';
/** The step's outcome line, which it logs last when it succeeds. */
const outcome = (result: StepResult) => result.stdout.trim().split('\n').at(-1);

/**
 * Waits until every PutSnapshotBlock a latency fault held has been answered (each is logged when answered, after
 * the step that sent it may have ended), so that none lands in the next test's call log.
 */
async function heldCallsAnswered(): Promise<void> {
  const held = () => sandbox.faults.taken.filter((f) => f.kind === 'latency').length;
  while (sandbox.calls.of('PutSnapshotBlock').length < held()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('an image from nix build', () => {
  it('uploads the non-zero blocks, reads back byte for byte, registers a UEFI image, and a second run uploads nothing', async () => {
    const result = await upload({ 'image-info': uefi.info, tags: 'Team=platform', 'deprecate-after-days': '30' });

    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    const written = nonZeroBlocks(uefi.bytes);
    const total = uefi.bytes.length / BLOCK;
    // Some blocks are zero and most are not: the case the skip is for, with enough of both to tell.
    expect(written.length).toBeGreaterThan(total / 2);
    expect(written.length).toBeLessThan(total);
    const { 'image-id': imageId, 'snapshot-id': snapshotId } = result.outputs;
    expect(result.outputs).toEqual({
      'image-id': expect.stringMatching(/^ami-[0-9a-f]{17}$/),
      'snapshot-id': expect.stringMatching(/^snap-[0-9a-f]{17}$/),
      images: JSON.stringify({ [sandbox.region]: imageId }),
      'uploaded-bytes': String(written.length * BLOCK),
      'skipped-blocks': String(total - written.length),
      'new-image': 'true',
    });

    const back = await readBack(snapshotId, uefi.bytes.length);
    expect(back.listed).toEqual(written);
    expect(back.bytes.equals(uefi.bytes)).toBe(true);

    expect(sandbox.calls.of('PutSnapshotBlock')).toHaveLength(written.length);
    const [start] = sandbox.calls.of('StartSnapshot');
    expect(start.params).toMatchObject({ VolumeSize: 1, ClientToken: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(sandbox.calls.of('CompleteSnapshot')[0].params).toMatchObject({ ChangedBlocksCount: written.length, ChecksumAggregationMethod: 'LINEAR' });
    const registered = image(imageId);
    expect(registered).toMatchObject({
      name: `nixos-25.05.uefi-x86_64-linux-${uefi.storePath.slice(11, 43)}`,
      architecture: 'x86_64',
      bootMode: 'uefi',
      enaSupport: true,
      imdsSupport: 'v2.0',
      rootDeviceName: '/dev/xvda',
      virtualizationType: 'hvm',
    });
    expect(registered.tpmSupport).toBeUndefined();
    expect(Object.fromEntries(registered.tags)).toEqual({ Team: 'platform', NixStorePath: uefi.storePath, NixStoreFile: uefi.raw, GitHubRunId: RUN_ID });
    // The run is the image's, not the snapshot's.
    expect(sandbox.calls.of('StartSnapshot')[0].params.Tags).not.toContainEqual(expect.objectContaining({ Key: 'GitHubRunId' }));
    expect(registered.deprecationTime!.getTime() - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect(result.summary).toContain(`https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#ImageDetails:imageId=${imageId}`);
    expect(result.summary).toMatch(/```mermaid\ngantt\n[\s\S]*Upload :done, \d+, \d+[\s\S]*Register image :done/);
    expect(result.stdout).toMatch(new RegExp(`Read ${total}/${total} blocks: ${written.length} sent`));

    // The same store path and name again, in a later workflow run: found, nothing uploaded or registered, not new.
    sandbox.calls.clear();
    const again = await upload({ 'image-info': uefi.info }, { run: { runId: '4242424243' } });
    expect(errors(again)).toEqual([]);
    expect(again.outputs).toEqual({
      'image-id': imageId,
      'snapshot-id': snapshotId,
      images: JSON.stringify({ [sandbox.region]: imageId }),
      'uploaded-bytes': '0',
      'new-image': 'false',
    });
    expect(sandbox.calls.operations()).toEqual(['ec2:DescribeImages']);
    expect(again.summary).toContain('0 B: the image existed already');
  });

  it('registers a legacy BIOS image from a raw file given with boot mode and architecture', async () => {
    const result = await upload({ image: bios.raw, 'boot-mode': 'legacy-bios', architecture: 'x86_64', 'volume-type': 'gp2' });

    expect(errors(result)).toEqual([]);
    const registered = image(result.outputs['image-id']);
    expect(registered).toMatchObject({ bootMode: 'legacy-bios', architecture: 'x86_64', name: `nixos-x86_64-linux-${bios.storePath.slice(11, 43)}` });
    expect(registered.mappings[0]).toMatchObject({ DeviceName: '/dev/xvda', Ebs: { SnapshotId: result.outputs['snapshot-id'], VolumeType: 'gp2' } });
    expect(registered.mappings[0]).toMatchObject({ Ebs: { VolumeSize: 1, DeleteOnTermination: true } });
    expect((await readBack(result.outputs['snapshot-id'], bios.bytes.length)).bytes.equals(bios.bytes)).toBe(true);
  });

  it('reuses an image tagged NixStorePath only (registered before NixStoreFile) when its store path holds this disk alone', async () => {
    const first = await upload({ 'image-info': uefi.info });
    expect(errors(first)).toEqual([]);
    image(first.outputs['image-id']).tags.delete('NixStoreFile');

    sandbox.calls.clear();
    const again = await upload({ 'image-info': uefi.info });
    expect(errors(again)).toEqual([]);
    expect(again.outputs).toMatchObject({ 'image-id': first.outputs['image-id'], 'uploaded-bytes': '0' });
    expect(sandbox.calls.operations()).toEqual(['ec2:DescribeImages']);
  });

  it('registers with NitroTPM when asked', async () => {
    const result = await upload({ 'image-info': uefi.info, 'tpm-support': 'true', 'image-name': 'nixos-tpm' });
    expect(errors(result)).toEqual([]);
    expect(image(result.outputs['image-id']).tpmSupport).toBe('v2.0');
  });
});

/**
 * One store path holding two disks, `uefi.raw` and `bios.raw` (distinct ext4 file systems): the identity of an upload
 * is the file, not the store path.
 */
describe('two disks in one store path', () => {
  let pair: { storePath: string; uefi: string; bios: string; uefiBytes: Buffer; biosBytes: Buffer };
  beforeAll(() => {
    const out = join(work, 'two-disks');
    mkdirSync(out, { recursive: true });
    for (const name of ['uefi', 'bios']) {
      const files = join(work, `two-${name}`);
      mkdirSync(files, { recursive: true });
      writeFileSync(join(files, 'blob'), randomBytes(2 * 1024 * 1024));
      execFileSync(MKFS, ['-q', '-F', '-t', 'ext4', '-L', name, '-d', files, join(out, `${name}.raw`), '8M'], { timeout: 60_000 });
    }
    const storePath = execFileSync('nix-store', ['--add', out], { encoding: 'utf8', timeout: 120_000 }).trim();
    pair = {
      storePath,
      uefi: join(storePath, 'uefi.raw'),
      bios: join(storePath, 'bios.raw'),
      uefiBytes: readFileSync(join(storePath, 'uefi.raw')),
      biosBytes: readFileSync(join(storePath, 'bios.raw')),
    };
  }, 240_000);
  const uefiInputs = () => ({ image: pair.uefi, 'boot-mode': 'uefi', architecture: 'x86_64' });
  const biosInputs = () => ({ image: pair.bios, 'boot-mode': 'legacy-bios', architecture: 'x86_64' });

  it('names each disk apart by default (no image-info.json names a default disk), so the second needs no image-name', async () => {
    const first = await upload(uefiInputs());
    expect(errors(first)).toEqual([]);
    const hash = pair.storePath.slice(11, 43);
    expect(image(first.outputs['image-id'])).toMatchObject({ name: `nixos-x86_64-linux-${hash}-uefi.raw` });
    expect(image(first.outputs['image-id']).tags.get('NixStoreFile')).toBe(pair.uefi);

    const second = await upload(biosInputs());
    expect(errors(second)).toEqual([]);
    expect(image(second.outputs['image-id'])).toMatchObject({ name: `nixos-x86_64-linux-${hash}-bios.raw`, bootMode: 'legacy-bios' });
    expect(second.outputs['snapshot-id']).not.toBe(first.outputs['snapshot-id']);
  });

  it('refuses, before any upload, the other disk under the name the first one took', async () => {
    const first = await upload({ ...uefiInputs(), 'image-name': 'one-name' });
    expect(errors(first)).toEqual([]);

    sandbox.calls.clear();
    const second = await upload({ ...biosInputs(), 'image-name': 'one-name' });
    expect(second.exitCode).toBe(1);
    expect(errors(second).join('\n')).toMatch(
      new RegExp(`image named "one-name" \\(${first.outputs['image-id']}\\) exists .* holds "${pair.uefi}", not "${pair.bios}".*set another image-name`),
    );
    expect(sandbox.calls.operations()).toEqual(['ec2:DescribeImages']);
    expect(second.outputs['image-id']).toBeUndefined();
  });

  it('uploads the other disk under another name, not reusing the first disk\'s snapshot', async () => {
    const first = await upload(uefiInputs());
    expect(errors(first)).toEqual([]);

    const second = await upload({ ...biosInputs(), 'image-name': 'bios-one' });
    expect(errors(second)).toEqual([]);
    expect(second.outputs['snapshot-id']).not.toBe(first.outputs['snapshot-id']);
    expect(Number(second.outputs['uploaded-bytes'])).toBeGreaterThan(0);
    expect(image(second.outputs['image-id'])).toMatchObject({ bootMode: 'legacy-bios', name: 'bios-one' });
    expect((await readBack(second.outputs['snapshot-id'], pair.biosBytes.length)).bytes.equals(pair.biosBytes)).toBe(true);
    expect(sandbox.calls.of('StartSnapshot')).toHaveLength(2);
  });

  it.each<[string, Record<string, string>, Record<string, string>, (pair: { uefi: string; bios: string }) => RegExp]>([
    ['holds the other disk', { image: 'bios', 'boot-mode': 'legacy-bios' }, {}, (p) => new RegExp(`but it holds "${p.bios}", not "${p.uefi}"`)],
    ['holds this disk registered with NitroTPM', { image: 'uefi', 'tpm-support': 'true' }, {}, () => /other settings: tpm-support true \(asked false\)/],
  ])('refuses, before any upload, a copy region where the name %s', async (_case, there, here, message) => {
    const file = there.image === 'bios' ? pair.bios : pair.uefi;
    const taken = await upload({ ...uefiInputs(), ...there, image: file, 'image-name': 'shared-name', 'aws-region': 'eu-west-1' });
    expect(errors(taken)).toEqual([]);

    sandbox.calls.clear();
    const result = await upload({ ...uefiInputs(), ...here, 'image-name': 'shared-name', 'copy-to-regions': 'eu-west-1, eu-central-1' });
    expect(result.exitCode).toBe(1);
    const [error] = errors(result);
    expect(error).toMatch(new RegExp(`^An image named "shared-name" \\(${taken.outputs['image-id']}\\) exists in copy region eu-west-1, but `));
    expect(error).toMatch(message(pair));
    expect(error).toMatch(/AMI names are unique per region: set another image-name, or deregister it\. Nothing was left\.$/);
    // Looked up in the primary region and in both copy regions, and nothing else: no snapshot, no image.
    expect(sandbox.calls.operations()).toEqual(['ec2:DescribeImages', 'ec2:DescribeImages', 'ec2:DescribeImages']);
    expect(result.outputs['image-id']).toBeUndefined();
  });

  it('refuses a re-run under the name of an image tagged NixStorePath only (before NixStoreFile): the path holds two disks', async () => {
    const first = await upload({ ...uefiInputs(), 'image-name': 'legacy-two' });
    expect(errors(first)).toEqual([]);
    image(first.outputs['image-id']).tags.delete('NixStoreFile');

    sandbox.calls.clear();
    const again = await upload({ ...uefiInputs(), 'image-name': 'legacy-two' });
    expect(again.exitCode).toBe(1);
    expect(errors(again).join('\n')).toMatch(
      new RegExp(`tagged NixStorePath=${pair.storePath} only .*holds more than one disk file.*tag it NixStoreFile=${pair.uefi}`),
    );
    expect(sandbox.calls.operations()).toEqual(['ec2:DescribeImages']);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['NitroTPM', { 'tpm-support': 'true' }, /tpm-support false \(asked true\)/],
    ['the volume type', { 'volume-type': 'gp2' }, /volume-type gp3 \(asked gp2\)/],
    ['the boot mode', { 'boot-mode': 'legacy-bios' }, /boot-mode uefi \(asked legacy-bios\)/],
  ])('refuses a re-run of the same disk and name that changes %s, before any upload', async (_case, change, message) => {
    const first = await upload(uefiInputs());
    expect(errors(first)).toEqual([]);

    sandbox.calls.clear();
    const again = await upload({ ...uefiInputs(), ...change });
    expect(again.exitCode).toBe(1);
    expect(errors(again).join('\n')).toMatch(message);
    expect(errors(again).join('\n')).toMatch(/other settings.*set another image-name/);
    expect(sandbox.calls.operations()).toEqual(['ec2:DescribeImages']);
  });
});

describe('copies', () => {
  it('copies to two regions in parallel, tagged and deprecated alike, and a re-run finds every copy', async () => {
    const result = await upload({ 'image-info': uefi.info, 'copy-to-regions': 'eu-west-1\neu-central-1', 'deprecate-after-days': '7' });

    expect(errors(result)).toEqual([]);
    const images = JSON.parse(result.outputs.images) as Record<string, string>;
    expect(Object.keys(images).sort()).toEqual(['eu-central-1', 'eu-west-1', 'us-east-1']);
    for (const region of ['eu-west-1', 'eu-central-1']) {
      const copy = image(images[region]);
      expect(copy.region).toBe(region);
      expect(sandbox.images.stateOf(copy)).toBe('available');
      expect(copy.tags.get('NixStorePath')).toBe(uefi.storePath);
      expect(copy.deprecationTime).toBeDefined();
    }
    const copies = sandbox.calls.of('CopyImage');
    expect(copies.map((c) => c.params.SourceImageId)).toEqual([images['us-east-1'], images['us-east-1']]);
    expect(new Set(copies.map((c) => c.params.ClientToken)).size).toBe(2);
    for (const region of ['eu-west-1', 'eu-central-1']) expect(result.summary).toContain(`ImageDetails:imageId=${images[region]}`);

    sandbox.calls.clear();
    const again = await upload({ 'image-info': uefi.info, 'copy-to-regions': 'eu-west-1, eu-central-1' });
    expect(JSON.parse(again.outputs.images)).toEqual(images);
    expect(sandbox.calls.operations().filter((op) => op !== 'ec2:DescribeImages')).toEqual([]);
    expect(outcome(again)).toBe(
      `Image ${images['us-east-1']} in us-east-1, ${images['eu-west-1']} in eu-west-1, ${images['eu-central-1']} in eu-central-1 of ${uefi.storePath} existed already: nothing was uploaded.`,
    );
  });

  it('says which copies a re-run made now, and deprecates an earlier copy left without a DeprecationTime', async () => {
    const first = await upload({ 'image-info': uefi.info, 'copy-to-regions': 'eu-west-1' });
    expect(errors(first)).toEqual([]);
    const primary = first.outputs['image-id'];
    const west = (JSON.parse(first.outputs.images) as Record<string, string>)['eu-west-1'];
    expect(image(west).deprecationTime).toBeUndefined();

    sandbox.calls.clear();
    const again = await upload({ 'image-info': uefi.info, 'copy-to-regions': 'eu-west-1, eu-central-1', 'deprecate-after-days': '7' }, { run: { runId: '99' } });
    expect(errors(again)).toEqual([]);
    const central = (JSON.parse(again.outputs.images) as Record<string, string>)['eu-central-1'];
    expect(outcome(again)).toBe(`Copied ${central} in eu-central-1 now; ${primary} in us-east-1, ${west} in eu-west-1 existed already: nothing was uploaded.`);
    expect(again.outputs['new-image']).toBe('false');
    expect(sandbox.calls.of('CopyImage')).toHaveLength(1);
    expect(image(central).tags.get('GitHubRunId')).toBe('99');
    for (const id of [primary, west, central]) expect(image(id).deprecationTime!.getTime() - Date.now()).toBeGreaterThan(6 * 86_400_000);

    // Deprecated already: a later run does not move it.
    const set = sandbox.calls.of('EnableImageDeprecation').length;
    const third = await upload({ 'image-info': uefi.info, 'copy-to-regions': 'eu-west-1, eu-central-1', 'deprecate-after-days': '30' }, { run: { runId: '100' } });
    expect(errors(third)).toEqual([]);
    expect(sandbox.calls.of('EnableImageDeprecation')).toHaveLength(set);
    expect(image(primary).deprecationTime!.getTime() - Date.now()).toBeLessThan(8 * 86_400_000);
  });
});

describe('throttling and failures', () => {
  it('slows down when EBS throttles, and still writes every block', async () => {
    sandbox.faults.add({ kind: 'throttle', service: 'ebs', operation: 'PutSnapshotBlock', after: 5, count: 12 });
    const result = await upload({ 'image-info': uefi.info, 'upload-concurrency': '16' });

    expect(errors(result)).toEqual([]);
    expect(result.stdout).toMatch(/EBS throttled block \d+ \(RequestThrottledException\): 16 -> 8 blocks in flight/);
    expect(result.summary).toMatch(/Throttled<\/th><td>12 times; concurrency fell to [1-8]</);
    const written = nonZeroBlocks(uefi.bytes);
    expect(sandbox.calls.of('PutSnapshotBlock')).toHaveLength(written.length + 12);
    expect((await readBack(result.outputs['snapshot-id'], uefi.bytes.length)).bytes.equals(uefi.bytes)).toBe(true);
  });

  it.each([
    ['a block write EBS keeps failing', { kind: 'server-error', after: 4, count: 1000 } as const, /PutSnapshotBlock of block \d+ failed/],
    ['a block write EBS refuses', { kind: 'throttle', code: 'ValidationException', message: 'The block is invalid', after: 4, count: 1 } as const, /PutSnapshotBlock of block \d+ failed: The block is invalid/],
  ])('deletes the snapshot after %s, and says nothing was left', async (_case, fault, message) => {
    sandbox.faults.add({ ...fault, service: 'ebs', operation: 'PutSnapshotBlock' });
    const result = await upload({ 'image-info': bios.info, 'upload-concurrency': '4' });

    expect(result.exitCode).toBe(1);
    const [error] = errors(result);
    expect(error).toMatch(message);
    const [start] = sandbox.calls.of('StartSnapshot');
    expect(start).toBeDefined();
    const [deleted] = sandbox.calls.of('DeleteSnapshot');
    expect(error).toContain(`The incomplete snapshot ${deleted.params.SnapshotId} was deleted: nothing was left.`);
    expect(sandbox.ebs.snapshots.inRegion(sandbox.region)).toEqual([]);
    expect(sandbox.calls.of('RegisterImage')).toEqual([]);
    expect(result.outputs).toEqual({ 'uploaded-bytes': expect.any(String), 'skipped-blocks': expect.any(String) });
    expect(result.summary).toContain('(deleted)');
  });

  it('deletes the snapshot when cancelled mid-upload (SIGINT), within the runner\'s grace', async () => {
    sandbox.faults.add({ kind: 'latency', service: 'ebs', operation: 'PutSnapshotBlock', latencyMs: 400, count: 10_000 });
    const result = await upload({ 'image-info': uefi.info, 'upload-concurrency': '2' }, { signal: { name: 'SIGINT', afterLine: /Snapshot snap-\w+ started/ } });

    expect(result.exitCode).toBe(1);
    expect(result.signals.map((s) => s.name)).toEqual(['SIGINT']);
    const [error] = errors(result);
    expect(error).toMatch(/^The run was cancelled\. The incomplete snapshot snap-\w+ was deleted: nothing was left\.$/);
    expect(sandbox.ebs.snapshots.inRegion(sandbox.region)).toEqual([]);
    expect(sandbox.calls.of('PutSnapshotBlock').length).toBeLessThan(nonZeroBlocks(uefi.bytes).length);
    expect(sandbox.calls.of('CompleteSnapshot')).toEqual([]);
    await heldCallsAnswered();
  });

  it('stops and waits for the blocks in flight when the file is cut short mid-upload, before deleting the snapshot', async () => {
    const file = join(work, 'cut-short.raw');
    writeFileSync(file, randomBytes(8 * BLOCK));
    // Two blocks in flight: the first held 4 s (the test cuts the file meanwhile), the second never answered until
    // its connection closes. When the first lands, the next read meets the end of the file.
    sandbox.faults.add({ kind: 'latency', service: 'ebs', operation: 'PutSnapshotBlock', latencyMs: 4_000, count: 1 });
    sandbox.faults.add({ kind: 'hang', service: 'ebs', operation: 'PutSnapshotBlock', after: 1, count: 1 });
    const step = upload({ image: file, 'boot-mode': 'uefi', architecture: 'x86_64', 'image-name': 'cut-short', 'upload-concurrency': '2' });
    while (!sandbox.calls.of('PutSnapshotBlock').some((c) => c.errorCode === 'Hung')) await new Promise((resolve) => setTimeout(resolve, 20));
    truncateSync(file, 2 * BLOCK);
    const result = await step;

    expect(result.exitCode).toBe(1);
    expect(errors(result)[0]).toMatch(/cut-short\.raw ended at 1048576 bytes, before its 4194304: it changed while being read\. The incomplete snapshot snap-\w+ was deleted: nothing was left\.$/);
    const calls = sandbox.calls.all();
    const deleted = calls.find((c) => c.operation === 'DeleteSnapshot')!;
    expect(calls.filter((c) => c.operation === 'PutSnapshotBlock' && c.seq > deleted.seq)).toEqual([]);
    expect(sandbox.calls.of('PutSnapshotBlock')).toHaveLength(2);
    expect(result.stdout).not.toMatch(/trying again/);
    expect(sandbox.ebs.snapshots.inRegion(sandbox.region)).toEqual([]);
  });

  it('deletes the snapshot when timeout-minutes pass mid-upload', async () => {
    sandbox.faults.add({ kind: 'latency', service: 'ebs', operation: 'PutSnapshotBlock', latencyMs: 400, count: 10_000 });
    const result = await upload({ 'image-info': uefi.info, 'upload-concurrency': '2', 'timeout-minutes': '0.05' });

    expect(result.exitCode).toBe(1);
    expect(errors(result)[0]).toMatch(/^timeout-minutes \(0\.05\) passed\. The incomplete snapshot snap-\w+ was deleted: nothing was left\.$/);
    expect(sandbox.ebs.snapshots.inRegion(sandbox.region)).toEqual([]);
    await heldCallsAnswered();
  });
});

describe('a re-run of the same workflow run', () => {
  /** A first run cancelled (SIGINT) while its image is pending, before it set the deprecation; the image then available. */
  async function cancelledWhilePending(inputs: Record<string, string>): Promise<string> {
    sandbox.images.registerDelayMs = 3_600_000;
    const first = await upload(inputs, { signal: { name: 'SIGINT', afterLine: /Image ami-\w+ in us-east-1: pending/ } });
    expect(first.exitCode).toBe(1);
    const [imageId] = sandbox.images.images.keys();
    expect(sandbox.calls.of('EnableImageDeprecation')).toEqual([]);
    expect(image(imageId).deprecationTime).toBeUndefined();
    sandbox.clock.advance(3_600_000);
    expect(sandbox.images.stateOf(image(imageId))).toBe('available');
    return imageId;
  }

  it('finds the image an attempt left pending: new-image true, and its deprecation set', async () => {
    const imageId = await cancelledWhilePending({ 'image-info': bios.info, 'deprecate-after-days': '30' });

    sandbox.calls.clear();
    const again = await upload({ 'image-info': bios.info, 'deprecate-after-days': '30' }, { run: { runAttempt: '2' } });
    expect(errors(again)).toEqual([]);
    expect(again.outputs).toMatchObject({ 'image-id': imageId, 'uploaded-bytes': '0', 'new-image': 'true' });
    expect(sandbox.calls.of('EnableImageDeprecation').map((c) => c.params.ImageId)).toEqual([imageId]);
    expect(image(imageId).deprecationTime!.getTime() - Date.now()).toBeGreaterThan(29 * 86_400_000);
  });

  it('reuses an image of a file outside the store only within the run that registered it, with a warning', async () => {
    const outside = join(work, 'outside-twice.raw');
    writeFileSync(outside, bios.bytes);
    const inputs = { image: outside, 'boot-mode': 'legacy-bios', architecture: 'x86_64', 'image-name': 'outside-twice' };
    const first = await upload(inputs);
    expect(errors(first)).toEqual([]);
    expect(first.outputs['new-image']).toBe('true');

    sandbox.calls.clear();
    const retry = await upload(inputs, { run: { runAttempt: '2' } });
    expect(errors(retry)).toEqual([]);
    expect(retry.outputs).toMatchObject({ 'image-id': first.outputs['image-id'], 'uploaded-bytes': '0', 'new-image': 'true' });
    expect(retry.annotations.filter((a) => a.level === 'warning').map((a) => a.message)).toEqual([
      expect.stringMatching(/reused; outside the Nix store nothing names the file's content, so it is not checked against the file/),
    ]);
    expect(sandbox.calls.operations()).toEqual(['ec2:DescribeImages']);

    sandbox.calls.clear();
    const later = await upload(inputs, { run: { runId: '5151' } });
    expect(later.exitCode).toBe(1);
    expect(errors(later).join('\n')).toMatch(
      new RegExp(`\\(${first.outputs['image-id']}\\) exists in us-east-1, but it was registered from "${outside}" by another workflow run \\(GitHubRunId=${RUN_ID}\\).*give each build an image-name of its own`),
    );
    expect(errors(later).join('\n')).not.toMatch(/no NixStoreFile tag/);
    expect(sandbox.calls.operations()).toEqual(['ec2:DescribeImages']);
  });
});

/**
 * A snapshot CompleteSnapshot sealed holds the whole file: a cancellation keeps it, and a re-run registers it
 * without writing a block, whether it finds it by its NixStoreFile tag (a new attempt) or StartSnapshot gives it
 * back for the same ClientToken (the same attempt). Sealed snapshots stay pending until the test lowers the
 * sandbox's completion delay, so no step races the machine's speed.
 */
describe('a sealed snapshot', () => {
  const HOLD = 3_600_000;
  const snapshotState = (id: string) => sandbox.ebs.snapshots.stateOf(sandbox.ebs.snapshots.inRegion(sandbox.region).find((s) => s.id === id)!);
  async function until(what: () => boolean): Promise<void> {
    while (!what()) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  /** A first run cancelled (SIGINT) right after CompleteSnapshot, while the snapshot is still pending. */
  async function cancelledAfterSeal(inputs: Record<string, string>): Promise<string> {
    sandbox.ebs.snapshots.completionDelayMs = HOLD;
    const first = await upload(inputs, { signal: { name: 'SIGINT', afterLine: /Snapshot snap-\w+ sealed/ } });
    expect(first.exitCode).toBe(1);
    const [snapshotId] = sandbox.calls.of('CompleteSnapshot').map((c) => c.params.SnapshotId as string);
    expect(errors(first)).toEqual([`The run was cancelled. Snapshot ${snapshotId} was kept: a re-run registers it without uploading.`]);
    expect(first.outputs['snapshot-id']).toBe(snapshotId);
    return snapshotId;
  }

  it('is kept when the run is cancelled after CompleteSnapshot, and a new attempt registers it without uploading', async () => {
    const snapshotId = await cancelledAfterSeal({ 'image-info': bios.info });
    expect(sandbox.calls.of('DeleteSnapshot')).toEqual([]);
    expect(snapshotState(snapshotId)).toBe('pending');

    sandbox.ebs.snapshots.completionDelayMs = 200;
    await until(() => snapshotState(snapshotId) === 'completed');
    sandbox.calls.clear();
    const again = await upload({ 'image-info': bios.info }, { run: { runAttempt: '2' } });

    expect(errors(again)).toEqual([]);
    expect(again.outputs).toEqual({
      'image-id': expect.stringMatching(/^ami-/),
      'snapshot-id': snapshotId,
      images: expect.any(String),
      'uploaded-bytes': '0',
      'new-image': 'true',
    });
    expect(sandbox.calls.of('StartSnapshot')).toEqual([]);
    expect(sandbox.calls.of('PutSnapshotBlock')).toEqual([]);
    expect(image(again.outputs['image-id']).mappings[0]).toMatchObject({ Ebs: { SnapshotId: snapshotId } });
    expect(again.stdout).toContain(`Snapshot ${snapshotId} (1 GiB) of ${bios.raw} is reused (an earlier run uploaded it)`);
    expect(again.summary).toContain(`0 B: snapshot ${snapshotId} (1 GiB) was reused (an earlier run uploaded it)`);
    expect(again.summary).not.toMatch(/in 0 blocks/);
    expect((await readBack(snapshotId, bios.bytes.length)).bytes.equals(bios.bytes)).toBe(true);
  });

  it('is kept, not deleted, when registering it fails in the run that reused it', async () => {
    const snapshotId = await cancelledAfterSeal({ 'image-info': bios.info });
    sandbox.ebs.snapshots.completionDelayMs = 200;
    await until(() => snapshotState(snapshotId) === 'completed');
    sandbox.faults.add({ kind: 'throttle', code: 'InvalidParameterValue', message: 'Refused', service: 'ec2', operation: 'RegisterImage', count: 10 });
    sandbox.calls.clear();
    const again = await upload({ 'image-info': bios.info }, { run: { runAttempt: '2' } });

    expect(again.exitCode).toBe(1);
    expect(errors(again)[0]).toMatch(new RegExp(`Refused\\. Snapshot ${snapshotId}, reused, was kept: a re-run registers it without uploading\\.$`));
    expect(sandbox.calls.of('DeleteSnapshot')).toEqual([]);
    expect(snapshotState(snapshotId)).toBe('completed');
  });

  it('is waited for, not deleted, when a re-run of the same attempt gets it back still pending from StartSnapshot', async () => {
    const snapshotId = await cancelledAfterSeal({ 'image-info': bios.info });
    sandbox.calls.clear();
    const second = upload({ 'image-info': bios.info });
    // The re-run's writes are refused (the snapshot is sealed); only then may the snapshot complete.
    await until(() => sandbox.calls.of('PutSnapshotBlock').some((c) => c.errorCode !== undefined));
    sandbox.ebs.snapshots.completionDelayMs = 200;
    const again = await second;

    expect(errors(again)).toEqual([]);
    expect(again.outputs).toMatchObject({ 'snapshot-id': snapshotId, 'uploaded-bytes': '0' });
    expect(again.outputs['skipped-blocks']).toBeUndefined();
    expect(sandbox.calls.of('StartSnapshot')).toHaveLength(1);
    expect(sandbox.calls.of('CompleteSnapshot')).toEqual([]);
    expect(sandbox.calls.of('DeleteSnapshot')).toEqual([]);
    expect(again.stdout).toMatch(new RegExp(`Snapshot ${snapshotId} takes no more blocks .*waiting for it to complete`));
    expect(again.summary).toContain(`0 B: snapshot ${snapshotId} (1 GiB) was reused (StartSnapshot returned it sealed`);
    expect((await readBack(snapshotId, bios.bytes.length)).bytes.equals(bios.bytes)).toBe(true);
  });

  it('is registered without a write when a re-run of the same attempt gets it back completed (a file outside the store)', async () => {
    const outside = join(work, 'outside-sealed.raw');
    writeFileSync(outside, bios.bytes);
    const inputs = { image: outside, 'boot-mode': 'legacy-bios', architecture: 'x86_64', 'image-name': 'outside-sealed' };
    sandbox.ebs.snapshots.completionDelayMs = HOLD;
    const first = await upload(inputs, { signal: { name: 'SIGINT', afterLine: /Snapshot snap-\w+ sealed/ } });
    const [snapshotId] = sandbox.calls.of('CompleteSnapshot').map((c) => c.params.SnapshotId as string);
    expect(errors(first)[0]).toBe(`The run was cancelled. Snapshot ${snapshotId} was kept: a re-run of this attempt registers it without uploading (a file outside the store is not looked up otherwise).`);

    sandbox.ebs.snapshots.completionDelayMs = 200;
    await until(() => snapshotState(snapshotId) === 'completed');
    sandbox.calls.clear();
    const again = await upload(inputs);
    expect(errors(again)).toEqual([]);
    expect(again.outputs).toMatchObject({ 'snapshot-id': snapshotId, 'uploaded-bytes': '0' });
    expect(sandbox.calls.of('PutSnapshotBlock')).toEqual([]);
    expect(again.stdout).toContain('StartSnapshot returned it completed');
    expect(image(again.outputs['image-id']).mappings[0]).toMatchObject({ Ebs: { SnapshotId: snapshotId } });
    // A file outside the store is tagged by its path alone: the tag the image-upload role accepts instead of NixStorePath.
    expect(Object.fromEntries(image(again.outputs['image-id']).tags)).toEqual({ ImageFile: outside, GitHubRunId: RUN_ID });
  });
});

/**
 * The action's own peak resident memory, from `/proc/self/status` at exit: VmHWM is the high-water mark of the
 * process's own address space, which exec starts afresh. Not `process.resourceUsage().maxRSS` (getrusage's
 * ru_maxrss): Linux keeps it across fork and exec, so a child reports at least its parent's RSS at spawn time,
 * which is what once made a 2 GiB benchmark parent look like a 2 GiB upload.
 */
async function peakMemory(file: string, concurrency: number): Promise<{ result: StepResult; vmHwmMiB: number; maxRssMiB: number }> {
  const out = join(work, `peak-${concurrency}-${Date.now()}`);
  const preload = join(work, 'peak-memory.cjs');
  writeFileSync(
    preload,
    `process.on('exit', () => { const fs = require('node:fs'); ` +
      `fs.writeFileSync(process.env.PEAK_FILE, JSON.stringify({ vmHwmKiB: Number(/^VmHWM:\\s+(\\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]), maxRssKiB: process.resourceUsage().maxRSS })); });\n`,
  );
  const result = await upload(
    { image: file, 'boot-mode': 'uefi', architecture: 'x86_64', 'upload-concurrency': String(concurrency), 'image-name': `memory-${concurrency}-${Date.now()}` },
    { env: { ...sandbox.env(), NODE_OPTIONS: `--require ${preload}`, PEAK_FILE: out } },
  );
  const peak = JSON.parse(readFileSync(out, 'utf8')) as { vmHwmKiB: number; maxRssKiB: number };
  return { result, vmHwmMiB: peak.vmHwmKiB / 1024, maxRssMiB: peak.maxRssKiB / 1024 };
}

describe('memory', () => {
  const MIB = 1024 * 1024;
  /** Random bytes, so every block is sent (a zero block would cost nothing and prove nothing). */
  const randomFile = (name: string, bytes: number): string => {
    const file = join(work, name);
    writeFileSync(file, randomBytes(bytes));
    return file;
  };

  it.each([
    // concurrency, image MiB: the image is 64 and 16 times concurrency x 512 KiB, and larger than the bound
    [4, 128],
    [16, 128],
  ])('stays under start-up + %i blocks x 512 KiB x 4 on a %i MiB image, whatever the parent holds', async (concurrency, sizeMiB) => {
    const startUp = await peakMemory(randomFile(`one-block-${concurrency}`, BLOCK), concurrency);
    expect(errors(startUp.result)).toEqual([]);
    const file = randomFile(`image-${concurrency}`, sizeMiB * MIB);
    // The runner (here jest) may be large: its memory is not the action's.
    const ballast = Buffer.alloc(256 * MIB, 1);
    const big = await peakMemory(file, concurrency);
    expect(ballast[ballast.length - 1]).toBe(1);

    expect(errors(big.result)).toEqual([]);
    expect(Number(big.result.outputs['uploaded-bytes'])).toBe(sizeMiB * MIB);
    // A factor of 4 per block in flight (the pool's buffer, the socket's copy, the SDK's) and 16 MiB of heap for
    // the longer run's progress, digests and call records: reading or keeping the whole file would pass it.
    const bound = startUp.vmHwmMiB + (concurrency * BLOCK * 4) / MIB + 16;
    expect(big.vmHwmMiB).toBeLessThan(bound);
    expect(big.vmHwmMiB - startUp.vmHwmMiB).toBeLessThan(sizeMiB / 2);
    // What the old measure said: ru_maxrss counts the parent's 256 MiB ballast, which the action never touched.
    expect(big.maxRssMiB).toBeGreaterThan(256);
  });
});

describe('inputs', () => {
  let qcow: string;
  let vhdInfo: string;
  beforeAll(() => {
    qcow = join(work, 'disk.qcow2');
    writeFileSync(qcow, Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb]), Buffer.alloc(4092)]));
    mkdirSync(join(work, 'vhd/nix-support'), { recursive: true });
    writeFileSync(join(work, 'vhd/nixos.vhd'), Buffer.alloc(4096));
    writeFileSync(join(work, 'outside.raw'), Buffer.alloc(BLOCK, 1));
    vhdInfo = join(work, 'vhd/nix-support/image-info.json');
    writeFileSync(vhdInfo, JSON.stringify({ label: '25.05', boot_mode: 'uefi', system: 'x86_64-linux', file: 'nixos.vhd' }));
  });

  it.each<[string, () => Record<string, string>, RegExp]>([
    ['a VHD build', () => ({ 'image-info': vhdInfo }), /a vpc image .*amazonImage.format = "raw"/],
    ['a qcow2 file', () => ({ image: qcow, 'boot-mode': 'uefi', architecture: 'x86_64' }), /a qcow2 image/],
    ['a missing file', () => ({ image: join(work, 'nope.raw'), 'boot-mode': 'uefi', architecture: 'x86_64' }), /nope\.raw.*ENOENT/],
    ['arm64 on legacy BIOS', () => ({ image: uefi.raw, 'boot-mode': 'legacy-bios', architecture: 'arm64' }), /arm64 instances boot only with UEFI/],
    ['TPM on a BIOS image', () => ({ 'image-info': bios.info, 'tpm-support': 'true' }), /'tpm-support' cannot be true/],
    ['an image-info.json of aarch64 that says legacy BIOS', () => ({ 'image-info': writeInfo({ system: 'aarch64-linux', boot_mode: 'legacy-bios' }) }), /arm64 instances boot only with UEFI/],
    ['a bad copy region', () => ({ 'image-info': uefi.info, 'copy-to-regions': 'eu-west-1, Ireland' }), /'copy-to-regions'/],
    ['a bad role', () => ({ 'image-info': uefi.info, 'role-to-assume': 'arn:aws:iam::1:role/x' }), /'role-to-assume'/],
    ['an io2 root volume (RegisterImage needs Iops)', () => ({ 'image-info': uefi.info, 'volume-type': 'io2' }), /'volume-type' must be one of gp3, gp2, standard; got "io2": io2 needs Iops/],
    ['an io1 root volume', () => ({ 'image-info': uefi.info, 'volume-type': 'io1' }), /got "io1": io1 needs Iops/],
    ['an st1 root volume (not bootable)', () => ({ 'image-info': uefi.info, 'volume-type': 'st1' }), /got "st1": st1 .*cannot be a boot volume/],
    ['a file outside the store without image-name', () => ({ image: join(work, 'outside.raw'), 'boot-mode': 'uefi', architecture: 'x86_64' }), /'image-name' is required for a disk file outside the Nix store/],
  ])('refuses %s with no call', async (_case, inputs, message) => {
    const result = await upload(inputs());
    expect(result.exitCode).toBe(1);
    expect(errors(result).join('\n')).toMatch(message);
    expect(sandbox.calls.all()).toEqual([]);
    expect(result.outputs).toEqual({});
    expect(result.summary).toContain('upload-ami: inputs rejected');
  });
});

/** An image-info.json naming the UEFI image's disk file, with `fields` over it. */
function writeInfo(fields: Record<string, string>): string {
  const path = join(work, `info-${Object.values(fields).join('-')}.json`);
  writeFileSync(path, JSON.stringify({ label: '25.05', boot_mode: 'uefi', system: 'x86_64-linux', file: uefi.raw, ...fields }));
  return path;
}

it('makes its calls as role-to-assume, exporting nothing', async () => {
  const roleArn = sandbox.sts.addRole({ name: 'image-upload', trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/*' }) });
  const result = await upload({ 'image-info': bios.info, 'role-to-assume': roleArn, 'copy-to-regions': 'eu-west-1' });
  expect(errors(result)).toEqual([]);
  expect(result.exportedEnv).toEqual({});
  const aws = sandbox.calls.all().filter((c) => c.service !== 'sts');
  expect(aws.map((c) => c.operation)).toEqual(expect.arrayContaining(['StartSnapshot', 'PutSnapshotBlock', 'RegisterImage', 'CopyImage']));
  expect(aws.every((c) => c.caller.startsWith(`arn:aws:sts::${sandbox.accountId}:assumed-role/image-upload/`))).toBe(true);
  assertNoSecrets(result, [...sandbox.sts.issuedSecrets(), ...sandbox.oidc.issuedTokens()]);
});

describe('a single failed call around the upload', () => {
  // A lost answer is given up after this per-attempt time (the actions' 15 s, shortened for the test) and tried again.
  const lost = () => ({ env: { ...sandbox.env(), NIXOS_AWS_TEST_ATTEMPT_TIMEOUT_MS: '3000' } });

  it.each([
    ['StartSnapshot throttled', { kind: 'throttle', operation: 'StartSnapshot' } as const, 'StartSnapshot', 2],
    ['CompleteSnapshot throttled', { kind: 'throttle', operation: 'CompleteSnapshot' } as const, 'CompleteSnapshot', 2],
    ['CompleteSnapshot answering 5xx', { kind: 'server-error', operation: 'CompleteSnapshot' } as const, 'CompleteSnapshot', 2],
    ['StartSnapshot answering 5xx', { kind: 'server-error', operation: 'StartSnapshot' } as const, 'StartSnapshot', 2],
  ])('%s once: tried again, the image registered and the snapshot reads back', async (_case, fault, operation, calls) => {
    sandbox.faults.add({ ...fault, service: 'ebs', count: 1 });
    const result = await upload({ 'image-info': bios.info, 'upload-concurrency': '8' });

    expect(errors(result)).toEqual([]);
    expect(result.stdout).toMatch(new RegExp(`${operation} failed \\(attempt 1\\): .*; trying again in \\d+ ms\\.`));
    expect(sandbox.calls.of(operation)).toHaveLength(calls);
    expect(sandbox.ebs.snapshots.inRegion(sandbox.region)).toHaveLength(1);
    expect(sandbox.calls.of('DeleteSnapshot')).toEqual([]);
    expect(result.outputs['image-id']).toMatch(/^ami-/);
    expect((await readBack(result.outputs['snapshot-id'], bios.bytes.length)).bytes.equals(bios.bytes)).toBe(true);
  });

  it('keeps the snapshot a CompleteSnapshot whose answer was lost sealed, and registers it', async () => {
    sandbox.faults.add({ kind: 'lost-answer', service: 'ebs', operation: 'CompleteSnapshot', count: 1 });
    const result = await upload({ 'image-info': bios.info, 'upload-concurrency': '8' }, lost());

    expect(errors(result)).toEqual([]);
    expect(result.stdout).toMatch(/CompleteSnapshot failed \(attempt 1\): .*; trying again/);
    expect(sandbox.calls.of('DeleteSnapshot')).toEqual([]);
    expect(sandbox.ebs.snapshots.inRegion(sandbox.region)).toHaveLength(1);
    expect(result.outputs['image-id']).toMatch(/^ami-/);
    expect((await readBack(result.outputs['snapshot-id'], bios.bytes.length)).bytes.equals(bios.bytes)).toBe(true);
  });

  it('adopts the image a RegisterImage whose answer was lost made (the SDK retry meets it as a duplicate), then copies and deprecates it', async () => {
    sandbox.faults.add({ kind: 'lost-answer', service: 'ec2', operation: 'RegisterImage', count: 1 });
    const result = await upload({ 'image-info': bios.info, 'copy-to-regions': 'eu-west-1', 'deprecate-after-days': '7' }, lost());

    expect(errors(result)).toEqual([]);
    const registers = sandbox.calls.of('RegisterImage');
    expect(registers.map((c) => c.errorCode)).toContain('InvalidAMIName.Duplicate');
    const primary = result.outputs['image-id'];
    expect(result.stdout).toContain(`image ${primary} is this run's own`);
    const mine = [...sandbox.images.images.values()].filter((i) => i.region === sandbox.region);
    expect(mine.map((i) => i.id)).toEqual([primary]);
    const west = (JSON.parse(result.outputs.images) as Record<string, string>)['eu-west-1'];
    expect(west).toMatch(/^ami-/);
    expect(sandbox.calls.of('CopyImage')).toHaveLength(1);
    for (const id of [primary, west]) expect(image(id).deprecationTime).toBeDefined();
    expect(result.outputs['new-image']).toBe('true');
  });
});
