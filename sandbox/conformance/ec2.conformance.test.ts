import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Sandbox } from '../server.js';
import type { LaunchTemplate } from '../services/ec2/ec2.js';
import { awsCli, expectAllOperationsCovered } from './aws-cli.js';

/** What the CLI prints for a failed call: `An error occurred (<Code>) when calling the <Op> operation: ...`. */
const errorCode = (stderr: string) => /An error occurred \(([^)]+)\)/.exec(stderr)?.[1];

/** The CLI prints timestamps with microseconds and `+00:00`; compare the instants. */
const cliTime = (text: string) => new Date(text).toISOString();

const NETWORK = { DeviceIndex: 0, SubnetId: 'subnet-1', Ipv6Addresses: [{ Ipv6Address: '2001:db8::1' }] };

describe('EC2 launch templates through the AWS CLI', () => {
  const sandbox = new Sandbox();
  const seen = new Set<string>();
  let web: LaunchTemplate;
  beforeAll(() => sandbox.start());
  afterAll(() => sandbox.stop());
  beforeEach(() => {
    record();
    sandbox.reset();
    web = sandbox.ec2.createLaunchTemplate({
      name: 'web',
      description: 'first',
      tags: { team: 'infra' },
      data: {
        ImageId: 'ami-1',
        InstanceType: 't3.micro',
        UserData: 'IyEvYmluL3NoCg==',
        IamInstanceProfile: { Arn: 'arn:aws:iam::123456789012:instance-profile/nixos' },
        MetadataOptions: { HttpTokens: 'required', InstanceMetadataTags: 'enabled', HttpPutResponseHopLimit: 2 },
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 40, Encrypted: true } }],
        NetworkInterfaces: [NETWORK],
        SecurityGroupIds: ['sg-1', 'sg-2'],
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web' }, { Key: 'Substituters', Value: 'https://c' }] },
          { ResourceType: 'volume', Tags: [{ Key: 'Name', Value: 'web-root' }] },
        ],
      },
    });
    sandbox.ec2.createLaunchTemplate({ name: 'database' });
  });
  /** Successful calls count as covered; the log is read before each reset. */
  const record = () => sandbox.calls.all().forEach((c) => c.status === 200 && seen.add(c.operation));

  it('describe-launch-templates by name, with tags', async () => {
    const result = await awsCli(sandbox, ['ec2', 'describe-launch-templates', '--launch-template-names', 'web']);
    expect(result).toMatchObject({ code: 0 });
    expect(cliTime(result.json.LaunchTemplates[0].CreateTime)).toBe(web.createTime.toISOString());
    expect(result.json).toEqual({
      LaunchTemplates: [
        {
          LaunchTemplateId: web.id,
          LaunchTemplateName: 'web',
          CreateTime: expect.any(String),
          CreatedBy: 'arn:aws:iam::123456789012:user/sandbox',
          DefaultVersionNumber: 1,
          LatestVersionNumber: 1,
          Tags: [{ Key: 'team', Value: 'infra' }],
        },
      ],
    });
  });

  it.each([
    ['a filter', ['--filters', 'Name=launch-template-name,Values=data*'], ['database']],
    ['a tag filter', ['--filters', 'Name=tag:team,Values=infra'], ['web']],
  ])('describe-launch-templates with %s', async (_case, args, names) => {
    const result = await awsCli(sandbox, ['ec2', 'describe-launch-templates', ...args]);
    expect(result.code).toBe(0);
    expect(result.json.LaunchTemplates.map((t: { LaunchTemplateName: string }) => t.LaunchTemplateName)).toEqual(names);
  });

  it('describe-launch-templates pages with --page-size', async () => {
    const result = await awsCli(sandbox, ['ec2', 'describe-launch-templates', '--page-size', '1']);
    expect(result.json.LaunchTemplates.map((t: { LaunchTemplateName: string }) => t.LaunchTemplateName)).toEqual([
      'web',
      'database',
    ]);
    expect(sandbox.calls.of('DescribeLaunchTemplates').map((c) => [c.params.MaxResults, c.params.NextToken !== undefined])).toEqual([
      ['1', false],
      ['1', true],
    ]);
  });

  it('describe-launch-template-versions answers the data under the CLI names', async () => {
    const result = await awsCli(sandbox, ['ec2', 'describe-launch-template-versions', '--launch-template-id', web.id]);
    expect(result.code).toBe(0);
    expect(cliTime(result.json.LaunchTemplateVersions[0].CreateTime)).toBe(web.createTime.toISOString());
    expect(result.json.LaunchTemplateVersions).toEqual([
      {
        LaunchTemplateId: web.id,
        LaunchTemplateName: 'web',
        VersionNumber: 1,
        VersionDescription: 'first',
        CreateTime: expect.any(String),
        CreatedBy: 'arn:aws:iam::123456789012:user/sandbox',
        DefaultVersion: true,
        LaunchTemplateData: web.versions[0].data,
      },
    ]);
  });

  it('create-launch-template-version copies the source and replaces the whole tag list', async () => {
    const data = {
      ImageId: 'ami-2',
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'StorePath', Value: '/nix/store/abc-nixos' }] }],
      MetadataOptions: { HttpTokens: 'required' },
    };
    const args = [
      'ec2', 'create-launch-template-version', '--launch-template-name', 'web', '--source-version', '1',
      '--version-description', 'deploy abc', '--client-token', 'run-42-attempt-1', '--launch-template-data', JSON.stringify(data),
    ];
    const result = await awsCli(sandbox, args);
    expect(result.code).toBe(0);
    const expected = { ...web.versions[0].data, ...data };
    expect(result.json).toEqual({
      LaunchTemplateVersion: {
        LaunchTemplateId: web.id,
        LaunchTemplateName: 'web',
        VersionNumber: 2,
        VersionDescription: 'deploy abc',
        CreateTime: expect.any(String),
        CreatedBy: 'arn:aws:iam::123456789012:user/sandbox',
        DefaultVersion: false,
        LaunchTemplateData: expected,
      },
    });
    expect(sandbox.ec2.resolveVersion({ LaunchTemplateName: 'web', Version: '2' }).version.data).toEqual(expected);

    const again = await awsCli(sandbox, args);
    expect(again.json).toEqual(result.json);
    expect(web.versions).toHaveLength(2);
  });

  it('create-launch-template-version decodes every field the CLI sends', async () => {
    const data = {
      EbsOptimized: true,
      NetworkInterfaces: [{ ...NETWORK, PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: '10.0.0.5' }] }],
      InstanceRequirements: { VCpuCount: { Min: 2, Max: 4 }, MemoryMiB: { Min: 1024 }, CpuManufacturers: ['amd'] },
      LicenseSpecifications: [{ LicenseConfigurationArn: 'arn:aws:license-manager:us-east-1:123456789012:x' }],
    };
    const result = await awsCli(sandbox, [
      'ec2', 'create-launch-template-version', '--launch-template-id', web.id, '--launch-template-data', JSON.stringify(data),
    ]);
    expect(result.code).toBe(0);
    expect(result.json.LaunchTemplateVersion.LaunchTemplateData).toEqual(data);
    expect(web.versions[1].data).toEqual(data);
  });

  it.each([
    ['$Latest', ['--versions', '$Latest'], [3]],
    ['numbers', ['--versions', '1', '2'], [2, 1]],
    ['a range', ['--min-version', '2', '--max-version', '3'], [3, 2]],
    ['pages of one', ['--page-size', '1'], [3, 2, 1]],
  ])('describe-launch-template-versions selects %s', async (_case, args, numbers) => {
    for (const imageId of ['ami-2', 'ami-3']) {
      sandbox.ec2.operations.CreateLaunchTemplateVersion(
        { LaunchTemplateName: 'web', LaunchTemplateData: { ImageId: imageId } },
        { caller: 'seed', requestId: 'seed', sandbox },
      );
    }
    const result = await awsCli(sandbox, ['ec2', 'describe-launch-template-versions', '--launch-template-name', 'web', ...args]);
    expect(result.code).toBe(0);
    expect(result.json.LaunchTemplateVersions.map((v: { VersionNumber: number }) => v.VersionNumber)).toEqual(numbers);
  });

  const createWeb = [
    ...['create-launch-template-version', '--launch-template-name', 'web'],
    ...['--launch-template-data', '{"ImageId":"ami-2"}'],
  ];
  const versionsOfWeb = ['describe-launch-template-versions', '--launch-template-name', 'web'];
  it.each([
    ['an unknown name', 'InvalidLaunchTemplateName.NotFoundException', ['describe-launch-templates', '--launch-template-names', 'nope']],
    ['an unknown ID', 'InvalidLaunchTemplateId.NotFound', ['describe-launch-templates', '--launch-template-ids', 'lt-0123456789abcdef0']],
    ['a malformed ID', 'InvalidLaunchTemplateId.Malformed', ['describe-launch-template-versions', '--launch-template-id', 'web']],
    ['a missing version', 'InvalidLaunchTemplateId.VersionNotFound', [...versionsOfWeb, '--versions', '4']],
    ['a missing source version', 'InvalidLaunchTemplateId.VersionNotFound', [...createWeb, '--source-version', '9']],
    ['a dry run', 'DryRunOperation', [...createWeb, '--dry-run']],
    [
      'user data over 16,384 bytes',
      'InvalidUserData.Malformed',
      ['create-launch-template-version', '--launch-template-name', 'web', '--launch-template-data',
        JSON.stringify({ UserData: Buffer.alloc(16_385, 'x').toString('base64') })],
    ],
    [
      'user data that is not base64',
      'InvalidUserData.Malformed',
      ['create-launch-template-version', '--launch-template-name', 'web', '--launch-template-data', '{"UserData":"#!/bin/sh"}'],
    ],
  ])('answers %s with %s', async (_case, code, args) => {
    const result = await awsCli(sandbox, ['ec2', ...args]);
    expect(result.code).not.toBe(0);
    expect(errorCode(result.stderr)).toBe(code);
  });

  it('refuses a reused client token with other parameters', async () => {
    const create = (imageId: string) =>
      awsCli(sandbox, ['ec2', 'create-launch-template-version', '--launch-template-name', 'web', '--client-token', 'same',
        '--launch-template-data', JSON.stringify({ ImageId: imageId })]);
    expect((await create('ami-2')).code).toBe(0);
    const reused = await create('ami-3');
    expect(errorCode(reused.stderr)).toBe('IdempotentParameterMismatch');
    expect(web.versions).toHaveLength(2);
  });

  it('covers every EC2 operation the sandbox implements', () => {
    record();
    // Snapshots and images: `ec2-images.conformance.test.ts` drives these.
    expectAllOperationsCovered(sandbox, 'ec2', seen, (operation) => !Object.hasOwn(sandbox.images.operations, operation));
  });
});
