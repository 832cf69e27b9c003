import {
  CreateLaunchTemplateVersionCommand,
  type CreateLaunchTemplateVersionCommandInput,
  DescribeLaunchTemplatesCommand,
  type DescribeLaunchTemplatesCommandInput,
  DescribeLaunchTemplateVersionsCommand,
  type DescribeLaunchTemplateVersionsCommandInput,
  EC2Client,
  paginateDescribeLaunchTemplates,
  paginateDescribeLaunchTemplateVersions,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Sandbox, STATIC_CREDENTIALS } from '../../server.js';
import type { LaunchTemplate, LaunchTemplateData } from './ec2.js';

const BASE: LaunchTemplateData = {
  ImageId: 'ami-0123456789abcdef0',
  InstanceType: 't3.micro',
  UserData: Buffer.from('#!/bin/sh\necho hi\n').toString('base64'),
  IamInstanceProfile: { Name: 'nixos' },
  MetadataOptions: { HttpTokens: 'required', InstanceMetadataTags: 'enabled', HttpPutResponseHopLimit: 2 },
  TagSpecifications: [
    {
      ResourceType: 'instance',
      Tags: [
        { Key: 'Name', Value: 'web' },
        { Key: 'Substituters', Value: 'https://cache.example.org' },
      ],
    },
  ],
};

/**
 * Every kind of member the table knows: nested structures, lists of scalars and of structures, numbers,
 * booleans, timestamps. Not NetworkInterfaces[].Groups: EC2 lists those as `<groupId>` elements, which
 * protocol/query.ts cannot emit yet (it writes every EC2 list item as `<item>`).
 */
const RICH: LaunchTemplateData = {
  ...BASE,
  EbsOptimized: true,
  KeyName: 'deploy',
  BlockDeviceMappings: [
    { DeviceName: '/dev/xvda', Ebs: { VolumeSize: 40, VolumeType: 'gp3', Encrypted: true, Throughput: 125 } },
    { DeviceName: '/dev/xvdb', NoDevice: '' },
  ],
  NetworkInterfaces: [
    {
      DeviceIndex: 0,
      AssociatePublicIpAddress: false,
      SubnetId: 'subnet-1',
      Ipv6Addresses: [{ Ipv6Address: '2001:db8::1' }],
      PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: '10.0.0.5' }],
      Ipv4Prefixes: [{ Ipv4Prefix: '10.0.1.0/28' }],
    },
  ],
  SecurityGroupIds: ['sg-1', 'sg-2'],
  Monitoring: { Enabled: true },
  InstanceMarketOptions: {
    MarketType: 'spot',
    SpotOptions: { MaxPrice: '0.05', ValidUntil: new Date('2030-01-01T00:00:00.000Z') },
  },
  InstanceRequirements: { VCpuCount: { Min: 2, Max: 8 }, MemoryMiB: { Min: 1024 }, MemoryGiBPerVCpu: { Min: 0.5 }, CpuManufacturers: ['amd'] },
  LicenseSpecifications: [{ LicenseConfigurationArn: 'arn:aws:license-manager:us-east-1:123456789012:x' }],
  PrivateDnsNameOptions: { HostnameType: 'resource-name', EnableResourceNameDnsARecord: true },
};

describe('EC2 launch templates over the SDK', () => {
  const sandbox = new Sandbox();
  let ec2: EC2Client;
  let web: LaunchTemplate;
  beforeAll(async () => {
    await sandbox.start();
    ec2 = new EC2Client({ region: 'us-east-1', endpoint: sandbox.url, credentials: STATIC_CREDENTIALS, maxAttempts: 1 });
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => {
    sandbox.reset();
    web = sandbox.ec2.createLaunchTemplate({ name: 'web', data: BASE, description: 'first', tags: { team: 'infra' } });
    sandbox.ec2.createLaunchTemplate({ name: 'web-canary', data: { ImageId: 'ami-2' }, tags: { team: 'canary' } });
    sandbox.ec2.createLaunchTemplate({ name: 'database', tags: { role: 'db' } });
  });

  const describeTemplates = (input: DescribeLaunchTemplatesCommandInput) =>
    ec2.send(new DescribeLaunchTemplatesCommand(input));
  const describeVersions = (input: DescribeLaunchTemplateVersionsCommandInput) =>
    ec2.send(new DescribeLaunchTemplateVersionsCommand(input));
  const createVersion = (input: Partial<CreateLaunchTemplateVersionCommandInput>) =>
    ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateData: { ImageId: 'ami-new' },
        ...input,
      } as CreateLaunchTemplateVersionCommandInput),
    );

  describe('DescribeLaunchTemplates', () => {
    it.each<[string, () => DescribeLaunchTemplatesCommandInput, string[]]>([
      ['everything', () => ({}), ['web', 'web-canary', 'database']],
      ['by ID', () => ({ LaunchTemplateIds: [web.id] }), ['web']],
      ['by name', () => ({ LaunchTemplateNames: ['database', 'web'] }), ['web', 'database']],
      ['by name filter with wildcards', () => ({ Filters: [{ Name: 'launch-template-name', Values: ['web*'] }] }), ['web', 'web-canary']],
      ['by tag', () => ({ Filters: [{ Name: 'tag:team', Values: ['infra', 'nobody'] }] }), ['web']],
      ['by tag key', () => ({ Filters: [{ Name: 'tag-key', Values: ['role'] }] }), ['database']],
      [
        'filters AND together',
        () => ({ Filters: [{ Name: 'tag-key', Values: ['team'] }, { Name: 'launch-template-name', Values: ['*canary'] }] }),
        ['web-canary'],
      ],
      ['filter matching nothing', () => ({ Filters: [{ Name: 'launch-template-name', Values: ['nope'] }] }), []],
    ])('%s', async (_case, input, names) => {
      const out = await describeTemplates(input());
      expect(out.LaunchTemplates?.map((t) => t.LaunchTemplateName)).toEqual(names);
    });

    it('answers in EC2 shape', async () => {
      const out = await describeTemplates({ LaunchTemplateNames: ['web'] });
      expect(out.LaunchTemplates).toEqual([
        {
          LaunchTemplateId: web.id,
          LaunchTemplateName: 'web',
          CreateTime: web.createTime,
          CreatedBy: 'arn:aws:iam::123456789012:user/sandbox',
          DefaultVersionNumber: 1,
          LatestVersionNumber: 1,
          Tags: [{ Key: 'team', Value: 'infra' }],
        },
      ]);
      expect(web.id).toMatch(/^lt-[0-9a-f]{17}$/);
    });

    it.each<[string, string, DescribeLaunchTemplatesCommandInput]>([
      ['unknown name', 'InvalidLaunchTemplateName.NotFoundException', { LaunchTemplateNames: ['web', 'missing'] }],
      ['unknown ID', 'InvalidLaunchTemplateId.NotFound', { LaunchTemplateIds: ['lt-0123456789abcdef0'] }],
      ['malformed ID', 'InvalidLaunchTemplateId.Malformed', { LaunchTemplateIds: ['web'] }],
      ['malformed name', 'InvalidLaunchTemplateName.MalformedException', { LaunchTemplateNames: ['a b'] }],
      ['unknown filter', 'InvalidParameterValue', { Filters: [{ Name: 'colour', Values: ['red'] }] }],
      ['MaxResults out of range', 'InvalidParameterValue', { MaxResults: 201 }],
      ['foreign NextToken', 'InvalidNextToken', { NextToken: 'bm90LW91cnM' }],
      ['DryRun', 'DryRunOperation', { DryRun: true }],
    ])('%s -> %s', async (_case, code, input) => {
      await expect(describeTemplates(input)).rejects.toMatchObject({ name: code });
    });

    it('pages with MaxResults and NextToken', async () => {
      for (let i = 0; i < 4; i++) sandbox.ec2.createLaunchTemplate({ name: `extra-${i}` });
      const pages = [];
      for await (const page of paginateDescribeLaunchTemplates({ client: ec2, pageSize: 3 }, {})) pages.push(page);
      expect(pages.map((p) => p.LaunchTemplates?.length)).toEqual([3, 3, 1]);
      expect(pages.flatMap((p) => p.LaunchTemplates?.map((t) => t.LaunchTemplateName))).toEqual([
        'web', 'web-canary', 'database', 'extra-0', 'extra-1', 'extra-2', 'extra-3',
      ]);
      expect(pages[2].NextToken).toBeUndefined();
    });
  });

  describe('DescribeLaunchTemplateVersions', () => {
    beforeEach(() => {
      for (const imageId of ['ami-v2', 'ami-v3', 'ami-v4']) {
        sandbox.ec2.operations.CreateLaunchTemplateVersion(
          { LaunchTemplateName: 'web', SourceVersion: '1', LaunchTemplateData: { ImageId: imageId } },
          { caller: 'AKIASANDBOXSTATIC01', requestId: 'seed', sandbox },
        );
      }
    });

    it.each<[string, Omit<DescribeLaunchTemplateVersionsCommandInput, 'LaunchTemplateName'>, number[]]>([
      ['all, newest first', {}, [4, 3, 2, 1]],
      ['$Latest', { Versions: ['$Latest'] }, [4]],
      ['$Default', { Versions: ['$Default'] }, [1]],
      ['numbers and aliases, once each', { Versions: ['2', '$Latest', '4'] }, [4, 2]],
      ['a range', { MinVersion: '2', MaxVersion: '3' }, [3, 2]],
      ['from a version on', { MinVersion: '3' }, [4, 3]],
      ['filtered by image', { Filters: [{ Name: 'image-id', Values: ['ami-v2', 'ami-v4'] }] }, [4, 2]],
      ['filtered by default-ness', { Filters: [{ Name: 'is-default-version', Values: ['true'] }] }, [1]],
    ])('%s', async (_case, input, numbers) => {
      const out = await describeVersions({ LaunchTemplateName: 'web', ...input });
      expect(out.LaunchTemplateVersions?.map((v) => v.VersionNumber)).toEqual(numbers);
    });

    it("describes every template's $Latest when no template is named", async () => {
      const out = await describeVersions({ Versions: ['$Latest'] });
      expect(out.LaunchTemplateVersions?.map((v) => [v.LaunchTemplateName, v.VersionNumber])).toEqual([
        ['web', 4],
        ['web-canary', 1],
        ['database', 1],
      ]);
    });

    it('answers each version with its data under the SDK names', async () => {
      const out = await describeVersions({ LaunchTemplateId: web.id, Versions: ['1', '2'] });
      expect(out.LaunchTemplateVersions).toEqual([
        {
          LaunchTemplateId: web.id,
          LaunchTemplateName: 'web',
          VersionNumber: 2,
          CreateTime: expect.any(Date),
          CreatedBy: 'arn:aws:iam::123456789012:user/sandbox',
          DefaultVersion: false,
          LaunchTemplateData: { ...BASE, ImageId: 'ami-v2' },
        },
        {
          LaunchTemplateId: web.id,
          LaunchTemplateName: 'web',
          VersionNumber: 1,
          VersionDescription: 'first',
          CreateTime: web.createTime,
          CreatedBy: 'arn:aws:iam::123456789012:user/sandbox',
          DefaultVersion: true,
          LaunchTemplateData: BASE,
        },
      ]);
    });

    it('serialises every kind of launch template member as the SDK parses it', async () => {
      const rich = sandbox.ec2.createLaunchTemplate({ name: 'rich', data: RICH });
      const out = await describeVersions({ LaunchTemplateId: rich.id });
      expect(out.LaunchTemplateVersions?.[0].LaunchTemplateData).toEqual(RICH);
    });

    it.each<[string, string, DescribeLaunchTemplateVersionsCommandInput]>([
      ['a missing version', 'InvalidLaunchTemplateId.VersionNotFound', { LaunchTemplateName: 'web', Versions: ['9'] }],
      ['a version that is no version', 'InvalidLaunchTemplateId.VersionNotFound', { LaunchTemplateName: 'web', Versions: ['latest'] }],
      ['an unknown name', 'InvalidLaunchTemplateName.NotFoundException', { LaunchTemplateName: 'nope' }],
      ['an unknown ID', 'InvalidLaunchTemplateId.NotFound', { LaunchTemplateId: 'lt-0123456789abcdef0' }],
      ['a malformed ID', 'InvalidLaunchTemplateId.Malformed', { LaunchTemplateId: 'lt-xyz' }],
      ['both ID and name', 'InvalidParameterCombination', { LaunchTemplateName: 'web', LaunchTemplateId: 'lt-0123456789abcdef0' }],
      ['numbers without a template', 'MissingParameter', { Versions: ['1'] }],
      ['a non-numeric MinVersion', 'InvalidParameterValue', { LaunchTemplateName: 'web', MinVersion: 'two' }],
      ['an unknown filter', 'InvalidParameterValue', { LaunchTemplateName: 'web', Filters: [{ Name: 'colour', Values: ['x'] }] }],
      ['DryRun', 'DryRunOperation', { LaunchTemplateName: 'web', DryRun: true }],
    ])('%s -> %s', async (_case, code, input) => {
      await expect(describeVersions(input)).rejects.toMatchObject({ name: code });
    });

    it('pages with MaxResults and NextToken', async () => {
      const pages = [];
      const paginator = paginateDescribeLaunchTemplateVersions({ client: ec2, pageSize: 3 }, { LaunchTemplateName: 'web' });
      for await (const page of paginator) pages.push(page.LaunchTemplateVersions?.map((v) => v.VersionNumber));
      expect(pages).toEqual([[4, 3, 2], [1]]);
    });
  });

  describe('CreateLaunchTemplateVersion', () => {
    const tags = (...pairs: [string, string][]) => [
      { ResourceType: 'instance' as const, Tags: pairs.map(([Key, Value]) => ({ Key, Value })) },
    ];

    it.each<[string, Partial<CreateLaunchTemplateVersionCommandInput>, LaunchTemplateData]>([
      ['without a source version, only what was given', { LaunchTemplateData: { ImageId: 'ami-new' } }, { ImageId: 'ami-new' }],
      [
        'copies the source version and replaces the members given',
        { SourceVersion: '1', LaunchTemplateData: { ImageId: 'ami-new' } },
        { ...BASE, ImageId: 'ami-new' },
      ],
      [
        'replaces the whole TagSpecifications list: no merge',
        { SourceVersion: '1', LaunchTemplateData: { TagSpecifications: tags(['StorePath', '/nix/store/abc-system']) } },
        { ...BASE, TagSpecifications: tags(['StorePath', '/nix/store/abc-system']) },
      ],
      [
        'replaces a whole structure member: no deep merge',
        { SourceVersion: '1', LaunchTemplateData: { MetadataOptions: { HttpTokens: 'optional' } } },
        { ...BASE, MetadataOptions: { HttpTokens: 'optional' } },
      ],
      ['takes $Latest as the source', { SourceVersion: '$Latest', LaunchTemplateData: { KeyName: 'k' } }, { ...BASE, KeyName: 'k' }],
    ])('%s', async (_case, input, expected) => {
      const out = await createVersion({ LaunchTemplateName: 'web', VersionDescription: 'v2', ...input });
      expect(out.LaunchTemplateVersion).toEqual({
        LaunchTemplateId: web.id,
        LaunchTemplateName: 'web',
        VersionNumber: 2,
        VersionDescription: 'v2',
        CreateTime: expect.any(Date),
        CreatedBy: 'arn:aws:iam::123456789012:user/sandbox',
        DefaultVersion: false,
        LaunchTemplateData: expected,
      });
      expect(out.Warning).toBeUndefined();
      expect(sandbox.ec2.resolveVersion({ LaunchTemplateId: web.id, Version: '2' }).version.data).toEqual(expected);
      expect(web).toMatchObject({ latestVersion: 2, defaultVersion: 1 });
    });

    it('decodes every kind of member the SDK sends', async () => {
      const out = await createVersion({ LaunchTemplateId: web.id, LaunchTemplateData: RICH });
      expect(out.LaunchTemplateVersion?.LaunchTemplateData).toEqual(RICH);
      expect(sandbox.ec2.resolveVersion({ LaunchTemplateName: 'web', Version: '$Latest' }).version.data).toEqual(RICH);
    });

    it('records the assumed role that created the version', async () => {
      const credentials = sandbox.sts.issue('arn:aws:sts::123456789012:assumed-role/deploy/ci', 'AROAEXAMPLE:ci', 900);
      const asRole = new EC2Client({ region: 'us-east-1', endpoint: sandbox.url, credentials, maxAttempts: 1 });
      const out = await asRole.send(
        new CreateLaunchTemplateVersionCommand({ LaunchTemplateName: 'web', LaunchTemplateData: { ImageId: 'ami-x' } }),
      );
      expect(out.LaunchTemplateVersion?.CreatedBy).toBe('arn:aws:sts::123456789012:assumed-role/deploy/ci');
    });

    it.each<[string, string, Partial<CreateLaunchTemplateVersionCommandInput>]>([
      ['no launch template data', 'MissingParameter', { LaunchTemplateName: 'web', LaunchTemplateData: undefined }],
      ['neither ID nor name', 'MissingParameter', {}],
      ['an unknown name', 'InvalidLaunchTemplateName.NotFoundException', { LaunchTemplateName: 'nope' }],
      ['an unknown ID', 'InvalidLaunchTemplateId.NotFound', { LaunchTemplateId: 'lt-0123456789abcdef0' }],
      ['a malformed ID', 'InvalidLaunchTemplateId.Malformed', { LaunchTemplateId: 'web' }],
      ['a missing source version', 'InvalidLaunchTemplateId.VersionNotFound', { LaunchTemplateName: 'web', SourceVersion: '7' }],
      ['a description over 255 characters', 'InvalidParameterValue', { LaunchTemplateName: 'web', VersionDescription: 'x'.repeat(256) }],
      ['a client token over 128 characters', 'InvalidParameterValue', { LaunchTemplateName: 'web', ClientToken: 'x'.repeat(129) }],
      ['DryRun', 'DryRunOperation', { LaunchTemplateName: 'web', DryRun: true }],
    ])('%s -> %s, and no version', async (_case, code, input) => {
      await expect(createVersion(input)).rejects.toMatchObject({ name: code });
      expect(web.versions).toHaveLength(1);
    });

    it(`refuses the 10,001st version`, async () => {
      const [first] = web.versions;
      while (web.versions.length < 10_000) web.versions.push({ ...first, number: web.versions.length + 1 });
      web.latestVersion = 10_000;
      await expect(createVersion({ LaunchTemplateName: 'web' })).rejects.toMatchObject({
        name: 'MaxTemplateVersionLimitExceeded',
      });
      expect(web.versions).toHaveLength(10_000);
    });

    describe('ClientToken', () => {
      const request = { LaunchTemplateName: 'web', SourceVersion: '1', LaunchTemplateData: { ImageId: 'ami-new' } };

      it('answers a repeated request with the version it created, and creates no other', async () => {
        const first = await createVersion({ ...request, ClientToken: 'deploy-1' });
        const again = await createVersion({ ...request, ClientToken: 'deploy-1' });
        expect(again.LaunchTemplateVersion).toEqual(first.LaunchTemplateVersion);
        expect(web.versions.map((v) => v.number)).toEqual([1, 2]);
      });

      it.each<[string, Partial<CreateLaunchTemplateVersionCommandInput>]>([
        ['different data', { LaunchTemplateData: { ImageId: 'ami-other' } }],
        ['a different source version', { SourceVersion: '$Latest' }],
        ['a different description', { VersionDescription: 'changed' }],
      ])('refuses the same token with %s', async (_case, change) => {
        await createVersion({ ...request, ClientToken: 'deploy-1' });
        await expect(createVersion({ ...request, ...change, ClientToken: 'deploy-1' })).rejects.toMatchObject({
          name: 'IdempotentParameterMismatch',
        });
        expect(web.versions.map((v) => v.number)).toEqual([1, 2]);
      });

      it('creates a version per distinct token', async () => {
        await createVersion({ ...request, ClientToken: 'deploy-1' });
        await createVersion({ ...request, ClientToken: 'deploy-2' });
        expect(web.versions.map((v) => v.number)).toEqual([1, 2, 3]);
      });
    });
  });

  describe('UserData: base64 text of at most 16,384 raw bytes', () => {
    const base64Of = (bytes: number) => Buffer.alloc(bytes, 'x').toString('base64');
    const tooBig = /User data is limited to 16384 bytes\./;
    const notBase64 = /Invalid BASE64 encoding of user data\./;

    it.each<[string, string, RegExp | undefined]>([
      ['exactly 16,384 bytes', base64Of(16_384), undefined],
      ['16,384 bytes of base64 text (about 12 KB raw)', base64Of(12_288), undefined],
      ['empty', '', undefined],
      ['16,385 bytes', base64Of(16_385), tooBig],
      ['16,384 bytes sent raw as a script would be, not base64', `#!/bin/sh\n${'x'.repeat(16_373)}`, notBase64],
      ['21,848 characters of base64 (16,386 bytes)', base64Of(16_386), tooBig],
      ['padding in the middle', 'aGk=aGk=', notBase64],
    ])('CreateLaunchTemplateVersion with %s', async (_case, userData, refusal) => {
      const request = createVersion({ LaunchTemplateName: 'web', LaunchTemplateData: { UserData: userData } });
      if (refusal === undefined) {
        await expect(request).resolves.toMatchObject({ LaunchTemplateVersion: { LaunchTemplateData: { UserData: userData } } });
        expect(web.versions).toHaveLength(2);
      } else {
        await expect(request).rejects.toMatchObject({ name: 'InvalidUserData.Malformed', message: expect.stringMatching(refusal) });
        expect(web.versions).toHaveLength(1);
      }
    });

    it.each<[string, number, RegExp | undefined]>([
      ['16,384 bytes', 16_384, undefined],
      ['16,385 bytes', 16_385, tooBig],
    ])('seeding a template with %s', (_case, bytes, refusal) => {
      const seed = () => sandbox.ec2.createLaunchTemplate({ name: 'big', data: { UserData: base64Of(bytes) } });
      if (refusal === undefined) expect(seed().versions).toHaveLength(1);
      else expect(seed).toThrow(expect.objectContaining({ code: 'InvalidUserData.Malformed', message: expect.stringMatching(refusal) }));
    });
  });

  describe('the wire form of LaunchTemplateData', () => {
    /** Requests no SDK would build: sent by hand to see EC2's validation answers. */
    const post = async (body: Record<string, string>) => {
      const res = await fetch(sandbox.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ Action: 'CreateLaunchTemplateVersion', Version: '2016-11-15', LaunchTemplateName: 'web', ...body }),
      });
      return { status: res.status, code: /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1] };
    };

    it.each<[string, Record<string, string>, number, string | undefined]>([
      ['an unknown member', { 'LaunchTemplateData.Colour': 'red' }, 400, 'UnknownParameter'],
      [
        'an SDK member name instead of the query name',
        { 'LaunchTemplateData.TagSpecifications.1.ResourceType': 'instance' },
        400,
        'UnknownParameter',
      ],
      ['a boolean that is not one', { 'LaunchTemplateData.EbsOptimized': 'yes' }, 400, 'InvalidParameterValue'],
      ['a number that is not one', { 'LaunchTemplateData.MetadataOptions.HttpPutResponseHopLimit': 'two' }, 400, 'InvalidParameterValue'],
      ['a scalar where a structure belongs', { 'LaunchTemplateData.MetadataOptions': 'required' }, 400, 'InvalidParameterValue'],
      [
        'the query names',
        { 'LaunchTemplateData.TagSpecification.1.Tag.1.Key': 'k', 'LaunchTemplateData.TagSpecification.1.Tag.1.Value': 'v' },
        200,
        undefined,
      ],
    ])('%s', async (_case, body, status, code) => {
      expect(await post(body)).toEqual({ status, code });
    });
  });

  describe('seeding and resolution for other services', () => {
    it.each<[string, { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string }, number]>([
      ['$Default when no version is given', { LaunchTemplateName: 'web' }, 1],
      ['$Latest', { LaunchTemplateName: 'web', Version: '$Latest' }, 2],
      ['a number, by ID', { LaunchTemplateId: 'ID', Version: '2' }, 2],
    ])('resolves %s', (_case, ref, number) => {
      sandbox.ec2.operations.CreateLaunchTemplateVersion(
        { LaunchTemplateName: 'web', LaunchTemplateData: { ImageId: 'ami-2' } },
        { caller: 'test', requestId: 'seed', sandbox },
      );
      const resolved = sandbox.ec2.resolveVersion({ ...ref, LaunchTemplateId: ref.LaunchTemplateId && web.id });
      expect(resolved.template).toBe(web);
      expect(resolved.version.number).toBe(number);
    });

    it.each<[string, string, { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string }]>([
      ['an unknown name', 'InvalidLaunchTemplateName.NotFoundException', { LaunchTemplateName: 'nope' }],
      ['an unknown ID', 'InvalidLaunchTemplateId.NotFound', { LaunchTemplateId: 'lt-0123456789abcdef0' }],
      ['a missing version', 'InvalidLaunchTemplateId.VersionNotFound', { LaunchTemplateName: 'web', Version: '5' }],
    ])('%s -> %s', (_case, code, ref) => {
      expect(() => sandbox.ec2.resolveVersion(ref)).toThrow(expect.objectContaining({ code }));
    });

    it.each<[string, Parameters<Sandbox['ec2']['createLaunchTemplate']>[0], RegExp]>([
      ['a name in use', { name: 'web' }, /already in use/],
      ['a malformed name', { name: 'x' }, /between 3 and 128/],
      ['a field the SDK does not have', { name: 'typo', data: { TagSpecification: [] } }, /no field TagSpecification/],
      ['a field of the wrong type', { name: 'typo', data: { MetadataOptions: { HttpPutResponseHopLimit: '2' } } }, /must be a number/],
    ])('refuses to seed %s', (_case, input, message) => {
      expect(() => sandbox.ec2.createLaunchTemplate(input)).toThrow(message);
    });

    it('finds a template by name', () => {
      expect(sandbox.ec2.templateByName('web')).toBe(web);
      expect(sandbox.ec2.templateByName('nope')).toBeUndefined();
    });
  });
});
