/**
 * RegisterImage's and CreateTags' rules beyond the model, as EC2's API reference and user guide state them: pure
 * functions of the request, throwing the AwsError EC2 answers with.
 */
import { AwsError } from '../../errors.js';

/** A block device mapping as `readShape` reads it. */
export interface DeviceMapping {
  DeviceName?: string;
  Ebs?: { SnapshotId?: string; VolumeSize?: number; VolumeType?: string; DeleteOnTermination?: boolean; Encrypted?: boolean; Iops?: number; Throughput?: number };
}

/** RegisterImage as `readShape` reads it (member names, typed values). */
export interface RegisterRequest {
  Name: string;
  Description?: string;
  Architecture?: string;
  BootMode?: string;
  TpmSupport?: string;
  EnaSupport?: boolean;
  ImdsSupport?: string;
  SriovNetSupport?: string;
  RootDeviceName?: string;
  VirtualizationType?: string;
  ImageLocation?: string;
  BlockDeviceMappings?: DeviceMapping[];
  TagSpecifications?: { ResourceType?: string; Tags?: { Key?: string; Value?: string }[] }[];
}

/** "3-128 alphanumeric characters, parentheses (()), square brackets ([]), spaces ( ), periods (.), slashes (/), dashes (-), single quotes ('), at-signs (@), or underscores(_)". */
const IMAGE_NAME = /^[A-Za-z0-9()[\] ./'@_-]{3,128}$/;
const TAG_KEY_MAX = 127;
const TAG_VALUE_MAX = 256;

export const imageNotFound = (id: string): AwsError =>
  new AwsError('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);

const combination = (message: string): AwsError => new AwsError('InvalidParameterCombination', message);

export const malformedImageName = (name: string): AwsError =>
  new AwsError('InvalidAMIName.Malformed', `AMI name ${name} is invalid: it must be 3-128 characters of letters, numbers, ( ) [ ] space . / - ' @ _`);

export function checkName(name: string): void {
  if (!IMAGE_NAME.test(name)) throw malformedImageName(name);
}

/** The root device is mapped to a snapshot, device names are given once each. */
function checkMappings(request: RegisterRequest): void {
  if (request.RootDeviceName === undefined) {
    throw new AwsError('MissingParameter', 'The request must contain the parameter rootDeviceName');
  }
  const mappings = request.BlockDeviceMappings ?? [];
  mappings.forEach((mapping, i) => {
    if (mapping.DeviceName === undefined) {
      throw new AwsError('MissingParameter', `The request must contain the parameter BlockDeviceMapping.${i + 1}.DeviceName`);
    }
    if (mappings.findIndex((m) => m.DeviceName === mapping.DeviceName) !== i) {
      throw new AwsError('InvalidBlockDeviceMapping', `The device name ${mapping.DeviceName} is mapped more than once.`);
    }
  });
  const root = mappings.find((m) => m.DeviceName === request.RootDeviceName);
  if (!root?.Ebs?.SnapshotId) {
    throw new AwsError('InvalidBlockDeviceMapping', `The root device ${request.RootDeviceName} must be mapped to an EBS snapshot.`);
  }
}

/**
 * Architecture, virtualization, boot mode and TPM go together as EC2 launches them: arm64 is HVM and UEFI only,
 * ENA and UEFI need HVM, NitroTPM (`TpmSupport: v2.0`) needs the `uefi` boot mode.
 */
function checkPlatform(request: RegisterRequest): void {
  const virtualization = request.VirtualizationType ?? 'paravirtual';
  if (virtualization !== 'hvm' && virtualization !== 'paravirtual') {
    throw new AwsError('InvalidParameterValue', `Value (${virtualization}) for parameter virtualizationType is invalid. Valid values: hvm, paravirtual`);
  }
  const hvm = virtualization === 'hvm';
  if (request.Architecture === 'arm64' && !hvm) throw combination('arm64 images must use the hvm virtualization type.');
  if (request.Architecture === 'arm64' && request.BootMode === 'legacy-bios') {
    throw combination('arm64 images boot with uefi only: the legacy-bios boot mode is not supported.');
  }
  if (request.EnaSupport === true && !hvm) throw combination('Enhanced networking (ENA) requires the hvm virtualization type.');
  if (request.BootMode !== undefined && request.BootMode !== 'legacy-bios' && !hvm) {
    throw combination(`The ${request.BootMode} boot mode requires the hvm virtualization type.`);
  }
  if (request.TpmSupport !== undefined && request.BootMode !== 'uefi') {
    throw combination('NitroTPM support (TpmSupport v2.0) requires the uefi boot mode.');
  }
}

export function checkImageRules(request: RegisterRequest): void {
  if (request.ImageLocation !== undefined && request.BlockDeviceMappings === undefined) {
    throw new AwsError('InvalidParameterValue', 'The sandbox registers EBS-backed images only: give BlockDeviceMappings and RootDeviceName.');
  }
  checkMappings(request);
  checkPlatform(request);
}

/** Tags to add, as a map; EC2's limits on keys and values, and its reserved `aws:` prefix. */
export function checkTagKeys(tags: { Key?: string; Value?: string }[] | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const { Key: key = '', Value: value = '' } of tags ?? []) {
    if (key.length === 0 || key.length > TAG_KEY_MAX) {
      throw new AwsError('InvalidParameterValue', `Tag key must be between 1 and ${TAG_KEY_MAX} characters: '${key}'`);
    }
    if (key.toLowerCase().startsWith('aws:')) {
      throw new AwsError('InvalidParameterValue', "Tag keys starting with 'aws:' are reserved for internal use");
    }
    if (value.length > TAG_VALUE_MAX) {
      throw new AwsError('InvalidParameterValue', `Tag value for key '${key}' must be at most ${TAG_VALUE_MAX} characters`);
    }
    map.set(key, value);
  }
  return map;
}

/** RegisterImage's and CopyImage's TagSpecifications: tags for the image and for its snapshots, nothing else. */
export function tagSpecifications(specs: RegisterRequest['TagSpecifications']): { image: Map<string, string>; snapshot: Map<string, string> } {
  const out = { image: new Map<string, string>(), snapshot: new Map<string, string>() };
  for (const spec of specs ?? []) {
    const type = spec.ResourceType ?? '';
    if (type !== 'image' && type !== 'snapshot') {
      throw new AwsError('InvalidParameterValue', `'${type}' is not a valid taggable resource type for this operation.`);
    }
    for (const [key, value] of checkTagKeys(spec.Tags)) out[type].set(key, value);
  }
  return out;
}
