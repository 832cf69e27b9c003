import { randomBytes } from 'node:crypto';
import { AwsError } from '../../errors.js';
import type { Violation } from '../../models/validate.js';
import type { Account, CallContext, Operation, Service } from '../../service.js';
import {
  checkLaunchTemplateData,
  checkUserData,
  cloneLaunchTemplateData,
  decodeLaunchTemplateData,
  encodeLaunchTemplateData,
  type LaunchTemplateData,
} from './launch-template-data.js';
import { malformedImageName } from './image-rules.js';

export type { LaunchTemplateData };


export interface LaunchTemplateVersion {
  number: number;
  description?: string;
  data: LaunchTemplateData;
  createTime: Date;
  createdBy: string;
  clientToken?: string;
}

export interface LaunchTemplate {
  id: string;
  name: string;
  defaultVersion: number;
  latestVersion: number;
  versions: LaunchTemplateVersion[];
  createTime: Date;
  createdBy: string;
  /** Tags on the template itself (versions cannot be tagged). */
  tags?: Record<string, string>;
}

/** EC2's quota of versions per launch template. */
const MAX_VERSIONS_PER_TEMPLATE = 10_000;
const TEMPLATE_ID = /^lt-[0-9a-f]{17}$/;
const TEMPLATE_NAME = /^[a-zA-Z0-9().\-/_]{3,128}$/;
const VERSION_REF = /^(\$Latest|\$Default|\d+)$/;
/** Tag keys instance metadata serves (and EC2 launches with when metadata tags are enabled). */
const IMDS_TAG_KEY = /^[0-9a-zA-Z\-_+=,.@:]{1,255}$/;
const IMDS_RESERVED_KEYS = ['.', '..', '_index'];

export interface Filter {
  Name?: string;
  Value?: string[];
}

/** What a ClientToken was first used for, so a retry gets the same answer and a reuse gets refused. */
interface IdempotentCall {
  request: string;
  templateId: string;
  versionNumber: number;
}

/** EC2 launch templates: the calls the actions make, and seeding for tests and the demo. */
export class Ec2Service implements Service {
  readonly name = 'ec2';
  readonly protocol = 'ec2' as const;
  readonly apiVersion = '2016-11-15';
  readonly xmlns = 'http://ec2.amazonaws.com/doc/2016-11-15/';
  readonly templates = new Map<string, LaunchTemplate>();
  private readonly clientTokens = new Map<string, IdempotentCall>();

  constructor(private readonly sandbox: Account) {}

  /** Adds operations served from other modules (snapshots and images, `images.ts`), which the server composes. */
  serve(operations: Record<string, Operation>): void {
    Object.assign(this.operations, operations);
  }

  /** EC2 answers a template name or a page size outside the model's limits with its own errors. */
  readonly refineValidation = (operation: string, violation: Violation): AwsError | undefined => {
    if (/(^|\.)launchTemplateNames?$/.test(violation.path)) return malformedTemplateName();
    if (/^(RegisterImage|CopyImage)$/.test(operation) && violation.path === 'name') return malformedImageName(violation.shown ?? '');
    if (violation.path === 'maxResults') return maxResultsError(violation.shown);
    return undefined;
  };

  /** Seeds a template with version 1 (tests and the demo; EC2's CreateLaunchTemplate is not served). */
  createLaunchTemplate(input: {
    name: string;
    data?: LaunchTemplateData;
    description?: string;
    tags?: Record<string, string>;
  }): LaunchTemplate {
    checkTemplateName(input.name);
    if (this.templateByName(input.name)) {
      throw new AwsError('InvalidLaunchTemplateName.AlreadyExistsException', 'Launch template name already in use.');
    }
    checkLaunchTemplateData(input.data ?? {});
    checkUserData(input.data ?? {});
    const data = cloneLaunchTemplateData(input.data ?? {});
    const createTime = this.sandbox.clock.now();
    const createdBy = this.arnOf(undefined);
    const template: LaunchTemplate = {
      id: `lt-${randomBytes(9).toString('hex').slice(0, 17)}`,
      name: input.name,
      defaultVersion: 1,
      latestVersion: 1,
      versions: [{ number: 1, description: input.description, data, createTime, createdBy }],
      createTime,
      createdBy,
      tags: input.tags && { ...input.tags },
    };
    this.templates.set(template.id, template);
    return template;
  }

  templateByName(name: string): LaunchTemplate | undefined {
    return [...this.templates.values()].find((t) => t.name === name);
  }

  /** Finds a template by ID or name (exactly one of them), with the errors EC2 answers when it does not exist. */
  findTemplate(ref: { LaunchTemplateId?: string; LaunchTemplateName?: string }): LaunchTemplate {
    const { LaunchTemplateId: id, LaunchTemplateName: name } = ref;
    if (id !== undefined && name !== undefined) {
      throw new AwsError(
        'InvalidParameterCombination',
        'Specify either the launch template ID or the launch template name, but not both.',
      );
    }
    if (id !== undefined) return this.templateById(id);
    if (name !== undefined) {
      checkTemplateName(name);
      const template = this.templateByName(name);
      if (!template) {
        throw new AwsError(
          'InvalidLaunchTemplateName.NotFoundException',
          `The specified launch template, with template name ${name}, does not exist.`,
        );
      }
      return template;
    }
    throw new AwsError(
      'MissingParameter',
      'The request must contain the parameter launchTemplateName or launchTemplateId',
    );
  }

  /**
   * Finds a template by ID or name and one of its versions (`$Latest`, `$Default` or a number; default
   * `$Default`). Throws the AwsError EC2 answers with when either does not exist.
   */
  resolveVersion(ref: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string }): {
    template: LaunchTemplate;
    version: LaunchTemplateVersion;
  } {
    const template = this.findTemplate(ref);
    return { template, version: this.versionOf(template, ref.Version ?? '$Default') };
  }

  /** One version of a template by `$Latest`, `$Default` or number. */
  versionOf(template: LaunchTemplate, ref: string): LaunchTemplateVersion {
    const number =
      ref === '$Latest' ? template.latestVersion : ref === '$Default' ? template.defaultVersion : Number(ref);
    const version = VERSION_REF.test(ref) ? template.versions.find((v) => v.number === number) : undefined;
    if (!version) {
      throw new AwsError(
        'InvalidLaunchTemplateId.VersionNotFound',
        `Could not find the specified version ${ref} for the launch template with ID ${template.id}.`,
      );
    }
    return version;
  }

  private templateById(id: string): LaunchTemplate {
    checkTemplateId(id);
    const template = this.templates.get(id);
    if (!template) {
      throw new AwsError(
        'InvalidLaunchTemplateId.NotFound',
        `The specified launch template, with template ID ${id}, does not exist.`,
      );
    }
    return template;
  }

  /**
   * Why RunInstances would refuse to launch from `data` with `extraTags` added to its instance tags (Auto Scaling's
   * tags propagated at launch, which win over the template's), as EC2 answers it; `undefined` when it would launch.
   * Modelled: with `MetadataOptions.InstanceMetadataTags = enabled`, every instance tag key must be servable by
   * instance metadata (EC2 user guide, "View tags for your EC2 instances using instance metadata").
   */
  launchError(data: LaunchTemplateData, extraTags: Record<string, string> = {}): string | undefined {
    const { MetadataOptions: options, TagSpecifications: specs } = data as {
      MetadataOptions?: { InstanceMetadataTags?: string };
      TagSpecifications?: Array<{ ResourceType?: string; Tags?: Array<{ Key?: string }> }>;
    };
    if (options?.InstanceMetadataTags !== 'enabled') return undefined;
    const keys = [
      ...(specs ?? []).filter((spec) => spec.ResourceType === 'instance').flatMap((spec) => (spec.Tags ?? []).map((tag) => tag.Key ?? '')),
      ...Object.keys(extraTags),
    ];
    const bad = keys.find((key) => !IMDS_TAG_KEY.test(key) || IMDS_RESERVED_KEYS.includes(key));
    if (bad === undefined) return undefined;
    return (
      `InvalidParameterValue: '${bad}' is not a valid tag key. Tag keys must match pattern ` +
      "([0-9a-zA-Z\\-_+=,.@:]{1,255}), and must not be a reserved name ('.', '..', '_index')"
    );
  }

  /**
   * The version an earlier CreateLaunchTemplateVersion with this ClientToken made, as EC2 answers a retry;
   * undefined for a new token. Throws IdempotentParameterMismatch when the token came with other parameters.
   */
  private replay(token: string, fingerprint: string): Record<string, unknown> | undefined {
    const earlier = this.clientTokens.get(token);
    if (!earlier) return undefined;
    if (earlier.request !== fingerprint) {
      throw new AwsError(
        'IdempotentParameterMismatch',
        'The client token you have provided is associated with a request that has different parameters.',
      );
    }
    const original = this.templates.get(earlier.templateId)!;
    return versionXml(original, original.versions.find((v) => v.number === earlier.versionNumber)!);
  }

  /** The ARN EC2 records as `createdBy`: the caller's, as STS would report it. */
  private arnOf(call: CallContext | undefined): string {
    if (call?.caller.startsWith('arn:')) return call.caller;
    return `arn:aws:iam::${this.sandbox.accountId}:user/sandbox`;
  }

  readonly operations: Record<string, Operation> = {
    DescribeLaunchTemplates: (params: {
      LaunchTemplateId?: string[] | string;
      LaunchTemplateName?: string[] | string;
      Filter?: Filter[] | Filter;
      MaxResults?: string;
      NextToken?: string;
      DryRun?: string;
    }) => {
      const ids = asList(params.LaunchTemplateId);
      const names = asList(params.LaunchTemplateName);
      ids.forEach(checkTemplateId);
      const maxResults = params.MaxResults === undefined ? undefined : Number(params.MaxResults);
      const filters = asList(params.Filter);
      filters.forEach((f) => checkFilterName(f, TEMPLATE_FILTERS));
      dryRun(params.DryRun);
      if (ids.some((id) => !this.templates.has(id))) {
        throw new AwsError(
          'InvalidLaunchTemplateId.NotFound',
          'At least one of the launch templates specified in the request does not exist.',
        );
      }
      if (names.some((name) => !this.templateByName(name))) {
        throw new AwsError(
          'InvalidLaunchTemplateName.NotFoundException',
          'At least one of the launch templates specified in the request does not exist.',
        );
      }
      const matching = [...this.templates.values()].filter(
        (t) =>
          (ids.length === 0 || ids.includes(t.id)) &&
          (names.length === 0 || names.includes(t.name)) &&
          filters.every((f) => matchesFilter(f, templateFilterValues(t, f.Name ?? ''))),
      );
      const page = paginate(matching, maxResults, params.NextToken);
      return {
        launchTemplates: page.items.map((t) => ({
          launchTemplateId: t.id,
          launchTemplateName: t.name,
          createTime: t.createTime,
          createdBy: t.createdBy,
          defaultVersionNumber: t.defaultVersion,
          latestVersionNumber: t.latestVersion,
          tagSet: tagSet(t.tags),
        })),
        nextToken: page.nextToken,
      };
    },

    DescribeLaunchTemplateVersions: (params: {
      LaunchTemplateId?: string;
      LaunchTemplateName?: string;
      LaunchTemplateVersion?: string[] | string;
      MinVersion?: string;
      MaxVersion?: string;
      Filter?: Filter[] | Filter;
      MaxResults?: string;
      NextToken?: string;
      DryRun?: string;
    }) => {
      const refs = asList(params.LaunchTemplateVersion);
      const maxResults = params.MaxResults === undefined ? undefined : Number(params.MaxResults);
      const min = parseVersionBound('MinVersion', params.MinVersion);
      const max = parseVersionBound('MaxVersion', params.MaxVersion);
      const filters = asList(params.Filter);
      filters.forEach((f) => checkFilterName(f, VERSION_FILTERS));
      let found: { template: LaunchTemplate; version: LaunchTemplateVersion }[];
      if (params.LaunchTemplateId === undefined && params.LaunchTemplateName === undefined) {
        // Without a template EC2 describes the latest and/or default version of every template in the account.
        if (refs.length === 0 || refs.some((r) => r !== '$Latest' && r !== '$Default')) {
          throw new AwsError(
            'MissingParameter',
            'The request must contain the parameter launchTemplateName or launchTemplateId, ' +
              'unless it describes only the $Latest or $Default versions of all launch templates.',
          );
        }
        dryRun(params.DryRun);
        found = [...this.templates.values()].flatMap((template) =>
          unique(refs.map((r) => this.versionOf(template, r))).map((version) => ({ template, version })),
        );
      } else {
        const template = this.findTemplate(params);
        const versions = refs.length > 0 ? refs.map((r) => this.versionOf(template, r)) : template.versions;
        dryRun(params.DryRun);
        found = unique(versions)
          .sort((a, b) => b.number - a.number)
          .map((version) => ({ template, version }));
      }
      const matching = found.filter(
        ({ template, version }) =>
          (min === undefined || version.number >= min) &&
          (max === undefined || version.number <= max) &&
          filters.every((f) => matchesFilter(f, versionFilterValues(template, version, f.Name ?? ''))),
      );
      const page = paginate(matching, maxResults, params.NextToken);
      return {
        launchTemplateVersionSet: page.items.map(({ template, version }) => versionXml(template, version)),
        nextToken: page.nextToken,
      };
    },

    CreateLaunchTemplateVersion: (
      params: {
        LaunchTemplateId?: string;
        LaunchTemplateName?: string;
        SourceVersion?: string;
        VersionDescription?: string;
        LaunchTemplateData?: unknown;
        ClientToken?: string;
        DryRun?: string;
      },
      call: CallContext,
    ) => {
      const requested = decodeLaunchTemplateData(params.LaunchTemplateData);
      checkUserData(requested);
      const template = this.findTemplate(params);
      const source =
        params.SourceVersion === undefined ? undefined : this.versionOf(template, params.SourceVersion);
      dryRun(params.DryRun);

      const token = params.ClientToken;
      const fingerprint = canonicalJson({ ...params, ClientToken: undefined, DryRun: undefined });
      const replayed = token === undefined ? undefined : this.replay(token, fingerprint);
      if (replayed) return { launchTemplateVersion: replayed };
      if (template.versions.length >= MAX_VERSIONS_PER_TEMPLATE) {
        throw new AwsError(
          'MaxTemplateVersionLimitExceeded',
          `You've reached the limit of ${MAX_VERSIONS_PER_TEMPLATE} versions for launch template ${template.id}.`,
        );
      }
      // A member given in the request replaces the source's whole member: lists such as TagSpecifications
      // are not merged, which is why callers must merge tags themselves.
      const data = { ...cloneLaunchTemplateData(source?.data ?? {}), ...requested };
      const version: LaunchTemplateVersion = {
        number: template.latestVersion + 1,
        description: params.VersionDescription,
        data,
        createTime: this.sandbox.clock.now(),
        createdBy: this.arnOf(call),
        clientToken: token,
      };
      template.versions.push(version);
      template.latestVersion = version.number;
      if (token !== undefined) {
        this.clientTokens.set(token, { request: fingerprint, templateId: template.id, versionNumber: version.number });
      }
      return { launchTemplateVersion: versionXml(template, version) };
    },
  };
}

function versionXml(template: LaunchTemplate, version: LaunchTemplateVersion): Record<string, unknown> {
  return {
    launchTemplateId: template.id,
    launchTemplateName: template.name,
    versionNumber: version.number,
    versionDescription: version.description,
    createTime: version.createTime,
    createdBy: version.createdBy,
    defaultVersion: version.number === template.defaultVersion,
    launchTemplateData: encodeLaunchTemplateData(version.data),
  };
}

function checkTemplateId(id: string): void {
  if (!TEMPLATE_ID.test(id)) {
    throw new AwsError(
      'InvalidLaunchTemplateId.Malformed',
      `The specified ID for the launch template, ${id}, is malformed.`,
    );
  }
}

const malformedTemplateName = (): AwsError =>
  new AwsError(
    'InvalidLaunchTemplateName.MalformedException',
    'A launch template name must be between 3 and 128 characters, and may contain letters, numbers, ' +
      'and the following characters: - ( ) . / _.',
  );

/** For seeding, which no request validates. */
function checkTemplateName(name: string): void {
  if (!TEMPLATE_NAME.test(name)) throw malformedTemplateName();
}

export function dryRun(flag: string | undefined): void {
  if (flag === 'true') {
    throw new AwsError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
  }
}

const unique = <T>(items: T[]): T[] => [...new Set(items)];

/** A list parameter sent without an index (`LaunchTemplateName=web`) arrives as a single value. */
export const asList = <T>(value: T[] | T | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** JSON with sorted keys, so two requests with the same parameters compare equal whatever their order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

const maxResultsError = (value: unknown): AwsError =>
  new AwsError('InvalidParameterValue', `Value ( ${String(value)} ) for parameter maxResults is invalid. Parameter must be between 1 and 200.`);

function parseVersionBound(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    throw new AwsError('InvalidParameterValue', `Value (${value}) for parameter ${name} is invalid.`);
  }
  return Number(value);
}

/**
 * Pages through `items`. The token carries the offset in a recognisable form, so a token that was not issued
 * here is refused as EC2 refuses one, instead of silently restarting the listing.
 */
export function paginate<T>(items: T[], maxResults: number | undefined, nextToken: string | undefined) {
  let start = 0;
  if (nextToken !== undefined) {
    const match = /^(\d+)\.sandbox$/.exec(Buffer.from(nextToken, 'base64url').toString('utf8'));
    if (!match) throw new AwsError('InvalidNextToken', 'The specified NextToken is not valid.');
    start = Number(match[1]);
  }
  const end = maxResults === undefined ? items.length : start + maxResults;
  return {
    items: items.slice(start, end),
    nextToken: end < items.length ? Buffer.from(`${end}.sandbox`).toString('base64url') : undefined,
  };
}

const TEMPLATE_FILTERS = ['create-time', 'launch-template-name', 'tag-key', /^tag:.+/];
const VERSION_FILTERS = [
  'create-time',
  'image-id',
  'instance-type',
  'is-default-version',
  'http-tokens',
  'instance-metadata-tags',
];

export function checkFilterName(filter: Filter, known: (string | RegExp)[]): void {
  const name = filter.Name ?? '';
  if (!known.some((k) => (typeof k === 'string' ? k === name : k.test(name)))) {
    throw new AwsError('InvalidParameterValue', `The filter '${name}' is invalid`);
  }
}

/** EC2 filter values match any of the resource's values, with `*` and `?` as wildcards. */
export function matchesFilter(filter: Filter, actual: string[]): boolean {
  const patterns = (filter.Value ?? []).map(
    (v) => new RegExp(`^${v.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's'),
  );
  return actual.some((a) => patterns.some((p) => p.test(a)));
}

function templateFilterValues(template: LaunchTemplate, name: string): string[] {
  const tags = template.tags ?? {};
  if (name === 'create-time') return [template.createTime.toISOString()];
  if (name === 'launch-template-name') return [template.name];
  if (name === 'tag-key') return Object.keys(tags);
  const key = name.slice('tag:'.length);
  return Object.hasOwn(tags, key) ? [tags[key]] : [];
}

function versionFilterValues(template: LaunchTemplate, version: LaunchTemplateVersion, name: string): string[] {
  const data = version.data as {
    ImageId?: string;
    InstanceType?: string;
    MetadataOptions?: { HttpTokens?: string; InstanceMetadataTags?: string };
  };
  const values: Record<string, string | undefined> = {
    'create-time': version.createTime.toISOString(),
    'image-id': data.ImageId,
    'instance-type': data.InstanceType,
    'is-default-version': String(version.number === template.defaultVersion),
    'http-tokens': data.MetadataOptions?.HttpTokens,
    'instance-metadata-tags': data.MetadataOptions?.InstanceMetadataTags,
  };
  const value = values[name];
  return value === undefined ? [] : [value];
}

function tagSet(tags: Record<string, string> | undefined): { key: string; value: string }[] | undefined {
  if (!tags || Object.keys(tags).length === 0) return undefined;
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}
