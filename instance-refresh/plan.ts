/**
 * The decisions of a deploy, pure: fed what the inputs and AWS said, they answer with requests, problems and
 * verdicts, and make no call. The calls that feed them are in aws.ts, the steps in order in main.ts.
 */
import { createHash } from 'node:crypto';
import type { AutoScalingGroup, InstanceRefresh, LifecycleHook, StartInstanceRefreshCommandInput } from '@aws-sdk/client-auto-scaling';
import type {
  CreateLaunchTemplateVersionCommandInput,
  LaunchTemplateTagSpecification,
  LaunchTemplateTagSpecificationRequest,
} from '@aws-sdk/client-ec2';
import type { AbortCause } from '../shared/abort-budget.js';
import { consoleUrl } from '../shared/console-url.js';
import { errorMessage } from '../shared/errors.js';
import type { TimelineEntry } from '../shared/poller.js';
import { STORE_PATH, STORE_PATH_FORM } from '../shared/store-path.js';
import { PUBLIC_KEY, PUBLIC_KEY_FORM, refusedSettings, SUBSTITUTER, SUBSTITUTER_FORM, SUBSTITUTER_SETTINGS } from '../shared/store-uri.js';
import type { InstanceRefreshInputs } from './inputs.js';

// ---- the launch template a version is added to ----

/**
 * Which launch template the deploy adds a version to, and whether the group's way of naming its version allows
 * the deploy at all. Pure: fed by DescribeAutoScalingGroups.
 */

export interface TemplateRef {
  id?: string;
  name?: string;
  /** As the group holds it: a number, `$Latest` or `$Default`. */
  version: string;
}

const TEMPLATE_ID = /^lt-[0-9a-f]{17}$/;
/** Versions that move by themselves; AWS rolls back only to a version number. */
const MOVING_VERSIONS = new Set(['$Latest', '$Default']);

/** The launch template the group launches from; throws for groups this action cannot deploy to. */
export function groupTemplate(group: AutoScalingGroup): TemplateRef {
  const name = group.AutoScalingGroupName;
  if (group.MixedInstancesPolicy) {
    // A desired configuration with a plain launch template would replace the group's whole mixed instances policy.
    throw new Error(`Auto Scaling group ${name} uses a mixed instances policy, which this action does not deploy to.`);
  }
  const template = group.LaunchTemplate;
  if (!template || !(template.LaunchTemplateId || template.LaunchTemplateName)) {
    throw new Error(
      `Auto Scaling group ${name} has no launch template (a launch configuration cannot carry the store path tag).`,
    );
  }
  return { id: template.LaunchTemplateId, name: template.LaunchTemplateName, version: template.Version ?? '$Default' };
}

/**
 * The template to add the version to: the group's own (at the version the group runs), or the one the
 * `launch-template` input names (at its default version), which the refresh then moves the group to.
 */
export function chooseTemplate(group: TemplateRef, input: string): TemplateRef {
  if (input === '' || input === group.id || input === group.name) return group;
  return TEMPLATE_ID.test(input) ? { id: input, version: '$Default' } : { name: input, version: '$Default' };
}

export interface VersionCheck {
  /** Why the deploy cannot go ahead; nothing has been changed yet. */
  error?: string;
  warning?: string;
}

export function checkGroupVersion(group: TemplateRef, chosen: TemplateRef, autoRollback: boolean): VersionCheck {
  if (!MOVING_VERSIONS.has(group.version)) return {};
  if (autoRollback) {
    return {
      error:
        `The group launches launch template version ${group.version}, and AWS rolls back only to a version number. ` +
        `Set the group to a version number, or set auto-rollback to false.`,
    };
  }
  if (group.version === '$Latest' && chosen === group) {
    return {
      warning:
        'The group launches $Latest: from the moment the new version exists, any instance the group launches ' +
        '(scale-out, replacement) boots the new store path, refresh or not.',
    };
  }
  return {};
}

/**
 * Where a rollback returns the group, as messages name it: the version it runs, which is the new version's source
 * unless the deploy moves the group to another template.
 */
export function rollbackTarget(group: TemplateRef, chosen: TemplateRef, sourceNumber: number): number | string {
  return chosen === group ? sourceNumber : `${group.version} of launch template ${group.name ?? group.id}`;
}

// ---- the new version's tags ----

/**
 * The new launch template version's tag specifications. `CreateLaunchTemplateVersion` replaces the source version's
 * whole `TagSpecifications` list with the one in the request, so the request must carry every specification and
 * every tag the source had, with the deploy's tags merged into the instance specification.
 */

export interface Tag {
  key: string;
  value: string;
}

/** EC2's limit of tags per resource. */
export const MAX_TAGS_PER_RESOURCE = 50;

/**
 * Every specification of `existing` in its order, the `instance` one with `tags` set: a key it has keeps its
 * place and takes the new value, a new key is appended. Without an `instance` specification one is appended.
 */
export function mergeTagSpecifications(
  existing: readonly LaunchTemplateTagSpecification[] | undefined,
  tags: readonly Tag[],
): LaunchTemplateTagSpecificationRequest[] {
  const specifications = (existing ?? []).map((spec) => ({
    ResourceType: spec.ResourceType,
    Tags: (spec.Tags ?? []).map((tag) => ({ Key: tag.Key, Value: tag.Value })),
  }));
  let instance = specifications.find((spec) => spec.ResourceType === 'instance');
  if (!instance) {
    instance = { ResourceType: 'instance', Tags: [] };
    specifications.push(instance);
  }
  for (const { key, value } of tags) {
    const held = instance.Tags.find((tag) => tag.Key === key);
    if (held) held.Value = value;
    else instance.Tags.push({ Key: key, Value: value });
  }
  if (instance.Tags.length > MAX_TAGS_PER_RESOURCE) {
    throw new Error(
      `The instance tags would number ${instance.Tags.length}, over EC2's limit of ${MAX_TAGS_PER_RESOURCE} per instance.`,
    );
  }
  return specifications;
}

// ---- what would fail a launch or a boot ----

/**
 * What makes a launch fail later, found before anything is changed. Pure: every function here takes what was read
 * (inputs, the source launch template version, the group) and answers with problems, each a sentence that names the
 * tag key or setting and says why.
 *
 * Three parties fail a deploy after the fact when a tag is wrong:
 * - EC2, at every launch: with `MetadataOptions.InstanceMetadataTags = enabled`, an instance any of whose tag keys
 *   has a character outside `A-Za-z0-9 + - = . , _ : @`, or is `.`, `..` or `_index`, is not launched (EC2 user
 *   guide, "View tags for your EC2 instances using instance metadata"); and at most 50 user tags per resource, keys
 *   1-128 characters, values up to 256, no `aws:` prefix (AWS's own).
 * - The instance, at boot: `user-data.sh` needs the tags through instance metadata, and refuses a `NixStorePath`,
 *   `Substituters` or `TrustedPublicKeys` value it would not use (then it powers the instance off). It reads them by
 *   its default names whatever `store-path-tag` says, unless its image sets other names.
 * - IAM: the deploy and ssm-deploy roles in `iam/` act only on resources whose `Environment` tag names their
 *   environment (`aws:ResourceTag/Environment`, `ssm:resourceTag/Environment`), so a deploy that wrote that tag onto
 *   instances would hand them to another environment's roles.
 */

/** The tags `user-data.sh` reads, by its default names (`store-path-tag` defaults to the first). */
export const STORE_PATH_TAG = 'NixStorePath';
export const SUBSTITUTERS_TAG = 'Substituters';
export const TRUSTED_PUBLIC_KEYS_TAG = 'TrustedPublicKeys';
/** The tag the IAM policies in `iam/` condition on. */
export const ENVIRONMENT_TAG = 'Environment';

/** The characters instance metadata serves in a tag key. */
const IMDS_KEY_CHAR = /[A-Za-z0-9+\-=.,_:@]/;
/** Keys instance metadata cannot serve although their characters are allowed: they are path segments of its own. */
const IMDS_RESERVED_KEYS = ['.', '..', '_index'];
export const MAX_TAG_KEY = 128;
export const MAX_TAG_VALUE = 256;

export const TAG_KEY_FORM =
  'a tag key of 1-128 characters from A-Z a-z 0-9 + - = . , _ : @ (no / and no spaces), not ., .. or _index, ' +
  'not starting with aws:';

/** A key or value from outside, quoted so that control characters show and a long one stays short. */
function shown(text: string): string {
  return JSON.stringify(text.length > 140 ? `${text.slice(0, 137)}...` : text);
}

/**
 * Why EC2 would not launch an instance with this tag key while instance metadata tags are enabled, or would not
 * accept it as a user tag; `undefined` when it is fine. `aws:` keys pass when `awsOwned` (tags AWS itself put on a
 * group, such as CloudFormation's `aws:cloudformation:stack-name`, which it propagates to instances).
 */
export function tagKeyProblem(key: string, awsOwned = false): string | undefined {
  if (key.length < 1 || key.length > MAX_TAG_KEY) return `is ${key.length} characters long; EC2 takes 1-${MAX_TAG_KEY}`;
  if (!awsOwned && key.toLowerCase().startsWith('aws:')) return 'starts with aws:, which AWS keeps for its own tags';
  const bad = [...new Set([...key].filter((char) => !IMDS_KEY_CHAR.test(char)))];
  if (bad.length > 0) {
    const named = bad.map((char) => (char === ' ' ? 'a space' : shown(char))).join(', ');
    return (
      `has ${named}: with MetadataOptions.InstanceMetadataTags enabled, EC2 launches no instance that has a tag key ` +
      'with characters other than A-Z a-z 0-9 + - = . , _ : @'
    );
  }
  if (IMDS_RESERVED_KEYS.includes(key)) return 'cannot be served by instance metadata, so EC2 launches no instance with it';
  return undefined;
}

/**
 * Why no deploy may set the tag `key`: `Environment` (in any case: IAM condition key names are not case sensitive)
 * decides which roles may act on the instances.
 */
export function environmentKeyProblem(key: string): string | undefined {
  if (key.toLowerCase() !== ENVIRONMENT_TAG.toLowerCase()) return undefined;
  return (
    `decides which IAM roles may act on the instances (aws:ResourceTag/${ENVIRONMENT_TAG} in iam/): ` +
    'only administrators set it, on the group with PropagateAtLaunch'
  );
}

/** Why the `tags` input must not set `key`: a tag IAM relies on, the one that carries `store-path`, or the gate's. */
export function ownedKeyProblem(key: string, storePathTag: string): string | undefined {
  if (GATE_TAGS.includes(key)) return "is the readiness gate's (the action sets it with readiness: lifecycle-hook)";
  return environmentKeyProblem(key) ?? (key === storePathTag ? "carries 'store-path' (the action sets it)" : undefined);
}

/**
 * Why the instance (or EC2) would refuse `value` for the tag `key`; `undefined` when it is fine. The tags
 * `user-data.sh` reads by its default names are checked as it checks them, whichever tag carries this deploy's
 * store path: `NixStorePath` a store path (`shared/store-path.ts`); `Substituters` and `TrustedPublicKeys` space
 * separated, no control characters, each item a store URI with only the allowed settings (`shared/store-uri.ts`) or
 * a public key.
 */
export function tagValueProblem(key: string, value: string): string | undefined {
  if (value.length > MAX_TAG_VALUE) return `is ${value.length} characters long; EC2 takes at most ${MAX_TAG_VALUE}`;
  if (key === STORE_PATH_TAG && !STORE_PATH.test(value)) {
    return `is ${shown(value)}, which the user data refuses (powering the instance off): it must be ${STORE_PATH_FORM}`;
  }
  if (key !== SUBSTITUTERS_TAG && key !== TRUSTED_PUBLIC_KEYS_TAG) return undefined;
  // The script refuses the whole tag for any control character, and splits the rest at spaces.
  if (/\p{Cc}/u.test(value)) return 'has control characters, and the user data refuses it';
  const items = value.split(' ').filter((item) => item !== '');
  for (const item of items) {
    if (key === SUBSTITUTERS_TAG && !SUBSTITUTER.test(item)) {
      const refused = refusedSettings(item, SUBSTITUTER_SETTINGS);
      const why = refused.length > 0 ? ` (refused settings: ${refused.join(', ')})` : '';
      return `has ${shown(item)}${why}, which the user data refuses: each item must be ${SUBSTITUTER_FORM}`;
    }
    if (key === TRUSTED_PUBLIC_KEYS_TAG && !PUBLIC_KEY.test(item)) {
      return `has ${shown(item)}, which the user data refuses: each item must be ${PUBLIC_KEY_FORM}`;
    }
  }
  return undefined;
}

/** One tag as it will land on new instances, with where it comes from, for messages. */
interface LandingTag {
  value: string;
  from: string;
  awsOwned: boolean;
}

export interface LaunchCheck {
  /** `launch template lt-... version 3`, for messages. */
  template: string;
  groupName: string;
  metadataOptions?: { InstanceMetadataTags?: string; HttpEndpoint?: string };
  /** The source version's tag specifications (only `instance` ones land on instances). */
  tagSpecifications?: ReadonlyArray<{ ResourceType?: string; Tags?: ReadonlyArray<{ Key?: string; Value?: string }> }>;
  /** The group's tags as DescribeAutoScalingGroups answers them. */
  groupTags?: ReadonlyArray<{ Key?: string; Value?: string; PropagateAtLaunch?: boolean }>;
  storePathTag: string;
  storePath: string;
  /** The `tags` input. */
  tags: readonly Tag[];
}

/**
 * Every reason the new version's instances would fail to launch or to boot, or would not carry what the deploy
 * sets; `[]` when there is none. The tags checked are those that will land on a new instance: the source version's
 * `instance` tags, the store path tag and `tags` merged in, then the group's tags with PropagateAtLaunch, which
 * Auto Scaling puts on the instance over a template tag of the same key.
 */
export function launchProblems(check: LaunchCheck): string[] {
  const problems: string[] = [];
  const options = check.metadataOptions ?? {};
  if (options.InstanceMetadataTags !== 'enabled') {
    problems.push(
      `The ${check.template} has MetadataOptions.InstanceMetadataTags ${options.InstanceMetadataTags ?? 'unset (disabled)'}: ` +
        `new instances could not read the ${check.storePathTag} tag, and the user data powers them off. ` +
        'Set MetadataOptions.InstanceMetadataTags to enabled in the launch template.',
    );
  }
  if (options.HttpEndpoint === 'disabled') {
    problems.push(
      `The ${check.template} has MetadataOptions.HttpEndpoint disabled: new instances could not reach instance metadata ` +
        'to read their tags. Set MetadataOptions.HttpEndpoint to enabled in the launch template.',
    );
  }

  const landing = new Map<string, LandingTag>();
  const put = (key: string, value: string, from: string, awsOwned = false) => landing.set(key, { value, from, awsOwned });
  for (const spec of check.tagSpecifications ?? []) {
    if (spec.ResourceType !== 'instance') continue;
    for (const tag of spec.Tags ?? []) put(tag.Key ?? '', tag.Value ?? '', `an instance tag of ${check.template}`);
  }
  put(check.storePathTag, check.storePath, "input 'store-path-tag'");
  for (const tag of check.tags) put(tag.key, tag.value, "input 'tags'");
  const inputKeys = new Set([check.storePathTag, ...check.tags.map((tag) => tag.key)]);
  for (const tag of check.groupTags ?? []) {
    if (!tag.PropagateAtLaunch) continue;
    const key = tag.Key ?? '';
    const from = `a tag of group ${check.groupName} with PropagateAtLaunch`;
    if (inputKeys.has(key)) {
      problems.push(
        `Tag ${shown(key)} is ${from}, which Auto Scaling puts on new instances over the launch template's: ` +
          `the value this deploy sets would never reach them.`,
      );
    }
    put(key, tag.Value ?? '', from, key.startsWith('aws:'));
  }

  for (const [key, tag] of landing) {
    const keyProblem = tagKeyProblem(key, tag.awsOwned);
    if (keyProblem) problems.push(`Tag key ${shown(key)} (${tag.from}) ${keyProblem}.`);
    const valueProblem = tagValueProblem(key, tag.value);
    if (valueProblem) problems.push(`The value of tag ${shown(key)} (${tag.from}) ${valueProblem}.`);
  }
  const counted = [...landing.values()].filter((tag) => !tag.awsOwned).length;
  if (counted > MAX_TAGS_PER_RESOURCE) {
    problems.push(
      `New instances would carry ${counted} tags (the launch template's, this deploy's and the group's with ` +
        `PropagateAtLaunch), over EC2's limit of ${MAX_TAGS_PER_RESOURCE} per instance.`,
    );
  }
  return problems;
}

// ---- the image a version launches (image-id) ----

/** An AMI ID: `ami-` and 8 hex digits (older images) or 17. */
export const AMI_ID = /^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

/** What DescribeImages says of an AMI, as {@link imageCheck} reads it. */
export interface ImageFacts {
  ImageId?: string;
  /** EC2's ImageState: pending, available, invalid, deregistered, transient, failed, error, disabled. */
  State?: string;
  /** i386, x86_64, arm64, x86_64_mac, arm64_mac. */
  Architecture?: string;
}

export interface ImageCheckInput {
  /** The `image-id` input. */
  imageId: string;
  /** The source version's `ImageId`: an AMI ID, `resolve:ssm:<parameter>`, or undefined. */
  sourceImageId?: string;
  /** DescribeImages' answer for both IDs, in the group's region; an AMI it does not list is absent. */
  images: readonly ImageFacts[];
  /** `launch template lt-... version 3`, for messages. */
  template: string;
  region: string;
}

/** The AMIs to describe for {@link imageCheck}: `image-id`, and the source version's image when it is an AMI ID. */
export function imagesToDescribe(imageId: string, sourceImageId: string | undefined): string[] {
  return [imageId, ...(sourceImageId && AMI_ID.test(sourceImageId) && sourceImageId !== imageId ? [sourceImageId] : [])];
}

/**
 * Whether the new version may launch `image-id`, before it is made: refused (`error`) when EC2 does not list the
 * AMI in the group's region (never registered there, deregistered, or not shared with the account), when it is not
 * `available` (pending, failed, deregistered, disabled: RunInstances refuses all of these), or when its architecture
 * differs from that of the AMI the source version launches. The group's instance types run that AMI, so they share
 * its architecture, whether the template names one type, the group a mixed instances policy, or attributes; when
 * the source's AMI cannot be read (an SSM parameter, or an AMI since deregistered) the architecture is not compared
 * and `warning` says so. Pure: fed by DescribeImages.
 */
export function imageCheck(input: ImageCheckInput): { error?: string; warning?: string } {
  const find = (id: string | undefined) => input.images.find((image) => image.ImageId === id);
  const image = find(input.imageId);
  if (!image) {
    return {
      error:
        `Image ${input.imageId} (image-id) does not exist in ${input.region}: DescribeImages does not list it. An AMI is ` +
        `regional (copy it here, e.g. upload-ami's copy-to-regions), and one of another account must be shared with this one.`,
    };
  }
  if (image.State !== 'available') {
    const why: Record<string, string> = {
      pending: 'it is still being registered or copied; deploy it once it is available',
      deregistered: 'it was deregistered',
      disabled: 'it was disabled (EnableImage makes it available again)',
    };
    return {
      error: `Image ${input.imageId} (image-id) is ${image.State ?? 'in no state'}, not available, so no instance can launch it: ${why[image.State ?? ''] ?? 'its registration failed'}.`,
    };
  }
  const source = input.sourceImageId;
  const unknown = (why: string) => ({
    warning: `The architecture of image ${input.imageId} (${image.Architecture}) was not compared with the instances': ${input.template} ${why}.`,
  });
  if (!source) return unknown('names no image');
  if (!AMI_ID.test(source)) return unknown(`launches ${shown(source)}, not an AMI ID`);
  const current = find(source);
  if (!current) return unknown(`launches image ${source}, which DescribeImages no longer lists`);
  if (current.Architecture !== image.Architecture) {
    return {
      error:
        `Image ${input.imageId} (image-id) is ${image.Architecture}, but ${input.template} launches ${current.Architecture} ` +
        `(image ${source}): the group's instance types cannot boot it. Build the image for ${current.Architecture}, or ` +
        'change the instance types first.',
    };
  }
  return {};
}

// ---- the CreateLaunchTemplateVersion request ----

/**
 * The `CreateLaunchTemplateVersion` request of a deploy: made from the source version, tags merged, described by
 * store path and run, and idempotent within one attempt of one job. Pure.
 */

/** EC2's limit on `VersionDescription`. */
const MAX_DESCRIPTION = 255;

export interface VersionRequestInput {
  templateId: string;
  sourceVersion: number;
  sourceTagSpecifications: readonly LaunchTemplateTagSpecification[] | undefined;
  storePath: string;
  storePathTag: string;
  tags: readonly Tag[];
  groupName: string;
  env: NodeJS.ProcessEnv;
  /** With `readiness: lifecycle-hook`: the hook the new instances complete. */
  gateHook?: string;
  /** The AMI the new version launches (`image-id`); the source version's when undefined. */
  imageId?: string;
}

/**
 * The source version's tags are kept whatever `readiness` is, the gate's included: on a group that still has the launch
 * hook, those tags are what lets a new instance end its wait (dropped, every instance would wait out the heartbeat and
 * be abandoned), and without a hook they are harmless (`user-data.sh` takes "no lifecycle action" as done).
 */
export function versionRequest(input: VersionRequestInput): CreateLaunchTemplateVersionCommandInput {
  const source = input.sourceTagSpecifications;
  return {
    LaunchTemplateId: input.templateId,
    SourceVersion: String(input.sourceVersion),
    VersionDescription: versionDescription(input.storePath, input.env, input.imageId),
    ClientToken: clientToken(input.env, input.groupName, input.storePath, input.imageId),
    LaunchTemplateData: {
      ...(input.imageId ? { ImageId: input.imageId } : {}),
      TagSpecifications: mergeTagSpecifications(source, [
        { key: input.storePathTag, value: input.storePath },
        ...input.tags,
        ...gateTags(input.groupName, input.gateHook),
      ]),
    },
  };
}

/**
 * The same for every try within one attempt of a job run (the SDK's retries, the step run again by hand), and
 * different for every other attempt, group or store path. None outside a workflow run: there a fixed token would
 * hand one deploy the version an earlier one made.
 */
export function clientToken(env: NodeJS.ProcessEnv, groupName: string, storePath: string, imageId?: string): string | undefined {
  if (!env.GITHUB_RUN_ID) return undefined;
  const parts = ['nixos-aws/instance-refresh', env.GITHUB_REPOSITORY ?? '', env.GITHUB_RUN_ID, env.GITHUB_RUN_ATTEMPT ?? '1'];
  return createHash('sha256').update([...parts, groupName, storePath, ...(imageId ? [imageId] : [])].join('\0')).digest('hex');
}

/** `<store path>[ on <AMI>], <repository> run <id> attempt <n>`; the run is cut first when EC2's limit needs it. */
export function versionDescription(storePath: string, env: NodeJS.ProcessEnv, imageId?: string): string {
  const run = env.GITHUB_RUN_ID
    ? `, ${env.GITHUB_REPOSITORY ?? 'GitHub'} run ${env.GITHUB_RUN_ID} attempt ${env.GITHUB_RUN_ATTEMPT ?? '1'}`
    : '';
  return `${storePath}${imageId ? ` on ${imageId}` : ''}${run}`.slice(0, MAX_DESCRIPTION);
}

// ---- the readiness gate ----

/**
 * `readiness: lifecycle-hook`: the group's launch lifecycle hook keeps each new instance in `Pending:Wait` until the
 * user data completes it (CONTINUE once it runs the tagged system and is healthy, ABANDON otherwise). Checked before
 * anything changes, pure: fed DescribeLifecycleHooks.
 */

/** The instance tags `user-data.sh` reads the gate from (its `NIXOS_AWS_GROUP_TAG` and `NIXOS_AWS_HOOK_TAG`). */
export const GROUP_NAME_TAG = 'AutoScalingGroupName';
export const LIFECYCLE_HOOK_TAG = 'LifecycleHookName';
export const GATE_TAGS: readonly string[] = [GROUP_NAME_TAG, LIFECYCLE_HOOK_TAG];
export const LAUNCHING = 'autoscaling:EC2_INSTANCE_LAUNCHING';

/**
 * The longest `user-data.sh` with its defaults can take, from launch, before it reports CONTINUE (or ABANDON), in
 * seconds: the bound its own timeouts set (each step may succeed just before its timeout), plus an estimate of the two
 * boots. `plan.test.ts` derives the same sum from the script, so that a changed timeout there fails until this follows.
 */
export const USER_DATA_WORST_CASE_SECONDS =
  2 * (30 + 120 + 11) + // each run: `nix --version`, then the instance metadata window and its last try (token and read, 5 s each, 1 s apart)
  (900 + 10) + // the fetch, and its --kill-after
  3 * 120 + // path-info, show-config, store verify
  (300 + 600) + // nix-env --set, switch-to-configuration boot
  120 + // the two boots, the image's then the deployed system's (an estimate, not a timeout)
  (60 + 6) + // the health check and its last try
  (5 * 15 + (1 + 2 + 3 + 4)); // CONTINUE: 5 attempts of 15 s, 1-4 s apart

/**
 * The shortest heartbeat timeout the gate takes: {@link USER_DATA_WORST_CASE_SECONDS} (2763 s) and about 4 minutes for
 * EC2 to start the instance before its user data runs. The user data records no heartbeat, so a hook that times out
 * sooner abandons instances that were on their way. The command the messages suggest uses 3600 s, AWS's default.
 */
export const MIN_GATE_HEARTBEAT_SECONDS = 3000;

/** The group names `user-data.sh` accepts from the tag (it refuses, and powers off, on any other). */
const GATE_GROUP_NAME = /^[A-Za-z0-9./_-]{1,255}$/;

/** What the gate needs, as a command line an administrator can run. */
export function putHookCommand(groupName: string, hookName = 'nixos-ready'): string {
  return (
    `aws autoscaling put-lifecycle-hook --auto-scaling-group-name ${groupName} --lifecycle-hook-name ${hookName} ` +
    `--lifecycle-transition ${LAUNCHING} --heartbeat-timeout 3600 --default-result ABANDON`
  );
}

export type GateCheck = { hook: string; warning?: string } | { error: string };

/**
 * The launch hook the new instances complete: `wanted` (the `lifecycle-hook-name` input) or the group's only
 * launch hook, with a heartbeat timeout of at least {@link MIN_GATE_HEARTBEAT_SECONDS}. An error says what to add.
 */
export function checkGate(groupName: string, hooks: readonly LifecycleHook[], wanted: string): GateCheck {
  if (!GATE_GROUP_NAME.test(groupName)) {
    return { error: `The readiness gate needs a group name of A-Z a-z 0-9 . / _ - (the user data refuses others), got ${shown(groupName)}.` };
  }
  const launching = hooks.filter((hook) => hook.LifecycleTransition === LAUNCHING);
  const names = launching.map((hook) => hook.LifecycleHookName ?? '');
  if (launching.length === 0) {
    return { error: `Group ${groupName} has no ${LAUNCHING} lifecycle hook, which readiness: lifecycle-hook needs. Add one: ${putHookCommand(groupName)}` };
  }
  const chosen = wanted ? launching.find((hook) => hook.LifecycleHookName === wanted) : launching.length === 1 ? launching[0] : undefined;
  if (!chosen) {
    const which = wanted ? `none named ${shown(wanted)}` : 'so which one the instances complete must be named';
    return { error: `Group ${groupName} has the ${LAUNCHING} lifecycle hooks ${names.join(', ')}: ${which} (input 'lifecycle-hook-name').` };
  }
  const name = chosen.LifecycleHookName ?? '';
  const heartbeat = chosen.HeartbeatTimeout ?? 3600;
  if (heartbeat < MIN_GATE_HEARTBEAT_SECONDS) {
    return {
      error:
        `Lifecycle hook ${name} of group ${groupName} times out after ${heartbeat} s without a heartbeat, and a first boot ` +
        `can take ${MIN_GATE_HEARTBEAT_SECONDS} s (each step of the user data to its timeout, two boots, the report). Raise it: ${putHookCommand(groupName, name)}`,
    };
  }
  const others = launching.length > 1 ? ` Its other launch hooks (${names.filter((n) => n !== name).join(', ')}) must be completed by something else.` : '';
  const lenient = chosen.DefaultResult === 'CONTINUE' ? ` Hook ${name}'s DefaultResult is CONTINUE: an instance that never reports goes into service after ${heartbeat} s.` : '';
  return { hook: name, warning: others || lenient ? `${lenient}${others}`.trim() : undefined };
}

/** The gate's tags on the new version: none without it. */
export function gateTags(groupName: string, hook: string | undefined): Tag[] {
  if (hook === undefined) return [];
  return [
    { key: GROUP_NAME_TAG, value: groupName },
    { key: LIFECYCLE_HOOK_TAG, value: hook },
  ];
}

/**
 * Why the gate cannot be used with `auto-rollback` when the version a rollback launches (`rollbackTags`, its tag
 * specifications; the source version unless the deploy moves the group to another template) lacks the gate's tags for
 * `hook` of `groupName`; undefined when it has them. On AWS a launch hook holds every launch, a rollback's included:
 * instances without the tags never complete it, so the rollback waits out the heartbeat and they are abandoned.
 */
export function rollbackGateProblem(
  groupName: string,
  hook: string,
  rollbackVersion: string,
  rollbackTags: readonly LaunchTemplateTagSpecification[] | undefined,
): string | undefined {
  const tags = rollbackTags?.find((spec) => spec.ResourceType === 'instance')?.Tags ?? [];
  const has = (key: string, value: string) => tags.some((tag) => tag.Key === key && tag.Value === value);
  if (has(GROUP_NAME_TAG, groupName) && has(LIFECYCLE_HOOK_TAG, hook)) return undefined;
  return (
    `A rollback would launch ${rollbackVersion}, whose instances lack the tags ${GROUP_NAME_TAG}=${groupName} and ` +
    `${LIFECYCLE_HOOK_TAG}=${hook}: lifecycle hook ${hook} holds a rollback's launches too, and nothing would complete ` +
    `them, so the rollback would wait out the heartbeat and fail. To switch the gate on, deploy once with ` +
    `readiness: lifecycle-hook and auto-rollback: false; the version it makes carries the tags, and later deploys can roll back.`
  );
}

/** An instance a lifecycle hook abandoned, as the refresh's status reason names it. */
export interface AbandonedInstance {
  instanceId: string;
  reason: string;
}

/**
 * The instances a refresh's reason says were abandoned: Auto Scaling's activity words, "Launching a new EC2 instance:
 * i-... Status Reason: Instance failed to complete user's Lifecycle Action: ...". Pure text reading; [] when none.
 */
export function abandonedInstances(reason: string | undefined): AbandonedInstance[] {
  const found = (reason ?? '').matchAll(
    /Launching a new EC2 instance: (i-[0-9a-f]{8,17})\. Status Reason: (Instance failed to complete user's Lifecycle Action: .*?)(?=(?:\s*Launching a new EC2 instance: )|$)/g,
  );
  return [...found].map((m) => ({ instanceId: m[1], reason: m[2].trim() }));
}

// ---- the StartInstanceRefresh request ----

/** The `StartInstanceRefresh` request of a deploy, from the inputs. Pure. */

/**
 * `DesiredConfiguration` names the new version by number: AutoRollback needs it to return the group to the version
 * it had, and `$Latest` would follow whatever version someone makes next. Unset inputs stay unset, so AWS's own
 * defaults (and the group's `DefaultInstanceWarmup`) apply.
 */
export function refreshRequest(
  inputs: InstanceRefreshInputs,
  target: { templateId: string; version: number },
): StartInstanceRefreshCommandInput {
  const checkpoints = inputs.checkpointPercentages.length > 0;
  return {
    AutoScalingGroupName: inputs.autoScalingGroupName,
    Strategy: 'Rolling',
    DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: target.templateId, Version: String(target.version) } },
    Preferences: {
      MinHealthyPercentage: inputs.minHealthyPercentage,
      MaxHealthyPercentage: inputs.maxHealthyPercentage,
      InstanceWarmup: inputs.instanceWarmup,
      CheckpointPercentages: checkpoints ? inputs.checkpointPercentages : undefined,
      CheckpointDelay: checkpoints ? inputs.checkpointDelay : undefined,
      SkipMatching: inputs.skipMatching,
      AutoRollback: inputs.autoRollback,
      AlarmSpecification: inputs.alarms.length > 0 ? { Alarms: inputs.alarms } : undefined,
      BakeTime: inputs.bakeTime,
      ScaleInProtectedInstances: inputs.scaleInProtectedInstances,
      StandbyInstances: inputs.standbyInstances,
    },
  };
}

// ---- what the refresh's status means, and how a wait ended ----

/**
 * What an instance refresh's status means for the deploy: still going, succeeded, or failed (and how to say so).
 * Pure: the wait loop feeds it what DescribeInstanceRefreshes answered.
 */

/** While one of these lasts, AWS refuses to start another refresh on the group. `Baking` is one of them. */
export const ACTIVE_STATUSES: ReadonlySet<string> = new Set([
  'Pending',
  'InProgress',
  'Baking',
  'Cancelling',
  'RollbackInProgress',
]);

export type Verdict =
  | { kind: 'waiting' }
  | { kind: 'succeeded'; message: string }
  | { kind: 'failed'; message: string };

export interface DeployVersions {
  /** The version the group had, as the rollback message names it (`3`, `3 of launch template web`). */
  source: number | string;
  /** The version this deploy made. */
  target: number;
}

/**
 * The deploy's verdict on the refresh. Any status not known to be final counts as still going, so a status AWS
 * adds later ends in the timeout's `on-abort` rather than in a false success.
 */
export function verdict(refresh: InstanceRefresh, versions: DeployVersions): Verdict {
  const reason = refresh.StatusReason ? `: ${refresh.StatusReason}` : '';
  const rollbackReason = refresh.RollbackDetails?.RollbackReason ?? refresh.StatusReason;
  const because = rollbackReason ? `: ${rollbackReason}` : '';
  switch (refresh.Status) {
    case 'Successful':
      return { kind: 'succeeded', message: `Deployed: the group runs launch template version ${versions.target}.` };
    case 'Failed':
      return { kind: 'failed', message: `Deploy failed, the instance refresh failed${reason}` };
    case 'Cancelled':
      return { kind: 'failed', message: `Deploy failed, the instance refresh was cancelled${reason}` };
    case 'RollbackSuccessful':
      return { kind: 'failed', message: `Deploy failed, group rolled back to version ${versions.source}${because}` };
    case 'RollbackFailed':
      return {
        kind: 'failed',
        message:
          `Deploy failed, and so did the rollback to version ${versions.source}: the group may run both versions` +
          reason,
      };
    default:
      return { kind: 'waiting' };
  }
}

/** One log line: changes when the status, the percentage, the instances left or AWS's reason change. */
export function progressLine(refresh: InstanceRefresh): string {
  const rollback = refresh.RollbackDetails;
  const left =
    refresh.InstancesToUpdate === undefined
      ? ''
      : ` (${refresh.InstancesToUpdate} instance${refresh.InstancesToUpdate === 1 ? '' : 's'} to update)`;
  const rolledBack =
    rollback?.PercentageCompleteOnRollback === undefined
      ? ''
      : `, rolling back from ${rollback.PercentageCompleteOnRollback}%`;
  const reason = refresh.StatusReason ? ` - ${refresh.StatusReason}` : '';
  return `${refresh.Status ?? 'Unknown'} ${refresh.PercentageComplete ?? 0}%${left}${rolledBack}${reason}`;
}

/** What to do about another refresh that is running, by `if-in-progress`. */
export type InProgressAction = 'fail' | 'wait' | 'cancel';

/**
 * `cancel` never cancels a rollback (that would leave the group half on a broken version) nor a refresh that is
 * already being cancelled: those are waited for.
 */
export function inProgressAction(policy: InProgressAction, status: string | undefined): InProgressAction {
  if (policy === 'cancel' && (status === 'RollbackInProgress' || status === 'Cancelling')) return 'wait';
  return policy;
}

/**
 * Whether `refresh` is the one `request` started: StartInstanceRefresh takes no client token, so a start whose answer
 * was lost (the SDK then retries and meets `InstanceRefreshInProgress` from its own refresh) is recognised by what it
 * asked for, the launch template version this deploy made (a number, never made twice), and its start time, no
 * earlier than `sinceMs` (the first attempt, less an allowance for clock skew).
 */
export function isRequestedRefresh(refresh: InstanceRefresh, request: StartInstanceRefreshCommandInput, sinceMs: number): boolean {
  const wanted = request.DesiredConfiguration?.LaunchTemplate;
  const desired = refresh.DesiredConfiguration?.LaunchTemplate;
  return (
    wanted !== undefined &&
    desired?.LaunchTemplateId === wanted.LaunchTemplateId &&
    desired?.Version === wanted.Version &&
    (refresh.StartTime?.getTime() ?? 0) >= sinceMs
  );
}

/**
 * A wait on this deploy's refresh that ended without a final status: why, in the words of the step's failure, and
 * the abort budget that applies. Every such ending leaves the refresh running unwatched, so on-abort applies to all.
 */
export function unfinishedWait(
  ending: { outcome: 'timeout' } | { outcome: 'aborted' } | { outcome: 'failed'; error: unknown },
  refreshId: string,
  timeoutMinutes: number,
): { why: string; cause: AbortCause } {
  switch (ending.outcome) {
    case 'timeout':
      return { why: `Instance refresh ${refreshId} did not end within ${timeoutMinutes} minutes`, cause: 'timeout' };
    case 'aborted':
      return { why: `The run was cancelled while instance refresh ${refreshId} was running`, cause: 'cancelled' };
    case 'failed':
      return { why: `Lost sight of instance refresh ${refreshId} (${errorMessage(ending.error)})`, cause: 'gave-up' };
  }
}

// ---- what the deploy learned ----

/** One look at this deploy's refresh, for the summary's picture. */
export interface ProgressPoint {
  at: Date;
  status: string;
  percent: number;
  /** While rolling back: how far the refresh had got when the rollback began. */
  rollbackFrom?: number;
  reason?: string;
}

/** A step of the action itself before the refresh runs, for the summary's picture. */
export interface StepSpan {
  label: string;
  from: Date;
  /** Unset while it runs, or when it threw. */
  to?: Date;
  failed?: boolean;
}

/**
 * What a deploy has learned so far: filled in by main.ts's steps as they learn it, turned into the outputs and the
 * summary by its `report`, also after a failure, a timeout or a cancellation.
 */
export interface DeployState {
  /** The AMI of the new version (`image-id`), when given. */
  imageId?: string;
  region: string;
  groupName: string;
  storePath: string;
  /** Set once DescribeAutoScalingGroups found the group: from then on `console-url` links to something. */
  groupFound: boolean;
  templateId?: string;
  sourceVersion?: number;
  targetVersion?: number;
  refreshId?: string;
  /** The refresh's last status seen (`Pending` once started). */
  status?: string;
  statusReason?: string;
  /** The verdict, or the on-abort's account, when the deploy got that far. */
  outcome?: { kind: 'succeeded' | 'failed'; message: string };
  /** Every distinct progress line logged while waiting, this deploy's refresh and others'. */
  timeline: TimelineEntry[];
  steps: StepSpan[];
  /** The looks at this deploy's refresh, one per change of status or percentage. */
  progress: ProgressPoint[];
  /** When the step's body returned or threw. */
  endedAt?: Date;
  /** With `readiness: lifecycle-hook`: the hook the new instances complete. */
  gateHook?: string;
  /** Instances the gate's hook abandoned, from the refresh's reasons. */
  abandoned?: AbandonedInstance[];
}

/** The point a look at `refresh` adds to `progress` (none when status and percentages are unchanged). */
export function progressPoint(refresh: InstanceRefresh, at: Date, last: ProgressPoint | undefined): ProgressPoint | undefined {
  const point: ProgressPoint = {
    at,
    status: refresh.Status ?? 'Unknown',
    percent: refresh.PercentageComplete ?? 0,
    rollbackFrom: refresh.RollbackDetails?.PercentageCompleteOnRollback,
    reason: refresh.StatusReason,
  };
  const same = last && last.status === point.status && last.percent === point.percent && last.rollbackFrom === point.rollbackFrom;
  return same ? undefined : point;
}

/**
 * The group's instance refresh tab in the EC2 console of the region's partition: the `console-url` output and the
 * summary's link. The group name is encoded: the console reads it from the fragment.
 */
export function refreshTabUrl(region: string, groupName: string): string {
  return consoleUrl(region, 'ec2/home', `AutoScalingGroupDetails:id=${encodeURIComponent(groupName)};view=instanceRefresh`);
}
