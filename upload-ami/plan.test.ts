import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  architectureOf,
  BLOCK_SIZE,
  blockChecksum,
  bootProblem,
  clientToken,
  copyRegionClashes,
  defaultImageName,
  deprecateAt,
  deprecationToSet,
  duplicateImageProblem,
  imageTags,
  isRetryableControlCall,
  sealedAfterFailedComplete,
  isNewImage,
  outcomeLine,
  diskFormat,
  IMAGE_NAME,
  isSealedError,
  isThrottling,
  isZeroBlock,
  linearChecksum,
  nextConcurrency,
  parseImageInfo,
  registerImageRequest,
  resourceTags,
  reuseProblem,
  snapshotFate,
  startedSnapshotAction,
  storePathOf,
  volumeGiB,
} from './plan.js';

const STORE = '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-amazon-image-25.05-x86_64-linux';

/** What nixpkgs' amazon-image.nix writes: `logical_bytes` a string, from jq's --arg. */
const NIXPKGS_INFO = {
  label: '25.05.20250601.abcdef1',
  boot_mode: 'uefi',
  system: 'x86_64-linux',
  logical_bytes: '3221225472',
  file: `${STORE}/nixos-amazon-image-25.05-x86_64-linux.raw`,
  disks: { root: { logical_bytes: '3221225472', file: `${STORE}/nixos-amazon-image-25.05-x86_64-linux.raw` } },
};

describe('parseImageInfo', () => {
  it("reads nixpkgs' fields", () => {
    expect(parseImageInfo(JSON.stringify(NIXPKGS_INFO))).toEqual({
      info: { file: NIXPKGS_INFO.file, bootMode: 'uefi', system: 'x86_64-linux', label: NIXPKGS_INFO.label, format: undefined, logicalBytes: 3221225472 },
      problems: [],
    });
  });

  it("reads the repart builder's, with format and no disks", () => {
    const info = { boot_mode: 'uefi', format: 'raw', label: '25.11', system: 'aarch64-linux', file: `${STORE}/image.raw` };
    expect(parseImageInfo(JSON.stringify(info)).info).toMatchObject({ file: info.file, format: 'raw', logicalBytes: undefined });
  });

  it.each([
    ['not JSON', '{', /is not JSON/],
    ['an array', '[]', /not a JSON object/],
    ['no file', JSON.stringify({ ...NIXPKGS_INFO, file: undefined, disks: undefined }), /no disk file/],
    ['no boot mode', JSON.stringify({ ...NIXPKGS_INFO, boot_mode: '' }), /no boot_mode/],
    ['no system', JSON.stringify({ ...NIXPKGS_INFO, system: 1 }), /no system/],
    ['a bad size', JSON.stringify({ ...NIXPKGS_INFO, logical_bytes: 'big', disks: undefined }), /logical_bytes "big"/],
  ])('refuses %s', (_case, text, problem) => {
    const parsed = parseImageInfo(text);
    expect(parsed.info).toBeUndefined();
    expect(parsed.problems.join('\n')).toMatch(problem);
  });
});

describe('architecture and boot mode', () => {
  it.each([
    ['x86_64-linux', 'x86_64'],
    ['aarch64-linux', 'arm64'],
    ['i686-linux', undefined],
    ['x86_64-darwin', undefined],
  ])('%s is %s', (system, architecture) => expect(architectureOf(system)).toBe(architecture));

  it.each([
    ['uefi', 'x86_64', false, undefined],
    ['legacy-bios', 'x86_64', false, undefined],
    ['uefi', 'arm64', false, undefined],
    ['legacy-bios', 'arm64', false, /only with UEFI/],
    ['uefi', 'x86_64', true, undefined],
    ['legacy-bios', 'x86_64', true, /NitroTPM/],
    ['uefi', 'arm64', true, /NitroTPM/],
  ] as const)('%s %s tpm=%s', (boot, arch, tpm, problem) => {
    const found = bootProblem(boot, arch, tpm);
    if (problem) expect(found).toMatch(problem);
    else expect(found).toBeUndefined();
  });
});

describe('diskFormat', () => {
  const zeros = Buffer.alloc(512);
  const qcow = Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb]), Buffer.alloc(508)]);
  const vhd = Buffer.concat([Buffer.from('conectix'), Buffer.alloc(504)]);
  it.each([
    ['a raw file', 'disk.raw', zeros, zeros, undefined, 'raw'],
    ['a declared format', 'disk.raw', zeros, zeros, 'qcow2', 'qcow2'],
    ['qcow2 magic under any name', 'disk.raw', qcow, zeros, undefined, 'qcow2'],
    ['a fixed VHD (cookie in the footer)', 'disk.img', zeros, vhd, undefined, 'vpc'],
    ['a dynamic VHD (cookie first)', 'disk.img', vhd, zeros, undefined, 'vpc'],
    ['a .vhd extension', 'nixos.vhd', zeros, zeros, undefined, 'vpc'],
    ['a .qcow2 extension', 'nixos.qcow2', zeros, zeros, undefined, 'qcow2'],
  ])('%s', (_case, file, head, tail, declared, format) => expect(diskFormat(file, head, tail, declared)).toBe(format));
});

describe('names and store paths', () => {
  it.each([
    [`${STORE}/nixos.raw`, STORE],
    [STORE, STORE],
    ['/tmp/disk.raw', undefined],
    ['/nix/store/short-x/disk.raw', undefined],
  ])('storePathOf(%s)', (file, storePath) => expect(storePathOf(file)).toBe(storePath));

  it('names the image after label, system and store hash', () => {
    const source = { file: 'x', bootMode: 'uefi', architecture: 'x86_64', label: '25.05.20250601.abcdef1', system: 'x86_64-linux' } as const;
    const name = defaultImageName(source, STORE);
    expect(name).toBe('nixos-25.05.20250601.abcdef1-x86_64-linux-0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl');
    expect(name).toMatch(IMAGE_NAME);
  });

  it('cuts a long label, keeps the hash, and replaces what EC2 refuses', () => {
    const source = { file: 'x', bootMode: 'uefi', architecture: 'arm64', label: `a+b:${'x'.repeat(200)}` } as const;
    const name = defaultImageName(source, STORE);
    expect(name).toHaveLength(128);
    expect(name).toMatch(/^nixos-a-b-x+-0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl$/);
  });

  const src = { file: 'x', bootMode: 'uefi', architecture: 'x86_64', label: '25.05', system: 'x86_64-linux' } as const;
  const HASH = '0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl';
  it.each<[string, string | undefined, string]>([
    ['the default disk', undefined, `nixos-25.05-x86_64-linux-${HASH}`],
    ['another disk', 'bios.raw', `nixos-25.05-x86_64-linux-${HASH}-bios.raw`],
    ['a disk in a folder', 'disks/uefi.raw', `nixos-25.05-x86_64-linux-${HASH}-disks/uefi.raw`],
    ['a disk named with what EC2 refuses', 'a+b:c.raw', `nixos-25.05-x86_64-linux-${HASH}-a-b-c.raw`],
    ['a disk of a long name, cut to its last 60 characters', `${'d'.repeat(100)}.raw`, `nixos-25.05-x86_64-linux-${HASH}-${'d'.repeat(56)}.raw`],
  ])('names %s of a store path apart', (_case, disk, name) => {
    expect(defaultImageName(src, STORE, disk)).toBe(name);
    expect(name).toMatch(IMAGE_NAME);
  });

  it('keeps the hash and the disk when the label is long', () => {
    const name = defaultImageName({ ...src, label: 'x'.repeat(200) }, STORE, 'bios.raw');
    expect(name).toHaveLength(128);
    expect(name.endsWith(`-${HASH}-bios.raw`)).toBe(true);
  });

  it('tags the store path and the file after the user tags', () => {
    expect(resourceTags([{ key: 'Team', value: 'platform' }], STORE, `${STORE}/nixos.raw`)).toEqual([
      { Key: 'Team', Value: 'platform' },
      { Key: 'NixStorePath', Value: STORE },
      { Key: 'NixStoreFile', Value: `${STORE}/nixos.raw` },
    ]);
    // Outside the store: the file alone, under the tag the image-upload role accepts instead of NixStorePath.
    expect(resourceTags([], undefined, '/tmp/nixos.raw')).toEqual([{ Key: 'ImageFile', Value: '/tmp/nixos.raw' }]);
  });
});

describe('blocks and checksums', () => {
  it.each([
    [1, 1],
    [1024 ** 3, 1],
    [1024 ** 3 + 1, 2],
    [2 * 1024 ** 3, 2],
  ])('%d bytes make a volume of %d GiB', (bytes, gib) => expect(volumeGiB(bytes)).toBe(gib));

  it('tells a zero block from one with a single byte set', () => {
    const block = Buffer.alloc(BLOCK_SIZE);
    expect(isZeroBlock(block)).toBe(true);
    block[BLOCK_SIZE - 1] = 1;
    expect(isZeroBlock(block)).toBe(false);
  });

  it('checksums a block as SHA-256, base64', () => {
    const block = Buffer.alloc(BLOCK_SIZE, 7);
    const digest = createHash('sha256').update(block).digest();
    expect(blockChecksum(block)).toEqual({ digest, base64: digest.toString('base64') });
  });

  it('aggregates LINEAR: SHA-256 over the digests in block order, whatever order they landed in', () => {
    const a = createHash('sha256').update('a').digest();
    const b = createHash('sha256').update('b').digest();
    const expected = createHash('sha256').update(Buffer.concat([a, b])).digest('base64');
    expect(linearChecksum(new Map([[9, b], [2, a]]))).toBe(expected);
    expect(linearChecksum(new Map([[2, a], [9, b]]))).toBe(expected);
    expect(linearChecksum(new Map([[2, b], [9, a]]))).not.toBe(expected);
  });

  it('makes client tokens of 64 hex digits, one per distinct input', () => {
    expect(clientToken('StartSnapshot', STORE, 1, 'name', '1-1')).toMatch(/^[0-9a-f]{64}$/);
    expect(clientToken('a', 'b')).toBe(clientToken('a', 'b'));
    expect(clientToken('a', 'b')).not.toBe(clientToken('a', 'b', 'c'));
  });
});

describe('throttling', () => {
  it.each([
    [64, 'throttled', 0, 32],
    [1, 'throttled', 0, 1],
    [3, 'throttled', 0, 1],
    [32, 'ok', 31, 32],
    [32, 'ok', 32, 33],
    [64, 'ok', 100, 64],
  ] as const)('%d in flight, %s after %d successes: %d', (current, event, okInRow, next) =>
    expect(nextConcurrency(current, 64, event, okInRow)).toBe(next),
  );

  it.each([
    ['RequestThrottledException', true],
    ['ConcurrentLimitExceededException', true],
    ['ValidationException', false],
    ['InternalServerException', false],
  ])('%s is throttling: %s', (name, throttling) => expect(isThrottling(Object.assign(new Error('x'), { name }))).toBe(throttling));
});

describe('registerImageRequest', () => {
  const base = { name: 'nixos-x', snapshotId: 'snap-0123456789abcdef0', volumeGiB: 3, volumeType: 'gp3', tags: [] } as const;

  it('registers an x86_64 UEFI image with ENA, IMDSv2 only and the root device from the snapshot', () => {
    expect(
      registerImageRequest({ ...base, tags: [{ Key: 'NixStorePath', Value: STORE }], description: 'NixOS', tpm: true, source: { file: 'x', bootMode: 'uefi', architecture: 'x86_64' } }),
    ).toEqual({
      Name: 'nixos-x',
      Description: 'NixOS',
      Architecture: 'x86_64',
      BootMode: 'uefi',
      VirtualizationType: 'hvm',
      RootDeviceName: '/dev/xvda',
      EnaSupport: true,
      SriovNetSupport: 'simple',
      ImdsSupport: 'v2.0',
      TpmSupport: 'v2.0',
      BlockDeviceMappings: [
        { DeviceName: '/dev/xvda', Ebs: { SnapshotId: base.snapshotId, VolumeSize: 3, VolumeType: 'gp3', DeleteOnTermination: true } },
      ],
      TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'NixStorePath', Value: STORE }] }],
    });
  });

  it('registers arm64 without SR-IOV or TPM, and legacy BIOS as asked', () => {
    const arm = registerImageRequest({ ...base, tpm: false, source: { file: 'x', bootMode: 'uefi', architecture: 'arm64' } });
    expect(arm).not.toHaveProperty('SriovNetSupport');
    expect(arm).not.toHaveProperty('TpmSupport');
    expect(arm).not.toHaveProperty('Description');
    expect(arm).not.toHaveProperty('TagSpecifications');
    expect(registerImageRequest({ ...base, tpm: false, source: { file: 'x', bootMode: 'legacy-bios', architecture: 'x86_64' } }).BootMode).toBe('legacy-bios');
  });

  describe('reuseProblem: an image of the name is ours only for the same file and settings', () => {
    const file = `${STORE}/uefi.raw`;
    const request = registerImageRequest({ ...base, tpm: false, source: { file, bootMode: 'uefi', architecture: 'x86_64' } });
    const same = {
      Architecture: 'x86_64',
      BootMode: 'uefi',
      EnaSupport: true,
      ImdsSupport: 'v2.0',
      RootDeviceName: '/dev/xvda',
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeType: 'gp3' } }],
      Tags: [{ Key: 'NixStoreFile', Value: file }],
    };
    it.each<[string, object, string | undefined, RegExp | undefined]>([
      ['the same file and settings', {}, file, undefined],
      ['another file of the same store path', { Tags: [{ Key: 'NixStoreFile', Value: `${STORE}/bios.raw` }] }, file, /holds ".*bios\.raw", not ".*uefi\.raw"/],
      ['no file tag (an image of another tool)', { Tags: [] }, file, /another disk \(no NixStoreFile tag\)/],
      ['a file outside the store', {}, undefined, /not "nixos-x"/],
      ['another boot mode', { BootMode: 'legacy-bios' }, file, /boot-mode legacy-bios \(asked uefi\)/],
      ['NitroTPM on', { TpmSupport: 'v2.0' }, file, /tpm-support true \(asked false\)/],
      ['another volume type', { BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeType: 'io2' } }] }, file, /volume-type io2 \(asked gp3\)/],
      ['another architecture and IMDSv1', { Architecture: 'arm64', ImdsSupport: undefined }, file, /architecture arm64 \(asked x86_64\), IMDS support v1\.0 and v2\.0/],
      ['no ENA', { EnaSupport: false }, file, /ENA support false \(asked true\)/],
    ])('%s', (_, change, asked, problem) => {
      const answer = reuseProblem({ ...same, ...change }, asked, request);
      if (problem) expect(answer).toMatch(problem);
      else expect(answer).toBeUndefined();
    });


    const legacy = { Tags: [{ Key: 'NixStorePath', Value: STORE }] };
    it.each<[string, object, boolean, RegExp | undefined]>([
      ['tagged with its store path only, which holds this disk alone', legacy, true, undefined],
      ['tagged with its store path only, which holds other disks too', legacy, false, /tagged NixStorePath=\S+ only .*more than one disk file.*tag it NixStoreFile=.*uefi\.raw/],
      ['tagged with another store path only', { Tags: [{ Key: 'NixStorePath', Value: `${STORE}x` }] }, true, /another disk \(no NixStoreFile tag\)/],
      ['tagged with its store path only, with other settings', { ...legacy, BootMode: 'legacy-bios' }, true, /boot-mode legacy-bios/],
    ])('an image from before NixStoreFile: %s', (_, change, soleDisk, problem) => {
      const answer = reuseProblem({ ...same, ...change }, file, request, soleDisk);
      if (problem) expect(answer).toMatch(problem);
      else expect(answer).toBeUndefined();
    });

    const outside = { file: '/tmp/x.raw', runId: '77' };
    const ofOutside = (tags: Array<{ Key: string; Value: string }>) => ({ ...same, Tags: tags });
    it.each<[string, Array<{ Key: string; Value: string }>, { file: string; runId?: string }, RegExp | undefined]>([
      ['tagged with its path by this run (an earlier attempt)', [{ Key: 'ImageFile', Value: '/tmp/x.raw' }, { Key: 'GitHubRunId', Value: '77' }], outside, undefined],
      ['tagged with its path by another run', [{ Key: 'ImageFile', Value: '/tmp/x.raw' }, { Key: 'GitHubRunId', Value: '76' }], outside, /registered from "\/tmp\/x\.raw" by another workflow run \(GitHubRunId=76\).*nothing that names its content.*image-name of its own/],
      ['tagged with its path before run tags', [{ Key: 'ImageFile', Value: '/tmp/x.raw' }], outside, /by an earlier run, and a file outside the Nix store/],
      ['tagged with its path, this run has no ID', [{ Key: 'ImageFile', Value: '/tmp/x.raw' }, { Key: 'GitHubRunId', Value: '77' }], { file: '/tmp/x.raw' }, /by another workflow run/],
      ['tagged with another path', [{ Key: 'ImageFile', Value: '/tmp/y.raw' }, { Key: 'GitHubRunId', Value: '77' }], outside, /holds "\/tmp\/y\.raw", not "\/tmp\/x\.raw"/],
      ['with no ImageFile tag', [{ Key: 'NixStoreFile', Value: file }], outside, /another disk \(no ImageFile tag\), not "\/tmp\/x\.raw"/],
    ])('a file outside the store: %s', (_, tags, asked, problem) => {
      const answer = reuseProblem(ofOutside(tags), undefined, request, false, asked);
      if (problem) expect(answer).toMatch(problem);
      else expect(answer).toBeUndefined();
    });
    it('a file outside the store: this run\'s image with other settings is still refused', () => {
      expect(reuseProblem({ ...ofOutside([{ Key: 'ImageFile', Value: '/tmp/x.raw' }, { Key: 'GitHubRunId', Value: '77' }]), BootMode: 'legacy-bios' }, undefined, request, false, outside)).toMatch(
        /boot-mode legacy-bios \(asked uefi\)/,
      );
    });

    it('copyRegionClashes names each copy region whose image of the name is not ours, and only those', () => {
      const found = [
        { region: 'eu-west-1', image: { ...same, ImageId: 'ami-1' } },
        { region: 'eu-central-1', image: undefined },
        { region: 'us-west-2', image: { ...same, ImageId: 'ami-2', Tags: [{ Key: 'NixStoreFile', Value: `${STORE}/bios.raw` }] } },
        { region: 'ap-south-1', image: { ...same, ImageId: 'ami-3', TpmSupport: 'v2.0' } },
      ];
      expect(copyRegionClashes('web', found, file, request)).toEqual([
        `An image named "web" (ami-2) exists in copy region us-west-2, but it holds "${STORE}/bios.raw", not "${file}".`,
        'An image named "web" (ami-3) exists in copy region ap-south-1, but it was registered with other settings: tpm-support true (asked false).',
      ]);
      expect(copyRegionClashes('web', found.slice(0, 2), file, request)).toEqual([]);
    });

    const ours = (tags: Array<{ Key: string; Value: string }>) => ({ ...same, Tags: [{ Key: 'NixStoreFile', Value: file }, ...tags] });
    it.each<[string, object, string | undefined, RegExp | undefined]>([
      ['this file, this run (a lost RegisterImage answer)', ours([{ Key: 'GitHubRunId', Value: '9' }]), '9', undefined],
      ['this file, another run', ours([{ Key: 'GitHubRunId', Value: '8' }]), '9', /not registered by this run \(its GitHubRunId tag is not 9\)/],
      ['this file, no run tag', ours([]), '9', /not registered by this run/],
      ['this file, this run has no ID', ours([{ Key: 'GitHubRunId', Value: '9' }]), undefined, /not registered by this run/],
      ['another file, this run', { ...same, Tags: [{ Key: 'NixStoreFile', Value: `${STORE}/bios.raw` }, { Key: 'GitHubRunId', Value: '9' }] }, '9', /holds ".*bios\.raw"/],
      ['this run, other settings', { ...ours([{ Key: 'GitHubRunId', Value: '9' }]), BootMode: 'legacy-bios' }, '9', /boot-mode legacy-bios/],
    ])('duplicateImageProblem: %s', (_, image, runId, problem) => {
      const answer = duplicateImageProblem(image, file, request, runId);
      if (problem) expect(answer).toMatch(problem);
      else expect(answer).toBeUndefined();
    });
  });

  it('deprecates to the minute', () => {
    expect(deprecateAt(new Date('2026-11-29T16:26:33.123Z'), 90).toISOString()).toBe('2027-02-27T16:26:00.000Z');
  });
});

describe('a snapshot StartSnapshot gives back, and what a failure leaves', () => {
  it.each<[string | undefined, string]>([
    ['pending', 'write'],
    [undefined, 'write'],
    ['completed', 'reuse'],
    ['error', 'refuse'],
  ])('StartSnapshot status %s: %s', (status, action) => {
    expect(startedSnapshotAction(status).action).toBe(action);
  });

  it('refuses an errored snapshot saying what to do', () => {
    expect(startedSnapshotAction('error')).toEqual({ action: 'refuse', reason: expect.stringMatching(/ended in error: re-run the job as a new attempt/) });
  });

  const ebs = (name: string, Reason?: string) => Object.assign(new Error('x'), { name, Reason });
  it.each<[string, unknown, boolean]>([
    ['a sealed snapshot', { cause: ebs('ValidationException', 'INVALID_SNAPSHOT_ID') }, true],
    ['a bad block', { cause: ebs('ValidationException', 'INVALID_BLOCK') }, false],
    ['a validation error with no reason', { cause: ebs('ValidationException') }, false],
    ['a missing snapshot', { cause: ebs('ResourceNotFoundException', 'SNAPSHOT_NOT_FOUND') }, false],
    ['an error with no cause', ebs('ValidationException', 'INVALID_SNAPSHOT_ID'), false],
    ['nothing', undefined, false],
  ])('isSealedError: %s -> %s', (_case, error, sealed) => {
    expect(isSealedError(error)).toBe(sealed);
  });

  const http = (name: string, status: number) => Object.assign(new Error('x'), { name, $metadata: { httpStatusCode: status } });
  it.each<[string, unknown, boolean]>([
    ['RequestThrottledException', http('RequestThrottledException', 400), true],
    ['ConcurrentLimitExceededException', http('ConcurrentLimitExceededException', 400), true],
    ['a 500', http('InternalServerException', 500), true],
    ['a 503', http('ServiceUnavailableException', 503), true],
    ['an attempt timed out', Object.assign(new Error('no answer'), { name: 'TimeoutError' }), true],
    ['a connection reset', Object.assign(new Error('reset'), { code: 'ECONNRESET' }), true],
    ['a validation error', http('ValidationException', 400), false],
    ['access denied', http('AccessDeniedException', 403), false],
    ['a cancellation', Object.assign(new Error('aborted'), { name: 'AbortError' }), false],
  ])('isRetryableControlCall: %s -> %s', (_case, error, retryable) => {
    expect(isRetryableControlCall(error)).toBe(retryable);
  });

  it.each<[string, string | undefined, unknown, boolean]>([
    ['completed', 'completed', http('InternalServerException', 500), true],
    ['pending, EBS says it takes no more', 'pending', ebs('ValidationException', 'INVALID_SNAPSHOT_ID'), true],
    ['pending after a 5xx (still open)', 'pending', http('InternalServerException', 500), false],
    ['pending after a checksum refusal', 'pending', ebs('ValidationException', 'INVALID_CHECKSUM'), false],
    ['error (timed out)', 'error', ebs('ValidationException', 'INVALID_SNAPSHOT_ID'), false],
    ['gone, or not known', undefined, ebs('ValidationException', 'INVALID_SNAPSHOT_ID'), false],
  ])('sealedAfterFailedComplete: %s -> %s', (_case, state, error, sealed) => {
    expect(sealedAfterFailedComplete(state, error)).toBe(sealed);
  });

  it.each<[string, Parameters<typeof snapshotFate>[0], string]>([
    ['no snapshot', {}, 'none'],
    ['an earlier run\'s', { snapshotId: 'snap-1', snapshotReused: true }, 'not-ours'],
    ['an earlier run\'s, sealed', { snapshotId: 'snap-1', snapshotReused: true, snapshotSealed: true }, 'not-ours'],
    ['ours, sealed', { snapshotId: 'snap-1', snapshotSealed: true }, 'keep'],
    ['ours, being written', { snapshotId: 'snap-1' }, 'delete'],
  ])('snapshotFate: %s -> %s', (_case, state, fate) => {
    expect(snapshotFate(state)).toBe(fate);
  });
});

describe('the run tag, new-image, deprecation and the outcome line', () => {
  it.each<[string, Array<{ Key: string; Value: string }>, string | undefined, Array<{ Key: string; Value: string }>]>([
    ['a run ID', [{ Key: 'Team', Value: 'a' }], '9', [{ Key: 'Team', Value: 'a' }, { Key: 'GitHubRunId', Value: '9' }]],
    ['no run ID (not in Actions)', [{ Key: 'Team', Value: 'a' }], undefined, [{ Key: 'Team', Value: 'a' }]],
  ])('imageTags with %s', (_, tags, runId, expected) => expect(imageTags(tags, runId)).toEqual(expected));

  it.each<[string, Array<{ Key?: string; Value?: string }> | undefined, string | undefined, boolean]>([
    ['tagged by this run', [{ Key: 'GitHubRunId', Value: '9' }], '9', true],
    ['tagged by another run', [{ Key: 'GitHubRunId', Value: '8' }], '9', false],
    ['untagged (before run tags)', [{ Key: 'NixStoreFile', Value: 'x' }], '9', false],
    ['no tags at all', undefined, '9', false],
    ['no run ID here', [{ Key: 'GitHubRunId', Value: '' }], '', false],
  ])('isNewImage: %s', (_, tags, runId, expected) => expect(isNewImage(tags, runId)).toBe(expected));

  const at = new Date('2027-01-01T00:00:00Z');
  it.each<[string, Date | undefined, { DeprecationTime?: string } | undefined, Date | undefined]>([
    ['an image registered now', at, undefined, at],
    ['an earlier attempt\'s image without deprecation', at, {}, at],
    ['an image deprecated already: not moved', at, { DeprecationTime: '2026-12-30T00:00:00.000Z' }, undefined],
    ['no deprecation asked', undefined, {}, undefined],
  ])('deprecationToSet: %s', (_, wanted, image, expected) => expect(deprecationToSet(wanted, image)).toEqual(expected));

  const base = { storePath: '/nix/store/abc-img', file: '/nix/store/abc-img/nixos.raw' };
  it.each<[string, Parameters<typeof outcomeLine>[0], string]>([
    ['all registered now', { ...base, uploaded: true, images: [{ region: 'r1', id: 'ami-1', made: true }, { region: 'r2', id: 'ami-2', made: true }] }, 'Registered ami-1 in r1, ami-2 in r2.'],
    ['all existed', { ...base, uploaded: false, images: [{ region: 'r1', id: 'ami-1', made: false }, { region: 'r2', id: 'ami-2', made: false }] }, 'Image ami-1 in r1, ami-2 in r2 of /nix/store/abc-img existed already: nothing was uploaded.'],
    ['copies made now for an image that existed', { ...base, uploaded: false, images: [{ region: 'r1', id: 'ami-1', made: false }, { region: 'r2', id: 'ami-2', made: true }, { region: 'r3', id: 'ami-3', made: false }] }, 'Copied ami-2 in r2 now; ami-1 in r1, ami-3 in r3 existed already: nothing was uploaded.'],
    ['registered from a reused snapshot, a copy existed', { ...base, uploaded: false, reusedSnapshot: { id: 'snap-1', why: 'an earlier run uploaded it' }, images: [{ region: 'r1', id: 'ami-1', made: true }, { region: 'r2', id: 'ami-2', made: false }] }, 'Registered ami-1 in r1 from snapshot snap-1, reused (an earlier run uploaded it) now; ami-2 in r2 existed already: nothing was uploaded.'],
    ['a file outside the store that existed', { file: '/tmp/x.raw', uploaded: false, images: [{ region: 'r1', id: 'ami-1', made: false }] }, 'Image ami-1 in r1 of /tmp/x.raw existed already: nothing was uploaded.'],
  ])('outcomeLine: %s', (_, o, expected) => expect(outcomeLine(o)).toBe(expected));
});
