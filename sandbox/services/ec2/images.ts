/**
 * EC2 images registered from EBS snapshots (`RegisterImage`, `DescribeImages`, `CopyImage`, `DeregisterImage`,
 * `EnableImageDeprecation`) and tags on images and snapshots (`CreateTags`). Images are per region (the region the
 * request was signed for); a new image is `pending` until `registerDelayMs` (a copy: `copyDelayMs`) has passed on
 * the sandbox clock, then `available`. Requests are read through the official model (`readShape`), so handlers
 * see member names; what they check are AWS's rules the model cannot express, as the API reference states them.
 */
import { AwsError } from '../../errors.js';
import { readShape } from '../../models/validate.js';
import type { Account, CallContext, Operation } from '../../service.js';
import { newId, type Snapshot, type SnapshotStore } from '../ebs/snapshots.js';
import { canonicalJson, checkFilterName, dryRun, matchesFilter, paginate } from './ec2.js';
import { checkSnapshotId, snapshotNotFound, SnapshotOperations, tagItems, wireFilters, type ModelFilter } from './snapshots.js';
import { checkImageRules, checkName, checkTagKeys, imageNotFound, tagSpecifications, type DeviceMapping, type RegisterRequest } from './image-rules.js';

export type { DeviceMapping };

export interface Image {
  id: string;
  region: string;
  name: string;
  description?: string;
  architecture: string;
  bootMode?: string;
  tpmSupport?: string;
  enaSupport?: boolean;
  imdsSupport?: string;
  sriovNetSupport?: string;
  rootDeviceName: string;
  virtualizationType: string;
  mappings: DeviceMapping[];
  tags: Map<string, string>;
  creationDate: Date;
  /** Sandbox time (ms) from which the image is `available`. */
  availableAtMs: number;
  deprecationTime?: Date;
  /**
   * A state the sandbox does not reach by itself, seeded by a test: `deregistered` (AWS lists a deregistered image
   * so for a short interval), `disabled` (DisableImage; listed only with IncludeDisabled), `failed`.
   */
  state?: 'deregistered' | 'disabled' | 'failed';
  clientToken?: string;
  fingerprint?: string;
}

const IMAGE_ID = /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/;
const IMAGE_FILTERS = ['image-id', 'name', 'state', 'architecture', 'boot-mode', 'owner-id', 'description', 'is-public', 'root-device-name', 'tag-key', /^tag:.+/];
/** EnableImageDeprecation: "The upper limit for DeprecateAt is 10 years from now". */
const MAX_DEPRECATION_MS = 10 * 365.25 * 24 * 3600_000;

export function checkImageId(id: string): void {
  if (!IMAGE_ID.test(id)) throw new AwsError('InvalidAMIID.Malformed', `Invalid id: "${id}" (expecting "ami-...")`);
}

export class ImageService {
  readonly images = new Map<string, Image>();
  /** How long a registered image stays `pending`, on the sandbox clock. */
  registerDelayMs = 10_000;
  /** How long a copied image (and its snapshots) stays `pending`, on the sandbox clock. */
  copyDelayMs = 120_000;
  readonly operations: Record<string, Operation>;

  constructor(
    private readonly account: Account,
    readonly snapshots: SnapshotStore,
  ) {
    const snapshotOperations = new SnapshotOperations(account, snapshots, (region, id) => this.userOf(region, id));
    this.operations = {
      ...snapshotOperations.operations,
      RegisterImage: (params: Record<string, unknown>, call: CallContext) => this.register(params, call),
      DescribeImages: (params: Record<string, unknown>, call: CallContext) => this.describe(params, call),
      DeregisterImage: (params: Record<string, unknown>, call: CallContext) => this.deregister(params, call),
      CopyImage: (params: Record<string, unknown>, call: CallContext) => this.copy(params, call),
      EnableImageDeprecation: (params: Record<string, unknown>, call: CallContext) => this.deprecate(params, call),
      CreateTags: (params: Record<string, unknown>, call: CallContext) => this.createTags(params, call),
    };
  }

  stateOf(image: Image): 'pending' | 'available' | NonNullable<Image['state']> {
    return image.state ?? (this.account.clock.nowMs() >= image.availableAtMs ? 'available' : 'pending');
  }

  inRegion(region: string): Image[] {
    return [...this.images.values()].filter((image) => image.region === region);
  }

  /** The image `id` in `region`, with EC2's errors for a malformed or unknown ID. */
  find(region: string, id: string): Image {
    checkImageId(id);
    const image = this.images.get(id);
    if (!image || image.region !== region) throw imageNotFound(id);
    return image;
  }

  private userOf(region: string, snapshotId: string): string | undefined {
    return this.inRegion(region).find((image) => image.mappings.some((m) => m.Ebs?.SnapshotId === snapshotId))?.id;
  }

  private region = (call: CallContext): string => call.region ?? this.account.region;

  private checkUniqueName(region: string, name: string): void {
    const holder = this.inRegion(region).find((image) => image.name === name);
    if (holder) throw new AwsError('InvalidAMIName.Duplicate', `AMI name ${name} is already in use by AMI ${holder.id}`);
  }

  /** The snapshot a mapping names: in the region and completed. */
  private mappedSnapshot(region: string, mapping: DeviceMapping): Snapshot | undefined {
    const id = mapping.Ebs?.SnapshotId;
    if (id === undefined) return undefined;
    checkSnapshotId(id);
    const snapshot = this.snapshots.get(region, id);
    if (!snapshot) throw snapshotNotFound(id);
    if (this.snapshots.stateOf(snapshot) !== 'completed') {
      throw new AwsError('IncorrectState', `Snapshot '${id}' is not in the completed state.`);
    }
    const size = mapping.Ebs?.VolumeSize;
    if (size !== undefined && size < snapshot.volumeSize) {
      throw new AwsError(
        'InvalidBlockDeviceMapping',
        `Volume of size ${size}GB is smaller than snapshot '${id}', expect size >= ${snapshot.volumeSize}GB`,
      );
    }
    return snapshot;
  }

  private register(params: Record<string, unknown>, call: CallContext): Record<string, unknown> {
    const request = readShape('ec2', 'RegisterImageRequest', params) as RegisterRequest;
    const region = this.region(call);
    checkName(request.Name);
    checkImageRules(request);
    const tags = tagSpecifications(request.TagSpecifications);
    const mapped = (request.BlockDeviceMappings ?? []).map((m) => this.mappedSnapshot(region, m));
    dryRun(params.DryRun as string | undefined);
    this.checkUniqueName(region, request.Name);
    const now = this.account.clock.now();
    const image = this.add({
      id: newId('ami'),
      region,
      name: request.Name,
      description: request.Description,
      // RegisterImage's documented defaults for an EBS-backed image.
      architecture: request.Architecture ?? 'i386',
      virtualizationType: request.VirtualizationType ?? 'paravirtual',
      bootMode: request.BootMode,
      tpmSupport: request.TpmSupport,
      enaSupport: request.EnaSupport,
      imdsSupport: request.ImdsSupport,
      sriovNetSupport: request.SriovNetSupport,
      rootDeviceName: request.RootDeviceName!,
      mappings: (request.BlockDeviceMappings ?? []).map((m, i) => withSnapshotSize(m, mapped[i])),
      tags: tags.image,
      creationDate: now,
      availableAtMs: now.getTime() + this.registerDelayMs,
    });
    for (const snapshot of mapped) for (const [key, value] of tags.snapshot) snapshot?.tags.set(key, value);
    return { imageId: image.id };
  }

  add(image: Image): Image {
    this.images.set(image.id, image);
    return image;
  }

  private filterValues(image: Image, name: string): string[] {
    const values: Record<string, string | undefined> = {
      'image-id': image.id,
      name: image.name,
      state: this.stateOf(image),
      architecture: image.architecture,
      'boot-mode': image.bootMode,
      'owner-id': this.account.accountId,
      description: image.description,
      'is-public': 'false',
      'root-device-name': image.rootDeviceName,
    };
    if (name === 'tag-key') return [...image.tags.keys()];
    if (name.startsWith('tag:')) {
      const value = image.tags.get(name.slice('tag:'.length));
      return value === undefined ? [] : [value];
    }
    const value = values[name];
    return value === undefined ? [] : [value];
  }

  private describe(params: Record<string, unknown>, call: CallContext): Record<string, unknown> {
    const request = readShape('ec2', 'DescribeImagesRequest', params) as {
      ImageIds?: string[]; Owners?: string[]; Filters?: ModelFilter[]; MaxResults?: number; NextToken?: string; IncludeDisabled?: boolean;
    };
    const ids = request.ImageIds ?? [];
    ids.forEach(checkImageId);
    const filters = wireFilters(request.Filters);
    filters.forEach((f) => checkFilterName(f, IMAGE_FILTERS));
    dryRun(params.DryRun as string | undefined);
    const region = this.region(call);
    const missing = ids.find((id) => this.images.get(id)?.region !== region);
    if (missing) throw imageNotFound(missing);
    const owners = request.Owners ?? [];
    const mine = owners.length === 0 || owners.some((o) => o === 'self' || o === this.account.accountId);
    const matching = this.inRegion(region).filter(
      (image) =>
        mine &&
        (image.state !== 'disabled' || request.IncludeDisabled === true) &&
        (ids.length === 0 || ids.includes(image.id)) &&
        filters.every((f) => matchesFilter(f, this.filterValues(image, f.Name ?? ''))),
    );
    const page = paginate(matching, request.MaxResults, request.NextToken);
    return { imagesSet: page.items.map((image) => this.wire(image)), nextToken: page.nextToken };
  }

  private wire(image: Image): Record<string, unknown> {
    return {
      imageId: image.id,
      imageLocation: `${this.account.accountId}/${image.name}`,
      imageState: this.stateOf(image),
      imageOwnerId: this.account.accountId,
      creationDate: image.creationDate.toISOString(),
      isPublic: false,
      architecture: image.architecture,
      imageType: 'machine',
      platformDetails: 'Linux/UNIX',
      usageOperation: 'RunInstances',
      name: image.name,
      description: image.description,
      rootDeviceType: 'ebs',
      rootDeviceName: image.rootDeviceName,
      blockDeviceMapping: image.mappings.map(mappingWire),
      virtualizationType: image.virtualizationType,
      tagSet: tagItems(image.tags),
      enaSupport: image.enaSupport,
      sriovNetSupport: image.sriovNetSupport,
      hypervisor: 'xen',
      bootMode: image.bootMode,
      tpmSupport: image.tpmSupport,
      imdsSupport: image.imdsSupport,
      deprecationTime: image.deprecationTime?.toISOString(),
    };
  }

  private deregister(params: Record<string, unknown>, call: CallContext): Record<string, unknown> {
    const request = readShape('ec2', 'DeregisterImageRequest', params) as { ImageId: string; DeleteAssociatedSnapshots?: boolean };
    const image = this.find(this.region(call), request.ImageId);
    dryRun(params.DryRun as string | undefined);
    this.images.delete(image.id);
    if (request.DeleteAssociatedSnapshots) {
      for (const mapping of image.mappings) if (mapping.Ebs?.SnapshotId) this.snapshots.delete(mapping.Ebs.SnapshotId);
    }
    return { return: true };
  }

  private copy(params: Record<string, unknown>, call: CallContext): Record<string, unknown> {
    const request = readShape('ec2', 'CopyImageRequest', params) as {
      SourceImageId: string; SourceRegion: string; Name: string; Description?: string; ClientToken?: string;
      CopyImageTags?: boolean; TagSpecifications?: RegisterRequest['TagSpecifications'];
    };
    const region = this.region(call);
    const fingerprint = canonicalJson({ ...params, ClientToken: undefined, DryRun: undefined });
    const earlier = request.ClientToken === undefined ? undefined : this.inRegion(region).find((i) => i.clientToken === request.ClientToken);
    if (earlier) {
      if (earlier.fingerprint !== fingerprint) {
        throw new AwsError('IdempotentParameterMismatch', 'The client token you have provided is associated with a request that has different parameters.');
      }
      return { imageId: earlier.id };
    }
    checkName(request.Name);
    const source = this.find(request.SourceRegion, request.SourceImageId);
    if (this.stateOf(source) !== 'available') {
      throw new AwsError('IncorrectState', `Image ${source.id} is not in a valid state for copying: ${this.stateOf(source)}.`);
    }
    const tags = tagSpecifications(request.TagSpecifications);
    dryRun(params.DryRun as string | undefined);
    this.checkUniqueName(region, request.Name);
    const image = this.copyOf(source, region, request.CopyImageTags === true, tags);
    Object.assign(image, { name: request.Name, description: request.Description ?? source.description, clientToken: request.ClientToken, fingerprint });
    return { imageId: image.id };
  }

  /** The copy of `source` in `region`, its snapshots copied beside it, all `pending` for `copyDelayMs`. */
  private copyOf(source: Image, region: string, copyTags: boolean, tags: ReturnType<typeof tagSpecifications>): Image {
    const now = this.account.clock.now();
    const readyAtMs = now.getTime() + this.copyDelayMs;
    const mappings = source.mappings.map((mapping) => {
      const original = mapping.Ebs?.SnapshotId ? this.snapshots.get(source.region, mapping.Ebs.SnapshotId) : undefined;
      if (!original) return mapping;
      const copy = this.snapshots.add({
        ...original,
        id: newId('snap'),
        region,
        // A completed snapshot's blocks never change: the copy shares them.
        tags: new Map(tags.snapshot),
        startTime: now,
        description: `Copied for DestinationAmi from SourceAmi ${source.id} for SourceSnapshot ${original.id}.`,
        readyAtMs,
        clientToken: undefined,
        fingerprint: undefined,
      });
      return { ...mapping, Ebs: { ...mapping.Ebs, SnapshotId: copy.id } };
    });
    const imageTags = new Map([...(copyTags ? source.tags : []), ...tags.image]);
    return this.add({ ...source, id: newId('ami'), region, mappings, tags: imageTags, creationDate: now, availableAtMs: readyAtMs, deprecationTime: undefined });
  }

  private deprecate(params: Record<string, unknown>, call: CallContext): Record<string, unknown> {
    const request = readShape('ec2', 'EnableImageDeprecationRequest', params) as { ImageId: string; DeprecateAt: Date };
    const image = this.find(this.region(call), request.ImageId);
    // "If you specify a value for seconds, Amazon EC2 rounds the seconds to the nearest minute."
    const at = new Date(Math.round(request.DeprecateAt.getTime() / 60_000) * 60_000);
    const now = this.account.clock.nowMs();
    if (at.getTime() < now) {
      throw new AwsError('InvalidParameterValue', `The deprecation time ${at.toISOString()} is in the past. Specify a time in the future.`);
    }
    if (at.getTime() > now + MAX_DEPRECATION_MS) {
      throw new AwsError('InvalidParameterValue', `The deprecation time ${at.toISOString()} is more than 10 years from now.`);
    }
    dryRun(params.DryRun as string | undefined);
    image.deprecationTime = at;
    return { return: true };
  }

  private createTags(params: Record<string, unknown>, call: CallContext): Record<string, unknown> {
    const request = readShape('ec2', 'CreateTagsRequest', params) as { Resources: string[]; Tags: { Key?: string; Value?: string }[] };
    const region = this.region(call);
    const tags = checkTagKeys(request.Tags);
    const targets = request.Resources.map((id) => this.taggable(region, id));
    for (const target of targets) {
      const keys = new Set([...target.keys(), ...tags.keys()]);
      if (keys.size > 50) throw new AwsError('TagLimitExceeded', 'The maximum number of Tags for a resource has been reached.');
    }
    dryRun(params.DryRun as string | undefined);
    for (const target of targets) for (const [key, value] of tags) target.set(key, value);
    return { return: true };
  }

  /** The tags of an image or snapshot in the region (the resources this sandbox tags), by ID. */
  private taggable(region: string, id: string): Map<string, string> {
    if (id.startsWith('ami-')) return this.find(region, id).tags;
    if (id.startsWith('snap-')) {
      checkSnapshotId(id);
      const snapshot = this.snapshots.get(region, id);
      if (!snapshot) throw snapshotNotFound(id);
      return snapshot.tags;
    }
    throw new AwsError('InvalidID', `The ID '${id}' is not valid`);
  }
}

/** A mapping as stored: the snapshot's size when the request gave none, as EC2 reports it. */
function withSnapshotSize(mapping: DeviceMapping, snapshot: Snapshot | undefined): DeviceMapping {
  if (!mapping.Ebs || !snapshot) return mapping;
  return { ...mapping, Ebs: { DeleteOnTermination: true, VolumeType: 'gp2', Encrypted: snapshot.encrypted, ...mapping.Ebs, VolumeSize: mapping.Ebs.VolumeSize ?? snapshot.volumeSize } };
}

const mappingWire = (mapping: DeviceMapping): Record<string, unknown> => ({
  deviceName: mapping.DeviceName,
  ebs: mapping.Ebs && {
    deleteOnTermination: mapping.Ebs.DeleteOnTermination,
    iops: mapping.Ebs.Iops,
    snapshotId: mapping.Ebs.SnapshotId,
    volumeSize: mapping.Ebs.VolumeSize,
    volumeType: mapping.Ebs.VolumeType,
    throughput: mapping.Ebs.Throughput,
    encrypted: mapping.Ebs.Encrypted,
  },
});
