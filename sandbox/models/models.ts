/**
 * The official AWS API models the sandbox validates requests against: botocore's JSON models as Debian's `awscli`
 * package ships them, plus overlays for shapes that model predates.
 */
import { existsSync, readFileSync } from 'node:fs';

/** Where Debian's awscli keeps botocore's models (`apt-get install awscli`). */
export const BOTOCORE_DATA = process.env.SANDBOX_BOTOCORE_DATA ?? '/usr/lib/python3/dist-packages/awscli/botocore/data';

export interface MemberRef {
  shape: string;
  locationName?: string;
  /** EC2 protocol: the flattened request name, when it is not derived from `locationName`. */
  queryName?: string;
  flattened?: boolean;
}

export interface Shape {
  type: 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'float' | 'double' | 'boolean' | 'timestamp' | 'blob';
  members?: Record<string, MemberRef>;
  required?: string[];
  member?: MemberRef;
  key?: MemberRef;
  value?: MemberRef;
  min?: number;
  max?: number;
  /** A Java regular expression (java.util.regex), matched against the whole value. */
  pattern?: string;
  enum?: string[];
  sensitive?: boolean;
  flattened?: boolean;
}

export interface ApiModel {
  metadata: { protocol: 'query' | 'ec2' | 'json' | 'rest-json'; apiVersion: string; endpointPrefix: string };
  operations: Record<string, { name: string; input?: { shape: string } }>;
  shapes: Record<string, Shape>;
}

/** The models the sandbox serves, by its service names, with overlays of newer shapes (see the overlay's `source`). */
const MODELS = {
  sts: { path: 'sts/2011-06-15', overlay: undefined },
  ec2: { path: 'ec2/2016-11-15', overlay: 'ec2-overlay.json' },
  autoscaling: { path: 'autoscaling/2011-01-01', overlay: 'autoscaling-overlay.json' },
  ssm: { path: 'ssm/2014-11-06', overlay: undefined },
  ebs: { path: 'ebs/2019-11-02', overlay: undefined },
} as const;

export type ModeledService = keyof typeof MODELS;

/** Loads every model the sandbox serves, so that a missing one fails at start with loadModel's message. */
export function loadModels(): void {
  for (const service of Object.keys(MODELS) as ModeledService[]) loadModel(service);
}

export const isModeled = (service: string): service is ModeledService => Object.hasOwn(MODELS, service);

/**
 * Shapes that hold credentials although the 2023 models do not mark them `sensitive`: the sandbox never echoes
 * them in a message (the web identity token is a bearer credential).
 */
const CREDENTIALS: Partial<Record<ModeledService, string[]>> = { sts: ['clientTokenType'] };

/**
 * Limits AWS documents for members its models leave open, applied as if the model carried them, so that the one
 * validator checks them in the model's words: `Shape` adds to that shape's constraints, `Structure.Member` gives
 * that member alone a shape of its own.
 */
const DOCUMENTED: Partial<Record<ModeledService, Record<string, Partial<Shape>>>> = {
  // DescribeAutoScalingGroups, DescribeInstanceRefreshes: "The default value is 50 and the maximum value is 100."
  // PutLifecycleHook: HeartbeatTimeout "The range is from 30 to 7200 seconds"; the transitions and results it names.
  autoscaling: {
    MaxRecords: { min: 1, max: 100 },
    HeartbeatTimeout: { min: 30, max: 7200 },
    LifecycleTransition: { enum: ['autoscaling:EC2_INSTANCE_LAUNCHING', 'autoscaling:EC2_INSTANCE_TERMINATING'] },
    LifecycleActionResult: { enum: ['CONTINUE', 'ABANDON'] },
  },
  // AssumeRoleWithWebIdentity: "You can provide up to 10 managed policy ARNs."
  sts: { policyDescriptorListType: { max: 10 } },
  // DescribeLaunchTemplateVersions: "This value can be between 1 and 200." (DescribeLaunchTemplates' model has it.)
  // CreateLaunchTemplateVersion's ClientToken: "Constraint: Maximum 128 ASCII characters."
  ec2: {
    'DescribeLaunchTemplateVersionsRequest.MaxResults': { type: 'integer', min: 1, max: 200 },
    'CreateLaunchTemplateVersionRequest.ClientToken': { min: 1, max: 128, pattern: '[\\x20-\\x7E]+' },
  },
};

function applyDocumented(service: ModeledService, model: ApiModel): void {
  for (const [name, limits] of Object.entries(DOCUMENTED[service] ?? {})) {
    const [structure, member] = name.split('.');
    if (member === undefined) {
      Object.assign(model.shapes[structure], limits);
      continue;
    }
    const ref = model.shapes[structure].members![member];
    model.shapes[name] = { ...model.shapes[ref.shape], ...limits };
    ref.shape = name;
  }
}

const cache = new Map<string, ApiModel>();

/**
 * The model of one service: botocore's `service-2.json`, the overlay's operations and shapes replacing
 * same-named ones. Throws, naming the file and the package to install, when the model is absent.
 */
export function loadModel(service: ModeledService, dataDir = BOTOCORE_DATA): ApiModel {
  const { path, overlay } = MODELS[service];
  const file = `${dataDir}/${path}/service-2.json`;
  const cached = cache.get(file);
  if (cached) return cached;
  if (!existsSync(file)) {
    throw new Error(
      `the sandbox validates ${service} requests against botocore's model ${file}, which is missing: ` +
        'install the AWS CLI (Debian: apt-get install awscli) or set SANDBOX_BOTOCORE_DATA to a botocore data directory',
    );
  }
  const model = JSON.parse(readFileSync(file, 'utf8')) as ApiModel;
  if (overlay) {
    const extra = JSON.parse(readFileSync(new URL(`./${overlay}`, import.meta.url), 'utf8')) as Partial<ApiModel>;
    Object.assign(model.operations, extra.operations);
    Object.assign(model.shapes, extra.shapes);
  }
  for (const name of CREDENTIALS[service] ?? []) model.shapes[name].sensitive = true;
  applyDocumented(service, model);
  cache.set(file, model);
  return model;
}
