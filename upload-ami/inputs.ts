/**
 * The inputs of upload-ami, and the image they name, checked before any AWS call: the image-info.json (or the raw
 * file with its boot mode and architecture), that the file exists and is raw, and its size.
 */
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { InputError, parseInputs, type InputSource } from '../shared/inputs.js';
import { resolveRegion } from '../shared/region.js';
import { readRoleInputs, RoleInput, type RoleInputs } from '../shared/role-inputs.js';
import {
  ARCHITECTURES,
  architectureOf,
  BOOT_MODES,
  bootProblem,
  defaultImageName,
  diskFormat,
  GIB,
  IMAGE_FILE_TAG,
  IMAGE_NAME,
  IMAGE_NAME_FORM,
  MAX_VOLUME_GIB,
  parseImageInfo,
  STORE_FILE_TAG,
  STORE_PATH_TAG,
  storePathOf,
  VOLUME_TYPES,
  REFUSED_VOLUME_TYPES,
  RUN_ID_TAG,
  type ImageSource,
  type VolumeType,
} from './plan.js';

export const Input = {
  ...RoleInput,
  ImageInfo: 'image-info',
  Image: 'image',
  BootMode: 'boot-mode',
  Architecture: 'architecture',
  ImageName: 'image-name',
  Description: 'description',
  Tags: 'tags',
  CopyToRegions: 'copy-to-regions',
  DeprecateAfterDays: 'deprecate-after-days',
  TpmSupport: 'tpm-support',
  VolumeType: 'volume-type',
  UploadConcurrency: 'upload-concurrency',
  TimeoutMinutes: 'timeout-minutes',
  ValidateOnly: 'validate-only',
} as const;

export interface UploadAmiInputs extends RoleInputs {
  source: ImageSource;
  /** Bytes of the raw file. */
  imageBytes: number;
  /** The store path the image file lies in; undefined for a file outside the Nix store (then nothing is reused). */
  storePath?: string;
  /** The store path holds no file but the image file (nix-support/ aside): an image tagged with the path alone is this file's. */
  soleDisk: boolean;
  imageName: string;
  description: string;
  tags: Array<{ key: string; value: string }>;
  copyToRegions: string[];
  deprecateAfterDays?: number;
  tpmSupport: boolean;
  volumeType: VolumeType;
  uploadConcurrency: number;
  timeoutMinutes: number;
  /** Check the inputs only (see {@link checkBeforeBuild}); nothing is read or called. */
  validateOnly: boolean;
}

/** EC2's image description: at most 255 characters. */
const DESCRIPTION_MAX = 255;
/**
 * Tag keys: 1-127 characters, not `aws:`; values at most 255: StartSnapshot's `TagKey` and `TagValue` (EBS's model),
 * a character under EC2's 128 and 256, take the same tags as the image. A snapshot or image holds at most 50 tags.
 */
const MAX_TAGS = 50;
const TAG_KEY = /^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,127}$/iu;
const TAG_VALUE_MAX = 255;
const REGION = /^(?=.{3,20}$)[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/;
/** The longest a self-hosted runner's job may run (five days). */
const MAX_TIMEOUT_MINUTES = 7200;
const MINUTES = /^(?:\d+(?:\.\d+)?|\.\d+)$/;
/** EnableImageDeprecation: at most ten years ahead. */
const MAX_DEPRECATE_DAYS = 3650;
/** EBS allows more in flight per snapshot only on request; past 256 blocks (128 MiB) memory, not EBS, is the limit. */
const MAX_CONCURRENCY = 256;

export function readInputs(source?: InputSource, env: NodeJS.ProcessEnv = process.env): UploadAmiInputs {
  const problems: Array<{ input: string; message: string; notBuilt?: boolean }> = [];
  const reject: Reject = (input, message, notBuilt) => problems.push({ input, message: `Input '${input}' ${message}`, ...(notBuilt ? { notBuilt } : {}) });
  const read = parseInputs(
    (r) => ({
      ...readRoleInputs(r, { roleRequired: false }),
      imageInfo: r.string(Input.ImageInfo),
      image: r.string(Input.Image),
      bootMode: r.string(Input.BootMode),
      architecture: r.string(Input.Architecture),
      imageName: r.string(Input.ImageName, { pattern: IMAGE_NAME, form: `an EC2 image name, ${IMAGE_NAME_FORM}` }),
      description: r.string(Input.Description, {
        pattern: new RegExp(`^.{1,${DESCRIPTION_MAX}}$`),
        form: `at most ${DESCRIPTION_MAX} characters on one line`,
      }),
      tags: r.keyValues(Input.Tags, { keyPattern: TAG_KEY, form: 'Key=Value, the key 1-127 of letters, digits, spaces and _ . : / = + - @, not aws:' }),
      copyToRegions: r.list(Input.CopyToRegions, { separator: 'comma-or-lines', pattern: REGION, form: 'an AWS region such as eu-central-1' }),
      deprecateAfterDays: r.integer(Input.DeprecateAfterDays, { min: 1, max: MAX_DEPRECATE_DAYS }),
      tpmSupport: r.boolean(Input.TpmSupport, false),
      volumeType: r.string(Input.VolumeType, { default: 'gp3' }),
      uploadConcurrency: r.integer(Input.UploadConcurrency, { min: 1, max: MAX_CONCURRENCY, default: 64 })!,
      timeoutMinutes: Number(
        r.string(Input.TimeoutMinutes, { default: '60', pattern: MINUTES, form: 'a number of minutes such as 30 or 0.5' }),
      ),
      validateOnly: r.boolean(Input.ValidateOnly, false),
    }),
    source,
  );

  if (!(read.timeoutMinutes > 0 && read.timeoutMinutes <= MAX_TIMEOUT_MINUTES)) {
    reject(Input.TimeoutMinutes, `must be more than 0 and at most ${MAX_TIMEOUT_MINUTES} minutes, got ${read.timeoutMinutes}`);
  }
  const volumeType = VOLUME_TYPES.find((v) => v === read.volumeType.toLowerCase());
  if (!volumeType) {
    const why = REFUSED_VOLUME_TYPES[read.volumeType.toLowerCase()];
    reject(Input.VolumeType, `must be one of ${VOLUME_TYPES.join(', ')}; got ${JSON.stringify(read.volumeType)}${why ? `: ${why}` : ''}`);
  }
  if (read.tags.length + 3 > MAX_TAGS) {
    reject(Input.Tags, `sets ${read.tags.length} tags; with ${STORE_PATH_TAG}, ${STORE_FILE_TAG} and ${RUN_ID_TAG} that is over EC2's ${MAX_TAGS}`);
  }
  for (const { key, value } of read.tags) {
    for (const own of [STORE_PATH_TAG, STORE_FILE_TAG, IMAGE_FILE_TAG, RUN_ID_TAG]) {
      if (key === own) reject(Input.Tags, `must not set ${own}: the action tags the image's store path, file and run itself`);
    }
    if (value.length > TAG_VALUE_MAX) reject(Input.Tags, `value of ${JSON.stringify(key)} is over StartSnapshot's ${TAG_VALUE_MAX} characters`);
  }
  const region = resolveRegion(read.awsRegion, env);
  if (read.copyToRegions.includes(region)) reject(Input.CopyToRegions, `must not name the upload's own region ${region}`);
  if (new Set(read.copyToRegions).size !== read.copyToRegions.length) reject(Input.CopyToRegions, 'names a region twice');

  const image = readImage(read, reject, env);
  if (image && !image.storePath && !read.imageName) {
    // Hashing a file outside the store for a name would read it twice; its path, size or time are not its content.
    reject(
      Input.ImageName,
      `is required for a disk file outside the Nix store (${JSON.stringify(image.source.file)}): nothing names its content, so ` +
        'there is no default name that differs per image; name it, e.g. after the build that made it',
    );
  }
  if (image && image.source.file.length > TAG_VALUE_MAX) {
    reject(image.input, `names a disk file whose path is over ${TAG_VALUE_MAX} characters, StartSnapshot's limit for the tag that names it: ${JSON.stringify(image.source.file)}`);
  }
  if (problems.length > 0 || !image) throw new InputError(problems);
  const { awsRegion: _given, imageInfo: _info, image: _image, bootMode: _boot, architecture: _arch, ...rest } = read;
  return {
    ...rest,
    awsRegion: region,
    volumeType: volumeType!,
    source: image.source,
    imageBytes: image.bytes,
    storePath: image.storePath,
    soleDisk: image.storePath !== undefined && soleFile(image.storePath, image.source.file),
    imageName: read.imageName || defaultImageName(image.source, image.storePath!, image.disk),
  };
}

/** `notBuilt`: the problem is only that the image-info.json or disk file does not exist (yet). */
type Reject = (input: string, message: string, notBuilt?: boolean) => void;

/**
 * The checks of {@link readInputs}, run before the image is built (`validate-only`, the reusable workflow's first
 * step): a missing image-info.json or disk file is passed over, every other problem is thrown (InputError). What
 * needs the image itself (its format, size, and with `image-info` its boot mode, system and so `tpm-support`) is
 * checked when the action runs on it.
 */
export function checkBeforeBuild(source?: InputSource, env: NodeJS.ProcessEnv = process.env): void {
  try {
    readInputs(source, env);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const problems = error.problems.filter((problem) => !(problem as { notBuilt?: boolean }).notBuilt);
    if (problems.length > 0) throw new InputError(problems);
  }
}

/** The image from `image-info` or from `image` + `boot-mode` + `architecture`; undefined after a rejection. */
function readImage(
  read: { imageInfo: string; image: string; bootMode: string; architecture: string; tpmSupport: boolean },
  reject: Reject,
  env: NodeJS.ProcessEnv,
): { source: ImageSource; bytes: number; storePath?: string; disk?: string; input: string } | undefined {
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  const absolute = (path: string, base: string) => (isAbsolute(path) ? path : resolve(base, path));
  if (read.imageInfo && read.image) {
    reject(Input.Image, `cannot be given with '${Input.ImageInfo}': the image-info.json names the disk file`);
    return undefined;
  }
  let source: Omit<ImageSource, 'file'> & { file: string };
  let declaredFormat: string | undefined;
  let declaredBytes: number | undefined;
  let input: string;
  if (read.imageInfo) {
    input = Input.ImageInfo;
    for (const other of [Input.BootMode, Input.Architecture] as const) {
      if (read[other === Input.BootMode ? 'bootMode' : 'architecture']) {
        reject(other, `cannot be given with '${Input.ImageInfo}', which says it (boot_mode, system)`);
      }
    }
    const infoPath = absolute(read.imageInfo, workspace);
    let text: string;
    try {
      text = readFileSync(infoPath, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      reject(input, `must name nixpkgs' nix-support/image-info.json of an Amazon image build; cannot read ${JSON.stringify(infoPath)}: ${code ?? (error as Error).message}`, code === 'ENOENT');
      return undefined;
    }
    const parsed = parseImageInfo(text);
    if (!parsed.info) {
      for (const problem of parsed.problems) reject(input, `names a file that ${problem}`);
      return undefined;
    }
    const info = parsed.info;
    const architecture = architectureOf(info.system);
    const bootMode = BOOT_MODES.find((mode) => mode === info.bootMode);
    if (!architecture) reject(input, `has system ${JSON.stringify(info.system)}; EC2 boots NixOS images of x86_64-linux and aarch64-linux`);
    if (!bootMode) reject(input, `has boot_mode ${JSON.stringify(info.bootMode)}; EC2 registers ${BOOT_MODES.join(' or ')}`);
    if (!architecture || !bootMode) return undefined;
    // A relative file is relative to the JSON's own directory's output (nix-support/..).
    source = { file: absolute(info.file, dirname(dirname(infoPath))), bootMode, architecture, label: info.label, system: info.system };
    declaredFormat = info.format;
    declaredBytes = info.logicalBytes;
  } else if (read.image) {
    input = Input.Image;
    const bootMode = BOOT_MODES.find((mode) => mode === read.bootMode);
    const architecture = ARCHITECTURES.find((arch) => arch === read.architecture);
    if (!bootMode) reject(Input.BootMode, `must be one of ${BOOT_MODES.join(', ')} with '${Input.Image}'; got ${JSON.stringify(read.bootMode)}`);
    if (!architecture) reject(Input.Architecture, `must be one of ${ARCHITECTURES.join(', ')} with '${Input.Image}'; got ${JSON.stringify(read.architecture)}`);
    if (!bootMode || !architecture) return undefined;
    source = { file: absolute(read.image, workspace), bootMode, architecture };
  } else {
    reject(Input.ImageInfo, `or '${Input.Image}' is required: the path of nixpkgs' nix-support/image-info.json, or of a raw disk image with '${Input.BootMode}' and '${Input.Architecture}'`);
    return undefined;
  }

  const problem = bootProblem(source.bootMode, source.architecture, false);
  if (problem) {
    reject(input, `describes an image EC2 cannot register: ${problem}`);
    return undefined;
  }
  // Before the file is read: with `image`, validate-only can check it before the image is built.
  const tpmProblem = read.tpmSupport ? bootProblem(source.bootMode, source.architecture, true) : undefined;
  if (tpmProblem) reject(Input.TpmSupport, `cannot be true here: ${tpmProblem}`);
  let file: string;
  let bytes: number;
  try {
    file = realpathSync(source.file);
    const stat = statSync(file);
    if (!stat.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'not a regular file' });
    bytes = stat.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    reject(input, `names the disk file ${JSON.stringify(source.file)}, which cannot be read: ${code ?? (error as Error).message}`, code === 'ENOENT');
    return undefined;
  }
  const format = diskFormat(file, ...headAndTail(file, bytes), declaredFormat);
  if (format !== 'raw') {
    reject(
      input,
      `names a ${format} image (${JSON.stringify(file)}); the EBS direct APIs take a raw disk image: build it with ` +
        `amazonImage.format = "raw"; in the NixOS configuration (the default is vpc)`,
    );
    return undefined;
  }
  if (bytes === 0 || bytes > MAX_VOLUME_GIB * GIB) {
    reject(input, `names a disk file of ${bytes} bytes; EBS snapshots hold 1 byte to ${MAX_VOLUME_GIB} GiB`);
    return undefined;
  }
  if (declaredBytes !== undefined && declaredBytes !== bytes) {
    reject(input, `says logical_bytes ${declaredBytes} but ${JSON.stringify(file)} has ${bytes} bytes: not the raw image it describes`);
    return undefined;
  }
  // The store path of what was given (the JSON's output, or the file's), so that a `result` symlink counts too.
  const storePath = storePathOf(file);
  const disk = storePath && input === Input.Image && !isDefaultDisk(storePath, file) ? file.slice(storePath.length + 1) : undefined;
  return { source: { ...source, file }, bytes, storePath, disk, input };
}

/**
 * Whether `file` is the disk its store path's own nix-support/image-info.json names (the build's default disk),
 * so that its default image name needs no disk part. A store path without a readable one has no default disk.
 */
function isDefaultDisk(storePath: string, file: string): boolean {
  try {
    const info = parseImageInfo(readFileSync(`${storePath}/nix-support/image-info.json`, 'utf8')).info;
    return info !== undefined && realpathSync(isAbsolute(info.file) ? info.file : resolve(storePath, info.file)) === file;
  } catch {
    return false;
  }
}

/**
 * Whether `file` is the only regular file of `storePath` outside its nix-support/ (where nixpkgs' image builds keep
 * image-info.json and hydra-build-products). The walk stops at the second file found, so a large path costs little.
 */
function soleFile(storePath: string, file: string): boolean {
  const found: string[] = [];
  const walk = (path: string): void => {
    if (found.length > 1) return;
    const stat = lstatSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) if (!(path === storePath && entry === 'nix-support')) walk(join(path, entry));
    } else if (stat.isFile()) found.push(path);
  };
  try {
    walk(storePath);
  } catch {
    return false;
  }
  return found.length === 1 && found[0] === file;
}

/** The first and last 512 bytes of a file: where disk formats keep their magic. */
function headAndTail(file: string, bytes: number): [Buffer, Buffer] {
  const head = Buffer.alloc(512);
  const tail = Buffer.alloc(512);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 512, 0);
    readSync(fd, tail, 0, 512, Math.max(0, bytes - 512));
  } finally {
    closeSync(fd);
  }
  return [head, tail];
}
