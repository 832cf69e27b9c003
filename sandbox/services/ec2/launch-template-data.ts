/**
 * Launch template data on the EC2 wire. Requests arrive flattened under their query names
 * (`TagSpecification.1.Tag.1.Key`), are stored under the SDK's member names (`TagSpecifications[0].Tags[0].Key`)
 * and are answered under EC2's XML names (`tagSpecificationSet/item/tagSet/item/key`).
 *
 * The table below is RequestLaunchTemplateData/ResponseLaunchTemplateData from @aws-sdk/client-ec2 3.1169.0's
 * schemas. Only list members are ever renamed: a structure member's query name is its member name and its XML
 * name is the member name in lowerCamel case, so the table spells out names for lists alone.
 */
import { types } from 'node:util';
import { AwsError } from '../../errors.js';

/**
 * Launch template data as the SDK's request shapes name it (PascalCase: `TagSpecifications`,
 * `MetadataOptions`, `UserData`, `ImageId`, ...). Stored in that form; serialised to EC2's wire names on output.
 */
export type LaunchTemplateData = Record<string, unknown>;

type Scalar = 'string' | 'number' | 'boolean' | 'timestamp';
class ListShape {
  constructor(
    readonly of: Shape,
    /** The element EC2 answers with. */
    readonly xml: string,
    /** The flattened request name, when it is not the member name. */
    readonly query?: string,
  ) {}
}
interface StructShape {
  [member: string]: Shape;
}
type Shape = Scalar | ListShape | StructShape;

const S = 'string';
const N = 'number';
const B = 'boolean';
const T = 'timestamp';
const list = (of: Shape, xml: string, query?: string): ListShape => new ListShape(of, xml, query);

const LAUNCH_TEMPLATE_DATA: StructShape = {
  KernelId: S,
  EbsOptimized: B,
  IamInstanceProfile: { Arn: S, Name: S },
  BlockDeviceMappings: list({
    DeviceName: S,
    VirtualName: S,
    Ebs: {
      Encrypted: B,
      DeleteOnTermination: B,
      Iops: N,
      KmsKeyId: S,
      SnapshotId: S,
      VolumeSize: N,
      VolumeType: S,
      Throughput: N,
      VolumeInitializationRate: N,
      EbsCardIndex: N,
    },
    NoDevice: S,
  }, 'blockDeviceMappingSet', 'BlockDeviceMapping'),
  NetworkInterfaces: list({
    AssociateCarrierIpAddress: B,
    AssociatePublicIpAddress: B,
    DeleteOnTermination: B,
    Description: S,
    DeviceIndex: N,
    Groups: list(S, 'groupSet', 'SecurityGroupId'),
    InterfaceType: S,
    Ipv6AddressCount: N,
    Ipv6Addresses: list({ Ipv6Address: S }, 'ipv6AddressesSet'),
    NetworkInterfaceId: S,
    PrivateIpAddress: S,
    PrivateIpAddresses: list({ Primary: B, PrivateIpAddress: S }, 'privateIpAddressesSet'),
    SecondaryPrivateIpAddressCount: N,
    SubnetId: S,
    NetworkCardIndex: N,
    Ipv4Prefixes: list({ Ipv4Prefix: S }, 'ipv4PrefixSet', 'Ipv4Prefix'),
    Ipv4PrefixCount: N,
    Ipv6Prefixes: list({ Ipv6Prefix: S }, 'ipv6PrefixSet', 'Ipv6Prefix'),
    Ipv6PrefixCount: N,
    PrimaryIpv6: B,
    EnaSrdSpecification: { EnaSrdEnabled: B, EnaSrdUdpSpecification: { EnaSrdUdpEnabled: B } },
    ConnectionTrackingSpecification: { TcpEstablishedTimeout: N, UdpStreamTimeout: N, UdpTimeout: N },
    EnaQueueCount: N,
  }, 'networkInterfaceSet', 'NetworkInterface'),
  ImageId: S,
  InstanceType: S,
  KeyName: S,
  Monitoring: { Enabled: B, MetricCategoryIds: list(S, 'metricCategoryIdSet', 'MetricCategoryId') },
  Placement: {
    AvailabilityZone: S,
    AvailabilityZoneId: S,
    Affinity: S,
    GroupName: S,
    HostId: S,
    Tenancy: S,
    SpreadDomain: S,
    HostResourceGroupArn: S,
    PartitionNumber: N,
    GroupId: S,
  },
  RamDiskId: S,
  DisableApiTermination: B,
  InstanceInitiatedShutdownBehavior: S,
  UserData: S,
  TagSpecifications: list(
    { ResourceType: S, Tags: list({ Key: S, Value: S }, 'tagSet', 'Tag') },
    'tagSpecificationSet',
    'TagSpecification',
  ),
  ElasticGpuSpecifications: list({ Type: S }, 'elasticGpuSpecificationSet', 'ElasticGpuSpecification'),
  ElasticInferenceAccelerators: list(
    { Type: S, Count: N },
    'elasticInferenceAcceleratorSet',
    'ElasticInferenceAccelerator',
  ),
  SecurityGroupIds: list(S, 'securityGroupIdSet', 'SecurityGroupId'),
  SecurityGroups: list(S, 'securityGroupSet', 'SecurityGroup'),
  InstanceMarketOptions: {
    MarketType: S,
    SpotOptions: {
      MaxPrice: S,
      SpotInstanceType: S,
      BlockDurationMinutes: N,
      ValidUntil: T,
      InstanceInterruptionBehavior: S,
    },
  },
  CreditSpecification: { CpuCredits: S },
  CpuOptions: { CoreCount: N, ThreadsPerCore: N, AmdSevSnp: S, NestedVirtualization: S },
  CapacityReservationSpecification: {
    CapacityReservationPreference: S,
    CapacityReservationTarget: { CapacityReservationId: S, CapacityReservationResourceGroupArn: S },
  },
  LicenseSpecifications: list({ LicenseConfigurationArn: S }, 'licenseSet', 'LicenseSpecification'),
  HibernationOptions: { Configured: B },
  MetadataOptions: {
    HttpTokens: S,
    HttpPutResponseHopLimit: N,
    HttpEndpoint: S,
    HttpProtocolIpv6: S,
    InstanceMetadataTags: S,
  },
  EnclaveOptions: { Enabled: B },
  InstanceRequirements: {
    VCpuCount: { Min: N, Max: N },
    MemoryMiB: { Min: N, Max: N },
    CpuManufacturers: list(S, 'cpuManufacturerSet', 'CpuManufacturer'),
    MemoryGiBPerVCpu: { Min: N, Max: N },
    ExcludedInstanceTypes: list(S, 'excludedInstanceTypeSet', 'ExcludedInstanceType'),
    InstanceGenerations: list(S, 'instanceGenerationSet', 'InstanceGeneration'),
    SpotMaxPricePercentageOverLowestPrice: N,
    OnDemandMaxPricePercentageOverLowestPrice: N,
    BareMetal: S,
    BurstablePerformance: S,
    RequireHibernateSupport: B,
    NetworkInterfaceCount: { Min: N, Max: N },
    LocalStorage: S,
    LocalStorageTypes: list(S, 'localStorageTypeSet', 'LocalStorageType'),
    TotalLocalStorageGB: { Min: N, Max: N },
    BaselineEbsBandwidthMbps: { Min: N, Max: N },
    AcceleratorTypes: list(S, 'acceleratorTypeSet', 'AcceleratorType'),
    AcceleratorCount: { Min: N, Max: N },
    AcceleratorManufacturers: list(S, 'acceleratorManufacturerSet', 'AcceleratorManufacturer'),
    AcceleratorNames: list(S, 'acceleratorNameSet', 'AcceleratorName'),
    AcceleratorTotalMemoryMiB: { Min: N, Max: N },
    NetworkBandwidthGbps: { Min: N, Max: N },
    AllowedInstanceTypes: list(S, 'allowedInstanceTypeSet', 'AllowedInstanceType'),
    MaxSpotPriceAsPercentageOfOptimalOnDemandPrice: N,
    BaselinePerformanceFactors: { Cpu: { References: list({ InstanceFamily: S }, 'referenceSet', 'Reference') } },
    RequireEncryptionInTransit: B,
  },
  PrivateDnsNameOptions: { HostnameType: S, EnableResourceNameDnsARecord: B, EnableResourceNameDnsAAAARecord: B },
  MaintenanceOptions: { AutoRecovery: S },
  DisableApiStop: B,
  Operator: { Principal: S },
  NetworkPerformanceOptions: { BandwidthWeighting: S },
  SecondaryInterfaces: list({
    DeleteOnTermination: B,
    DeviceIndex: N,
    PrivateIpAddresses: list({ PrivateIpAddress: S }, 'privateIpAddressesSet', 'PrivateIpAddress'),
    PrivateIpAddressCount: N,
    SecondarySubnetId: S,
    InterfaceType: S,
    NetworkCardIndex: N,
  }, 'secondaryInterfaceSet', 'SecondaryInterface'),
};

const lowerCamel = (name: string): string => name[0].toLowerCase() + name.slice(1);

// `types.isDate` rather than `instanceof`: jest runs tests in another realm, whose Dates fail `instanceof`.
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !types.isDate(value);

/**
 * A deep copy, so stored versions never share objects with a caller or with each other. Not structuredClone:
 * under jest that returns objects of Node's own realm, and `toXml` would no longer recognise their Dates.
 */
export function cloneLaunchTemplateData<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneLaunchTemplateData) as T;
  if (types.isDate(value)) return new Date(value.getTime()) as T;
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cloneLaunchTemplateData(v)])) as T;
  }
  return value;
}

const invalid = (path: string, value: unknown): AwsError =>
  new AwsError('InvalidParameterValue', `Value (${String(value)}) for parameter ${path} is invalid.`);

/**
 * Turns `LaunchTemplateData` as the query protocol decoded it (query names, string leaves) into SDK member
 * names with typed leaves. Answers EC2's errors for names it does not know and values of the wrong type.
 */
export function decodeLaunchTemplateData(wire: unknown, path = 'LaunchTemplateData'): LaunchTemplateData {
  return decode(wire, LAUNCH_TEMPLATE_DATA, path) as LaunchTemplateData;
}

function decode(wire: unknown, shape: Shape, path: string): unknown {
  if (shape instanceof ListShape) {
    // The EC2 protocol sends nothing for an empty list; a bare `Name=` is the Query protocol's spelling of one.
    if (wire === '') return [];
    if (!Array.isArray(wire)) throw invalid(path, wire);
    return wire.map((item, i) => decode(item, shape.of, `${path}.${i + 1}`));
  }
  if (typeof shape === 'object') {
    if (!isObject(wire)) throw invalid(path, wire);
    const members = Object.entries(shape);
    return Object.fromEntries(
      Object.entries(wire).map(([key, value]) => {
        const member = members.find(([name, s]) => (s instanceof ListShape ? (s.query ?? name) : name) === key);
        if (!member) throw new AwsError('UnknownParameter', `The parameter ${path}.${key} is not recognized`);
        return [member[0], decode(value, member[1], `${path}.${key}`)];
      }),
    );
  }
  if (typeof wire !== 'string') throw invalid(path, wire);
  if (shape === 'number') {
    const number = Number(wire);
    if (wire.trim() === '' || !Number.isFinite(number)) throw invalid(path, wire);
    return number;
  }
  if (shape === 'boolean') {
    if (!/^(true|false)$/i.test(wire)) throw invalid(path, wire);
    return wire.toLowerCase() === 'true';
  }
  if (shape === 'timestamp') {
    const date = new Date(wire);
    if (Number.isNaN(date.getTime())) throw invalid(path, wire);
    return date;
  }
  return wire;
}

/** Serialises stored data under EC2's response names (`tagSpecificationSet`, `metadataOptions`, ...). */
export function encodeLaunchTemplateData(data: LaunchTemplateData): Record<string, unknown> {
  return encode(data, LAUNCH_TEMPLATE_DATA) as Record<string, unknown>;
}

function encode(value: unknown, shape: Shape): unknown {
  if (shape instanceof ListShape) return (value as unknown[]).map((item) => encode(item, shape.of));
  if (typeof shape === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([name, member]) => {
        const memberShape = shape[name];
        return [memberShape instanceof ListShape ? memberShape.xml : lowerCamel(name), encode(member, memberShape)];
      }),
    );
  }
  return value;
}

/**
 * Checks data handed to the seeding API against the SDK's shapes, so a typo in a test (`TagSpecification`,
 * `HttpTokens: true`) fails where it is written instead of surfacing as a wire-format puzzle later.
 */
export function checkLaunchTemplateData(data: unknown, shape: Shape = LAUNCH_TEMPLATE_DATA, path = 'data'): void {
  const fail = (expected: string) => {
    throw new Error(`launch template ${path} must be ${expected}, got ${JSON.stringify(data)}`);
  };
  if (shape instanceof ListShape) {
    if (!Array.isArray(data)) fail('an array');
    (data as unknown[]).forEach((item, i) => checkLaunchTemplateData(item, shape.of, `${path}[${i}]`));
  } else if (typeof shape === 'object') {
    if (!isObject(data)) fail('an object');
    for (const [name, member] of Object.entries(data as Record<string, unknown>)) {
      if (!Object.hasOwn(shape, name)) {
        throw new Error(`launch template ${path} has no field ${name} in the SDK's shape`);
      }
      checkLaunchTemplateData(member, shape[name], `${path}.${name}`);
    }
  } else if (shape === 'timestamp') {
    if (!types.isDate(data)) fail('a Date');
  } else if (typeof data !== shape) {
    fail(`a ${shape}`);
  }
}
