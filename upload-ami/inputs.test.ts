import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { inputErrorOf } from '../shared/fixtures/input-error.js';
import { readInputs } from './inputs.js';

const dir = mkdtempSync(join(tmpdir(), 'upload-ami-inputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RAW = join(dir, 'out/disk.raw');
mkdirSync(join(dir, 'out/nix-support'), { recursive: true });
writeFileSync(RAW, Buffer.concat([Buffer.alloc(1000, 1), Buffer.alloc(3096)]));

/** An image-info.json in `out/nix-support/` of the temporary folder, nixpkgs' fields over `fields`. */
function info(fields: Record<string, unknown> = {}, name = 'image-info.json'): string {
  const path = join(dir, 'out/nix-support', name);
  writeFileSync(path, JSON.stringify({ label: '25.05', boot_mode: 'uefi', system: 'x86_64-linux', logical_bytes: '4096', file: RAW, ...fields }));
  return path;
}

const ENV = { AWS_REGION: 'eu-central-1', GITHUB_WORKSPACE: dir };
const read = (values: Record<string, string>) => readInputs((name) => values[name] ?? '', ENV);
const failure = (values: Record<string, string>): string => inputErrorOf(() => read(values));

describe('upload-ami inputs', () => {
  it('reads image-info.json and applies the defaults', () => {
    expect(read({ 'image-info': info(), 'image-name': 'web' })).toEqual({
      roleToAssume: '',
      awsRegion: 'eu-central-1',
      audience: 'sts.amazonaws.com',
      source: { file: RAW, bootMode: 'uefi', architecture: 'x86_64', label: '25.05', system: 'x86_64-linux' },
      imageBytes: 4096,
      storePath: undefined,
      soleDisk: false,
      imageName: 'web',
      description: '',
      tags: [],
      copyToRegions: [],
      deprecateAfterDays: undefined,
      tpmSupport: false,
      volumeType: 'gp3',
      uploadConcurrency: 64,
      timeoutMinutes: 60,
      validateOnly: false,
    });
  });

  it('takes a relative path from the workspace, a relative disk file from the output, a symlinked file', () => {
    symlinkSync(RAW, join(dir, 'out/link.raw'));
    const inputs = read({ 'image-info': relativeInfo(), 'copy-to-regions': 'eu-west-1, us-east-1', 'image-name': 'web' });
    expect(inputs.source.file).toBe(RAW);
    expect(inputs.copyToRegions).toEqual(['eu-west-1', 'us-east-1']);
  });

  it('takes a raw file with its boot mode and architecture', () => {
    const inputs = read({ image: RAW, 'boot-mode': 'legacy-bios', architecture: 'x86_64', 'image-name': 'web (v1)' });
    expect(inputs.source).toEqual({ file: RAW, bootMode: 'legacy-bios', architecture: 'x86_64' });
    expect(inputs.imageName).toBe('web (v1)');
  });

  it.each([
    ['neither image input', {}, /'image-info' or 'image' is required/],
    ['both image inputs', { 'image-info': 'x', image: RAW }, /'image' cannot be given with 'image-info'/],
    ['a missing image-info', { 'image-info': 'nope.json' }, /image-info.*cannot read .*nope\.json.*ENOENT/],
    ['image without boot mode', { image: RAW, architecture: 'x86_64' }, /'boot-mode' must be one of uefi, legacy-bios/],
    ['image with a bad architecture', { image: RAW, 'boot-mode': 'uefi', architecture: 'i386' }, /'architecture' must be one of x86_64, arm64/],
    ['arm64 on legacy BIOS', { image: RAW, 'boot-mode': 'legacy-bios', architecture: 'arm64' }, /arm64 instances boot only with UEFI/],
    ['a missing disk file', { image: join(dir, 'gone.raw'), 'boot-mode': 'uefi', architecture: 'x86_64' }, /gone\.raw.*ENOENT/],
    ['a folder as disk file', { image: dir, 'boot-mode': 'uefi', architecture: 'x86_64' }, /not a regular file/],
    ['TPM on legacy BIOS', { image: RAW, 'boot-mode': 'legacy-bios', architecture: 'x86_64', 'tpm-support': 'true' }, /'tpm-support' cannot be true/],
    ['a bad image name', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64', 'image-name': 'a:b' }, /'image-name' must be an EC2 image name/],
    ['a raw file outside the store without a name', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64' }, /'image-name' is required for a disk file outside the Nix store \(".*disk\.raw"\)/],
    ['image-info.json outside the store without a name', { 'image-info': info() }, /'image-name' is required for a disk file outside the Nix store/],
    ['the ImageFile tag', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64', 'image-name': 'web', tags: 'ImageFile=x' }, /'tags' must not set ImageFile/],
    ['an HDD root volume', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64', 'volume-type': 'st1' }, /'volume-type' must be one of gp3, gp2, standard; got "st1": st1 .*cannot be a boot volume/],
    ['a cold HDD root volume', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64', 'image-name': 'web', 'volume-type': 'sc1' }, /got "sc1": sc1 .*cannot be a boot volume/],
    ['io1, which needs Iops', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64', 'image-name': 'web', 'volume-type': 'io1' }, /'volume-type' must be one of gp3, gp2, standard; got "io1": io1 needs Iops in RegisterImage and a volume of at least 4 GiB/],
    ['io2, which needs Iops', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64', 'image-name': 'web', 'volume-type': 'IO2' }, /got "IO2": io2 needs Iops/],
    ['an unknown volume type', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64', 'image-name': 'web', 'volume-type': 'ssd' }, /'volume-type' must be one of gp3, gp2, standard; got "ssd"$/m],
    ['the run tag', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64', 'image-name': 'web', tags: 'GitHubRunId=1' }, /'tags' must not set GitHubRunId/],
    ['48 tags (51 with the action\'s own on the image)', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64', 'image-name': 'web', tags: Array.from({ length: 48 }, (_, i) => `k${i}=v`).join('\n') }, /'tags' sets 48 tags; with NixStorePath, NixStoreFile and GitHubRunId that is over EC2's 50/],
    ['too much concurrency', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64', 'upload-concurrency': '1000' }, /'upload-concurrency' must be an integer 1-256/],
    ['no timeout', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64', 'timeout-minutes': '0' }, /'timeout-minutes' must be more than 0/],
    ['a bad copy region', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64', 'copy-to-regions': 'eu-west-1,mars' }, /'copy-to-regions' items must each be an AWS region.*"mars"/],
    ['the own region as copy', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64', 'copy-to-regions': 'eu-central-1' }, /must not name the upload's own region/],
    ['the store path tag', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64', tags: 'NixStorePath=x' }, /'tags' must not set NixStorePath/],
    ['the store file tag', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64', tags: 'NixStoreFile=x' }, /'tags' must not set NixStoreFile/],
    ['an aws: tag', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64', tags: 'aws:x=y' }, /'tags' lines must each be Key=Value/],
    ['a deprecation past ten years', { image: RAW, 'boot-mode': 'uefi', architecture: 'x86_64', 'deprecate-after-days': '3651' }, /'deprecate-after-days' must be an integer 1-3650/],
  ])('refuses %s', (_case, values, message) => expect(failure(values)).toMatch(message));

  it.each([
    ['a VHD build', { file: join(dir, 'out/nixos.vhd') }, 'nixos.vhd', /a vpc image.*amazonImage.format = "raw"/],
    ['a declared qcow2', { format: 'qcow2' }, undefined, /a qcow2 image.*amazonImage.format = "raw"/],
    ['a size that is not the file', { logical_bytes: '8192' }, undefined, /logical_bytes 8192 but .* has 4096 bytes/],
    ['an unbootable system', { system: 'riscv64-linux' }, undefined, /system "riscv64-linux"/],
    ['a boot mode EC2 does not know', { boot_mode: 'bios' }, undefined, /boot_mode "bios"/],
    ['no disk file', { file: '' }, undefined, /has no disk file/],
  ])('refuses image-info.json with %s', (_case, fields, extra, message) => {
    if (extra) writeFileSync(join(dir, 'out', extra), Buffer.alloc(4096));
    expect(failure({ 'image-info': info(fields, `${extra ?? 'bad'}.json`) })).toMatch(message);
  });
});

/** An image-info.json naming its disk file relative to the output, itself named relative to the workspace. */
function relativeInfo(): string {
  writeFileSync(join(dir, 'out/nix-support/relative.json'), JSON.stringify({ boot_mode: 'uefi', system: 'x86_64-linux', file: 'link.raw' }));
  return 'out/nix-support/relative.json';
}
