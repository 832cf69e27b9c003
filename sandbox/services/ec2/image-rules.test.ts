import { describe, expect, it } from '@jest/globals';
import { checkImageRules, checkName, checkTagKeys, tagSpecifications, type RegisterRequest } from './image-rules.js';

const ROOT = { DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-0123456789abcdef0' } };
const base: RegisterRequest = { Name: 'nixos', RootDeviceName: '/dev/xvda', VirtualizationType: 'hvm', BlockDeviceMappings: [ROOT] };
/** The code an AwsError thrown by `act` carries, or 'ok'. */
const codeOf = (act: () => unknown): string => {
  try {
    act();
    return 'ok';
  } catch (error) {
    return (error as { code: string }).code;
  }
};

describe('checkImageRules', () => {
  it.each<[string, Partial<RegisterRequest>, string]>([
    ['x86_64 legacy BIOS', { Architecture: 'x86_64', BootMode: 'legacy-bios' }, 'ok'],
    ['x86_64 UEFI with TPM', { Architecture: 'x86_64', BootMode: 'uefi', TpmSupport: 'v2.0', EnaSupport: true }, 'ok'],
    ['arm64 UEFI', { Architecture: 'arm64', BootMode: 'uefi' }, 'ok'],
    ['uefi-preferred', { Architecture: 'x86_64', BootMode: 'uefi-preferred' }, 'ok'],
    ['TPM with uefi-preferred', { BootMode: 'uefi-preferred', TpmSupport: 'v2.0' }, 'InvalidParameterCombination'],
    ['TPM without a boot mode', { TpmSupport: 'v2.0' }, 'InvalidParameterCombination'],
    ['arm64 legacy BIOS', { Architecture: 'arm64', BootMode: 'legacy-bios' }, 'InvalidParameterCombination'],
    ['arm64 paravirtual', { Architecture: 'arm64', VirtualizationType: 'paravirtual' }, 'InvalidParameterCombination'],
    ['ENA paravirtual', { EnaSupport: true, VirtualizationType: 'paravirtual' }, 'InvalidParameterCombination'],
    ['UEFI by default paravirtual', { BootMode: 'uefi', VirtualizationType: undefined }, 'InvalidParameterCombination'],
    ['an unknown virtualization', { VirtualizationType: 'kvm' }, 'InvalidParameterValue'],
    ['no root device name', { RootDeviceName: undefined }, 'MissingParameter'],
    ['a root device without a snapshot', { BlockDeviceMappings: [{ DeviceName: '/dev/xvda' }] }, 'InvalidBlockDeviceMapping'],
    ['a root device not mapped', { RootDeviceName: '/dev/sda1' }, 'InvalidBlockDeviceMapping'],
    ['a device mapped twice', { BlockDeviceMappings: [ROOT, ROOT] }, 'InvalidBlockDeviceMapping'],
    ['a mapping without a device', { BlockDeviceMappings: [ROOT, { Ebs: { VolumeSize: 1 } }] }, 'MissingParameter'],
    ['an S3 manifest', { ImageLocation: 'bucket/image.manifest.xml', BlockDeviceMappings: undefined }, 'InvalidParameterValue'],
  ])('%s: %s', (_case, change, code) => {
    expect(codeOf(() => checkImageRules({ ...base, ...change }))).toBe(code);
  });
});

describe('checkName', () => {
  it.each([
    ['nixos-25.11.20261129.abc123-x86_64-linux', 'ok'],
    ["NixOS (25.11) [uefi] o'clock @home_1/2", 'ok'],
    ['ab', 'InvalidAMIName.Malformed'],
    ['nixos*', 'InvalidAMIName.Malformed'],
    ['x'.repeat(129), 'InvalidAMIName.Malformed'],
  ])('%s: %s', (name, code) => {
    expect(codeOf(() => checkName(name))).toBe(code);
  });
});

describe('tags', () => {
  it.each([
    [[{ Key: 'StorePath', Value: '/nix/store/abc-nixos' }], 'ok'],
    [[{ Key: 'aws:cloudformation', Value: 'x' }], 'InvalidParameterValue'],
    [[{ Key: '', Value: 'x' }], 'InvalidParameterValue'],
    [[{ Key: 'k'.repeat(128), Value: 'x' }], 'InvalidParameterValue'],
    [[{ Key: 'k', Value: 'v'.repeat(257) }], 'InvalidParameterValue'],
  ])('checkTagKeys(%j): %s', (tags, code) => {
    expect(codeOf(() => checkTagKeys(tags))).toBe(code);
  });

  it('tagSpecifications splits image and snapshot tags, and refuses other resource types', () => {
    const tags = tagSpecifications([
      { ResourceType: 'image', Tags: [{ Key: 'a', Value: '1' }] },
      { ResourceType: 'snapshot', Tags: [{ Key: 'b', Value: '2' }] },
    ]);
    expect([Object.fromEntries(tags.image), Object.fromEntries(tags.snapshot)]).toEqual([{ a: '1' }, { b: '2' }]);
    expect(codeOf(() => tagSpecifications([{ ResourceType: 'volume', Tags: [] }]))).toBe('InvalidParameterValue');
  });
});
