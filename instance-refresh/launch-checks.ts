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
import { STORE_PATH, STORE_PATH_FORM } from '../shared/store-path.js';
import { PUBLIC_KEY, PUBLIC_KEY_FORM, refusedSettings, SUBSTITUTER, SUBSTITUTER_FORM, SUBSTITUTER_SETTINGS } from '../shared/store-uri.js';
import { MAX_TAGS_PER_RESOURCE, type Tag } from './tag-specifications.js';

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

/** Why the `tags` input must not set `key`: a tag IAM relies on, or the one that carries `store-path`. */
export function ownedKeyProblem(key: string, storePathTag: string): string | undefined {
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
