/**
 * The decisions of upload-ami, as pure functions: what nixpkgs' image-info.json says, which EC2 architecture a Nix
 * system is, which blocks of a raw image are sent, the checksums EBS checks, the RegisterImage request, and the
 * outcome. The I/O that feeds them is in aws.ts and upload.ts.
 */
import { createHash } from 'node:crypto';
import { isTransientError } from '../shared/transient.js';

/** EBS direct APIs' only block size: 512 KiB (PutSnapshotBlock `DataLength`). */
export const BLOCK_SIZE = 524_288;
export const GIB = 1024 ** 3;
/** StartSnapshot's `VolumeSize` limit: 64 TiB. */
export const MAX_VOLUME_GIB = 65_536;

/** The tag on the snapshot and every image that names the image's store path: what makes a re-run a no-op. */
export const STORE_PATH_TAG = 'NixStorePath';
/** The tag naming the image file itself (its full path in the store): the identity of an upload and of its reuse. */
export const STORE_FILE_TAG = 'NixStoreFile';

/**
 * The tag naming a disk file outside the Nix store (its absolute path): what the image-upload role's policy scopes
 * writes by when there is no store path. Such an upload is never reused by a later run: nothing names its content.
 */
export const IMAGE_FILE_TAG = 'ImageFile';

/**
 * The tag naming the workflow run (`GITHUB_RUN_ID`, the same for every attempt of it) that registered or copied an
 * image: what the `new-image` output is decided by, and what lets a re-run reuse an image of a file outside the store.
 */
export const RUN_ID_TAG = 'GitHubRunId';

/** EC2's `BootModeValues` that a NixOS image can have (`uefi-preferred` is for images that boot either way). */
export const BOOT_MODES = ['uefi', 'legacy-bios'] as const;
export type BootMode = (typeof BOOT_MODES)[number];
/** EC2's `ArchitectureValues` a Linux AMI can have and NixOS builds. */
export const ARCHITECTURES = ['x86_64', 'arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];
/** Root volume types: EC2's `VolumeType` less the HDD types (st1, sc1), which cannot be boot volumes. */
/**
 * The root volume types a registration without `Iops` can use. io1/io2 need `Iops` in RegisterImage's
 * EbsBlockDevice and are at least 4 GiB; st1/sc1 cannot be boot volumes (EC2 API reference, EbsBlockDevice).
 */
export const VOLUME_TYPES = ['gp3', 'gp2', 'standard'] as const;
/** Why each volume type EC2 knows but the action refuses cannot be the root of the image it registers. */
export const REFUSED_VOLUME_TYPES: Readonly<Record<string, string>> = {
  io1: 'io1 needs Iops in RegisterImage and a volume of at least 4 GiB, which the action does not set',
  io2: 'io2 needs Iops in RegisterImage and a volume of at least 4 GiB, which the action does not set',
  st1: 'st1 (throughput optimized HDD) cannot be a boot volume',
  sc1: 'sc1 (cold HDD) cannot be a boot volume',
};
export type VolumeType = (typeof VOLUME_TYPES)[number];

/** The root device of every image: the name NixOS's own AMIs and the reference tool register. */
export const ROOT_DEVICE = '/dev/xvda';

/** The image to upload, from image-info.json or from the `image` inputs. */
export interface ImageSource {
  /** Absolute path of the raw disk image. */
  file: string;
  bootMode: BootMode;
  architecture: Architecture;
  /** nixpkgs' label (`25.05.20250601.abcdef1`), when known. */
  label?: string;
  /** The Nix system (`x86_64-linux`), when known. */
  system?: string;
}

/**
 * nixpkgs' Amazon image writes `nix-support/image-info.json` (nixos/maintainers/scripts/ec2/amazon-image.nix):
 * `{ label, boot_mode, system, logical_bytes, file, disks: { root: { logical_bytes, file } } }`, where
 * `logical_bytes` is a string (jq `--arg`); the repart-based builder writes `format: "raw"` too. The disk format is
 * `amazonImage.format` (`raw`, `qcow2`, `vpc`; default `vpc`), not in the JSON of the older builder: the file's
 * extension tells it. Returns the fields, or the problems found, each naming the field.
 */
export function parseImageInfo(text: string): { info?: ImageInfo; problems: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { problems: [`is not JSON (${(error as Error).message})`] };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { problems: ['is not a JSON object'] };
  const o = json as Record<string, unknown>;
  const root = (o.disks as { root?: Record<string, unknown> } | undefined)?.root;
  const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  const file = str(root?.file) ?? str(o.file);
  const bytesText = root?.logical_bytes ?? o.logical_bytes;
  const problems: string[] = [];
  if (!file) problems.push('has no disk file (disks.root.file or file)');
  const logicalBytes = bytesText === undefined ? undefined : Number(bytesText);
  if (logicalBytes !== undefined && !(Number.isSafeInteger(logicalBytes) && logicalBytes > 0)) {
    problems.push(`has logical_bytes ${JSON.stringify(bytesText)}, not a positive whole number`);
  }
  const bootMode = str(o.boot_mode);
  if (!bootMode) problems.push('has no boot_mode');
  const system = str(o.system);
  if (!system) problems.push('has no system');
  if (problems.length > 0) return { problems };
  return { info: { file: file!, bootMode: bootMode!, system: system!, label: str(o.label), format: str(o.format), logicalBytes }, problems };
}

export interface ImageInfo {
  file: string;
  bootMode: string;
  system: string;
  label?: string;
  format?: string;
  logicalBytes?: number;
}

/** EC2's architecture for a Nix system double; undefined for one EC2 cannot boot NixOS on. */
export function architectureOf(system: string): Architecture | undefined {
  return ({ 'x86_64-linux': 'x86_64', 'aarch64-linux': 'arm64' } as const)[system as 'x86_64-linux'];
}

/**
 * The disk format of an image file: image-info's `format` when given, else from the first bytes (qcow2's magic
 * `QFI\xfb`; a VHD's `conectix` cookie, which a dynamic VHD has at its start, a fixed one in its last 512 bytes),
 * else the extension. `raw` only when nothing says otherwise.
 */
export function diskFormat(file: string, head: Buffer, tail: Buffer, declared?: string): string {
  if (declared) return declared;
  if (head.subarray(0, 4).equals(Buffer.from([0x51, 0x46, 0x49, 0xfb]))) return 'qcow2';
  if (head.subarray(0, 8).toString('latin1') === 'conectix' || tail.subarray(0, 8).toString('latin1') === 'conectix') return 'vpc';
  const extension = /\.(vhd|vpc|qcow2|vmdk|vdi)$/i.exec(file)?.[1].toLowerCase();
  return extension === 'vhd' ? 'vpc' : (extension ?? 'raw');
}

/** Why EC2 cannot register this boot mode and architecture together, or undefined. */
export function bootProblem(bootMode: BootMode, architecture: Architecture, tpm: boolean): string | undefined {
  if (architecture === 'arm64' && bootMode !== 'uefi') return 'arm64 instances boot only with UEFI (boot mode uefi)';
  if (tpm && !(architecture === 'x86_64' && bootMode === 'uefi')) return 'NitroTPM needs an x86_64 image that boots with UEFI';
  return undefined;
}

/** The `/nix/store/<hash>-<name>` that `file` lies in, or undefined outside the store. */
export function storePathOf(file: string): string | undefined {
  return /^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]{1,211}(?=\/|$)/.exec(file)?.[0];
}

/**
 * EC2's image name: 3-128 of letters, digits, `( ) [ ] . / - ' @ _` and spaces. The default is
 * `nixos-<label>-<system>-<store hash>`, and `-<disk>` after it when the file is not its store path's default disk
 * (the one its image-info.json names; `disk` is then the file's path within the store path): the hash and the disk
 * keep it unique per image file. It is cut to 128 with the hash kept, and the disk cut to its last 60 characters.
 * Without a store path there is no default (the caller requires `image-name`).
 */
export const IMAGE_NAME = /^[A-Za-z0-9()[\]./\-'@_ ]{3,128}$/;
export const IMAGE_NAME_FORM = "3-128 of A-Z a-z 0-9 ( ) [ ] . / - ' @ _ and spaces";

export function defaultImageName(source: ImageSource, storePath: string, disk?: string): string {
  const clean = (text: string) => text.replace(/[^A-Za-z0-9()[\]./\-'@_ ]/g, '-');
  const hash = storePath.slice('/nix/store/'.length, '/nix/store/'.length + 32);
  const head = clean(['nixos', source.label, source.system ?? `${source.architecture}-linux`].filter((part) => part).join('-'));
  const tail = `-${hash}${disk ? `-${clean(disk).slice(-60)}` : ''}`;
  return `${head.slice(0, 128 - tail.length)}${tail}`;
}

/** The snapshot's size in GiB: the image's size rounded up (EBS volumes are whole GiB), at least 1. */
export function volumeGiB(imageBytes: number): number {
  return Math.max(1, Math.ceil(imageBytes / GIB));
}

export function blockCount(imageBytes: number): number {
  return Math.ceil(imageBytes / BLOCK_SIZE);
}

const ZERO_BLOCK = Buffer.alloc(BLOCK_SIZE);

/** An unwritten block of a snapshot reads as zeros: an all-zero block is not sent. `block` is one full block. */
export function isZeroBlock(block: Buffer): boolean {
  return block.length === BLOCK_SIZE ? block.equals(ZERO_BLOCK) : block.every((byte) => byte === 0);
}

/** SHA-256 of a block: the raw digest (for the aggregate) and its base64 (PutSnapshotBlock's `x-amz-Checksum`). */
export function blockChecksum(block: Buffer): { digest: Buffer; base64: string } {
  const digest = createHash('sha256').update(block).digest();
  return { digest, base64: digest.toString('base64') };
}

/**
 * CompleteSnapshot's aggregated checksum, `ChecksumAggregationMethod: LINEAR`: the blocks' SHA-256 checksums in
 * ascending block index, concatenated, then SHA-256 over that, base64. The concatenation is of the digests' bytes,
 * as AWS's own uploader (awslabs/coldsnap) and the EBS documentation's examples compute it. `digests` maps a
 * written block's index to its raw digest.
 */
export function linearChecksum(digests: ReadonlyMap<number, Buffer>): string {
  const hash = createHash('sha256');
  for (const index of [...digests.keys()].sort((a, b) => a - b)) hash.update(digests.get(index)!);
  return hash.digest('base64');
}

/** A stable idempotency token (EC2 and EBS allow 64 characters): the hex SHA-256 of the parts, cut to 64. */
export function clientToken(...parts: Array<string | number | undefined>): string {
  return createHash('sha256').update(parts.map((p) => String(p ?? '')).join('\n')).digest('hex').slice(0, 64);
}

export interface RegisterOptions {
  name: string;
  /** The image's tags (see {@link resourceTags}), set by RegisterImage itself: no moment without them. */
  tags: ReadonlyArray<{ Key: string; Value: string }>;
  description?: string;
  snapshotId: string;
  volumeGiB: number;
  volumeType: VolumeType;
  source: ImageSource;
  tpm: boolean;
}

/**
 * RegisterImage's request: an HVM image of `architecture` that boots `bootMode` from `/dev/xvda` (the snapshot,
 * deleted with the instance), with ENA (which NixOS's kernel has, and Nitro instances require), IMDSv2 only
 * (`ImdsSupport: v2.0`: instances launched from it never answer IMDSv1), NitroTPM when asked, and its tags: an
 * image that exists always carries its store path, so a run that dies right after the call is found by the next.
 */
export function registerImageRequest(o: RegisterOptions) {
  return {
    Name: o.name,
    ...(o.description ? { Description: o.description } : {}),
    Architecture: o.source.architecture,
    BootMode: o.source.bootMode,
    VirtualizationType: 'hvm',
    RootDeviceName: ROOT_DEVICE,
    EnaSupport: true,
    ...(o.source.architecture === 'x86_64' ? { SriovNetSupport: 'simple' } : {}),
    ImdsSupport: 'v2.0' as const,
    ...(o.tpm ? { TpmSupport: 'v2.0' as const } : {}),
    BlockDeviceMappings: [
      {
        DeviceName: ROOT_DEVICE,
        Ebs: { SnapshotId: o.snapshotId, VolumeSize: o.volumeGiB, VolumeType: o.volumeType, DeleteOnTermination: true },
      },
    ],
    ...(o.tags.length > 0 ? { TagSpecifications: [{ ResourceType: 'image' as const, Tags: [...o.tags] }] } : {}),
  };
}

/**
 * The tags of the snapshot and of every image: the user's, then the store path's and the file's (which the user
 * cannot set): `NixStorePath` and `NixStoreFile` for a file in the store, `ImageFile` for one outside it. Every
 * upload so carries one of the tags the image-upload role's policy requires.
 */
export function resourceTags(tags: Array<{ key: string; value: string }>, storePath: string | undefined, file?: string): Array<{ Key: string; Value: string }> {
  return [
    ...tags.map(({ key, value }) => ({ Key: key, Value: value })),
    ...(storePath ? [{ Key: STORE_PATH_TAG, Value: storePath }] : []),
    ...(storePath && file ? [{ Key: STORE_FILE_TAG, Value: file }] : []),
    ...(!storePath && file ? [{ Key: IMAGE_FILE_TAG, Value: file }] : []),
  ];
}

/** What an existing image of the wanted name is described as by DescribeImages (the members compared). */
export interface ExistingImage {
  Architecture?: string;
  BootMode?: string;
  TpmSupport?: string;
  EnaSupport?: boolean;
  ImdsSupport?: string;
  RootDeviceName?: string;
  BlockDeviceMappings?: Array<{ DeviceName?: string; Ebs?: { VolumeType?: string } }>;
  Tags?: Array<{ Key?: string; Value?: string }>;
}

/**
 * Whether an existing image named like ours (AMI names are unique per account and region) may be output as ours:
 * only when it was registered from the same file (its {@link STORE_FILE_TAG} is `file`, or, for an image tagged
 * before that tag existed, its {@link STORE_PATH_TAG} is `file`'s store path and `soleDisk` says that store path holds
 * no other disk file) with the same settings as `request` (architecture, boot mode, NitroTPM, root volume type, ENA,
 * IMDS). A file outside the store (`outside`: its path, this run's `GITHUB_RUN_ID`) has nothing that names its
 * content: its image is reused only when tagged {@link IMAGE_FILE_TAG} with the same path by the same workflow run
 * ({@link RUN_ID_TAG}: a re-run of a failed attempt), never by a later run, which may have built another disk there.
 * Returns undefined to reuse it, else why not, naming what differs: the caller refuses before any upload.
 */
export function reuseProblem(
  image: ExistingImage,
  file: string | undefined,
  request: ReturnType<typeof registerImageRequest>,
  soleDisk = false,
  outside?: { file: string; runId?: string },
): string | undefined {
  const tag = (key: string) => image.Tags?.find((t) => t.Key === key)?.Value;
  if (!file && outside) {
    const path = tag(IMAGE_FILE_TAG);
    if (path !== outside.file) return `it holds ${path ? JSON.stringify(path) : `another disk (no ${IMAGE_FILE_TAG} tag)`}, not ${JSON.stringify(outside.file)}`;
    const run = tag(RUN_ID_TAG);
    if (!outside.runId || run !== outside.runId) {
      return (
        `it was registered from ${JSON.stringify(outside.file)} by ${run ? `another workflow run (${RUN_ID_TAG}=${run})` : 'an earlier run'}, and a file ` +
        'outside the Nix store has nothing that names its content, so it is not taken for this run\'s file: give each build an image-name of its own ' +
        '(e.g. with the run ID or a hash of the file)'
      );
    }
    return settingsProblem(image, request);
  }
  const tagged = tag(STORE_FILE_TAG);
  const storePath = tag(STORE_PATH_TAG);
  // Before NixStoreFile, an image was tagged with its store path only: it is this file's when the path holds no other.
  const legacy = tagged === undefined && file !== undefined && storePath !== undefined && storePath === storePathOf(file);
  if (legacy && !soleDisk) {
    return (
      `it is tagged ${STORE_PATH_TAG}=${storePath} only (registered before ${STORE_FILE_TAG} tags), and that store path holds ` +
      `more than one disk file, so which one it holds is unknown: if it holds ${JSON.stringify(file)}, tag it ${STORE_FILE_TAG}=${file}`
    );
  }
  if (!legacy && (!file || tagged !== file)) return `it holds ${tagged ? JSON.stringify(tagged) : 'another disk (no ' + STORE_FILE_TAG + ' tag)'}, not ${JSON.stringify(file ?? request.Name)}`;
  return settingsProblem(image, request);
}

/** Which of `request`'s settings the existing image was registered with otherwise, or undefined. */
function settingsProblem(image: ExistingImage, request: ReturnType<typeof registerImageRequest>): string | undefined {
  const root = image.BlockDeviceMappings?.find((b) => b.DeviceName === image.RootDeviceName)?.Ebs;
  const settings: Array<[string, unknown, unknown]> = [
    ['architecture', image.Architecture, request.Architecture],
    ['boot-mode', image.BootMode, request.BootMode],
    ['tpm-support', image.TpmSupport === 'v2.0', request.TpmSupport === 'v2.0'],
    ['volume-type', root?.VolumeType, request.BlockDeviceMappings[0].Ebs.VolumeType],
    ['ENA support', image.EnaSupport === true, request.EnaSupport],
    ['IMDS support', image.ImdsSupport ?? 'v1.0 and v2.0', request.ImdsSupport],
  ];
  const differ = settings.filter(([, had, want]) => had !== want).map(([name, had, want]) => `${name} ${String(had)} (asked ${String(want)})`);
  return differ.length > 0 ? `it was registered with other settings: ${differ.join(', ')}` : undefined;
}

/**
 * What to do with the snapshot StartSnapshot answered. A repeated `ClientToken` (a re-run of the same attempt, or a
 * retry after CompleteSnapshot) gets the snapshot of the first call back, in whatever state it is now: EBS returns
 * "the result of the original request" (Ensure idempotency in StartSnapshot API requests). `pending` is written to
 * (a sealed one then refuses the blocks, see {@link isSealedError}); `completed` holds this file already (the token
 * names the file, its size and the image name) and is registered without writing; `error` cannot be used.
 */
export function startedSnapshotAction(status: string | undefined): { action: 'write' | 'reuse' } | { action: 'refuse'; reason: string } {
  if (status === 'completed') return { action: 'reuse' };
  if (status === 'error') {
    return { action: 'refuse', reason: 'StartSnapshot answered with a snapshot of an earlier try of this run that ended in error: re-run the job as a new attempt, which starts a new snapshot' };
  }
  return { action: 'write' };
}

/**
 * Whether a failed PutSnapshotBlock (the error upload.ts throws, with EBS's as its `cause`) says the snapshot takes
 * no more blocks: a `ValidationException` with `Reason: INVALID_SNAPSHOT_ID`, what EBS answers for a snapshot that
 * is no longer pending or that CompleteSnapshot sealed. Then the snapshot is an earlier try's, sealed or dead, and is
 * waited for rather than deleted.
 */
export function isSealedError(error: unknown): boolean {
  const cause = (error as { cause?: { name?: string; Reason?: string } } | undefined)?.cause;
  return cause?.name === 'ValidationException' && cause.Reason === 'INVALID_SNAPSHOT_ID';
}

/**
 * What becomes of the snapshot when the run fails, times out or is cancelled: a snapshot an earlier run made is
 * not this run's to delete; one that CompleteSnapshot sealed holds the whole file and is kept (content-addressed by
 * its `NixStoreFile` tag, a re-run registers it without uploading); only one this run started and did not seal is
 * deleted.
 */
export function snapshotFate(s: { snapshotId?: string; snapshotReused?: boolean; snapshotSealed?: boolean }): 'none' | 'not-ours' | 'keep' | 'delete' {
  if (!s.snapshotId) return 'none';
  if (s.snapshotReused) return 'not-ours';
  return s.snapshotSealed ? 'keep' : 'delete';
}

/**
 * Why the upload must not start because of the copy regions: for each region where an image of the wanted name
 * exists (`image`, the one DescribeImages found there) and {@link reuseProblem} says it is not ours, one sentence
 * naming the region, the image and what differs. AMI names are unique per region, so CopyImage would fail there
 * after the whole upload and the primary registration; empty when every region is free or holds our image.
 */
export function copyRegionClashes(
  name: string,
  found: ReadonlyArray<{ region: string; image?: ExistingImage & { ImageId?: string } }>,
  file: string | undefined,
  request: ReturnType<typeof registerImageRequest>,
  soleDisk = false,
  outside?: { file: string; runId?: string },
): string[] {
  return found.flatMap(({ region, image }) => {
    const problem = image ? reuseProblem(image, file, request, soleDisk, outside) : undefined;
    return problem ? [`An image named ${JSON.stringify(name)} (${image!.ImageId}) exists in copy region ${region}, but ${problem}.`] : [];
  });
}

/** `DeprecateAt` for `days` from `now`: EC2 takes whole minutes (seconds are rounded), at most ten years ahead. */
export function deprecateAt(now: Date, days: number): Date {
  const at = new Date(now.getTime() + days * 86_400_000);
  at.setUTCSeconds(0, 0);
  return at;
}

/**
 * The next concurrency after an answer of PutSnapshotBlock: halved (at least 1) when EBS throttles, one more
 * after `window` successes in a row at the current level (additive increase, multiplicative decrease), never
 * over `max`.
 */
export function nextConcurrency(current: number, max: number, event: 'throttled' | 'ok', okInRow: number): number {
  if (event === 'throttled') return Math.max(1, Math.floor(current / 2));
  return okInRow >= current && current < max ? current + 1 : current;
}

/** EBS's throttling answers of the direct APIs: slow down, not fail. */
export function isThrottling(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name ?? '';
  return ['RequestThrottledException', 'ConcurrentLimitExceededException', 'ThrottlingException', 'TooManyRequestsException'].includes(name);
}

/** A progress line: `Uploaded 120/4096 blocks (60.0 MiB of 2.0 GiB), 40.0 MiB/s; 3000 zero blocks skipped`. */
export function progressLine(p: { read: number; total: number; sent: number; skipped: number; sentBytes: number; imageBytes: number; elapsedMs: number }): string {
  const rate = p.elapsedMs > 0 ? (p.sentBytes / (p.elapsedMs / 1000)) : 0;
  return (
    `Read ${p.read}/${p.total} blocks: ${p.sent} sent (${formatBytes(p.sentBytes)} of ${formatBytes(p.imageBytes)}), ` +
    `${p.skipped} all-zero skipped, ${formatBytes(rate)}/s`
  );
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The tags of an image this run registers or copies: the snapshot's, and {@link RUN_ID_TAG} when the run has an ID. */
export function imageTags(tags: ReadonlyArray<{ Key: string; Value: string }>, runId: string | undefined): Array<{ Key: string; Value: string }> {
  return [...tags, ...(runId ? [{ Key: RUN_ID_TAG, Value: runId }] : [])];
}

/** `new-image`: whether the image was registered (or copied) by this workflow run, any attempt of it, by its tag. */
export function isNewImage(tags: ReadonlyArray<{ Key?: string; Value?: string }> | undefined, runId: string | undefined): boolean {
  return runId !== undefined && runId !== '' && tags?.some((t) => t.Key === RUN_ID_TAG && t.Value === runId) === true;
}

/**
 * The DeprecateAt to set on an image, if any: `at` when deprecation is asked and the image has no DeprecationTime
 * yet (one registered now, or one an earlier attempt left before deprecating it); an existing one is not moved.
 */
export function deprecationToSet(at: Date | undefined, image: { DeprecationTime?: string } | undefined): Date | undefined {
  return at && !image?.DeprecationTime ? at : undefined;
}

/**
 * The outcome line: which images were made now and which existed already. `images` in order, the primary first;
 * `made` says whether this run registered or copied it; `reusedSnapshot` the snapshot registered without an upload.
 */
export function outcomeLine(o: {
  images: ReadonlyArray<{ region: string; id: string; made: boolean }>;
  storePath?: string;
  file: string;
  uploaded: boolean;
  reusedSnapshot?: { id: string; why: string };
}): string {
  const list = (images: ReadonlyArray<{ region: string; id: string }>) => images.map(({ region, id }) => `${id} in ${region}`).join(', ');
  const made = o.images.filter((i) => i.made);
  const kept = o.images.filter((i) => !i.made);
  const head =
    made.length === 0
      ? `Image ${list(kept)} of ${o.storePath ?? o.file} existed already`
      : `${o.images[0]?.made ? 'Registered' : 'Copied'} ${list(made)}` +
        (o.reusedSnapshot ? ` from snapshot ${o.reusedSnapshot.id}, reused (${o.reusedSnapshot.why})` : '') +
        (kept.length > 0 ? ` now; ${list(kept)} existed already` : '');
  return `${head}${o.uploaded ? '' : ': nothing was uploaded'}.`;
}

/**
 * Whether a failed StartSnapshot or CompleteSnapshot is tried again: throttling (EBS's own names, which slow down
 * rather than fail), a 5xx, a network error or an attempt's timeout. StartSnapshot's ClientToken gives the same
 * snapshot back on a retry, and CompleteSnapshot of a sealed snapshot answers its status again, so both are safe to
 * repeat; a validation error or a refusal fails on its first answer.
 */
export function isRetryableControlCall(error: unknown): boolean {
  return isThrottling(error) || isTransientError(error);
}

/**
 * After CompleteSnapshot failed for good: whether the snapshot was sealed all the same (an attempt whose answer was
 * lost did seal it), from DescribeSnapshots' `state` of it and EBS's last error. `completed` is sealed; `pending`
 * with EBS refusing the completion as INVALID_SNAPSHOT_ID (it takes no more, and EBS's timeout would have made it
 * `error`) is sealed and completing; anything else (still open, `error`, gone) was not, and is deleted.
 */
export function sealedAfterFailedComplete(state: string | undefined, error: unknown): boolean {
  if (state === 'completed') return true;
  const e = error as { name?: string; Reason?: string } | undefined;
  return state === 'pending' && e?.name === 'ValidationException' && e.Reason === 'INVALID_SNAPSHOT_ID';
}

/**
 * After RegisterImage answered `InvalidAMIName.Duplicate`: whether the image of that name (`image`, from
 * DescribeImages) is this run's own, registered by an attempt whose answer was lost (the SDK's retry then meets
 * it): the same file and settings ({@link reuseProblem} finds nothing) and this run's {@link RUN_ID_TAG}. Returns
 * undefined to adopt it, else why not, for the message.
 */
export function duplicateImageProblem(
  image: ExistingImage,
  file: string | undefined,
  request: ReturnType<typeof registerImageRequest>,
  runId: string | undefined,
  soleDisk = false,
  outside?: { file: string; runId?: string },
): string | undefined {
  const problem = reuseProblem(image, file, request, soleDisk, outside);
  if (problem) return problem;
  if (!isNewImage(image.Tags, runId)) return `it was not registered by this run (its ${RUN_ID_TAG} tag is not ${runId ?? '(no run ID)'})`;
  return undefined;
}
