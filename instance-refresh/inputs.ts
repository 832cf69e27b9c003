/** The inputs of instance-refresh: their names, defaults and the typed object the action works with. */
import { InputError, parseInputs, type InputSource } from '../shared/inputs.js';
import { resolveRegion } from '../shared/region.js';
import { readRoleInputs, RoleInput, type RoleInputs } from '../shared/role-inputs.js';
import { STORE_PATH, STORE_PATH_FORM } from '../shared/store-path.js';
import {
  AMI_ID,
  environmentKeyProblem,
  GATE_TAGS,
  ownedKeyProblem,
  STORE_PATH_TAG,
  SUBSTITUTERS_TAG,
  TAG_KEY_FORM,
  tagKeyProblem,
  tagValueProblem,
  TRUSTED_PUBLIC_KEYS_TAG,
  MAX_TAGS_PER_RESOURCE,
} from './plan.js';

export const Input = {
  ...RoleInput,
  AutoScalingGroupName: 'auto-scaling-group-name',
  StorePath: 'store-path',
  StorePathTag: 'store-path-tag',
  ImageId: 'image-id',
  Tags: 'tags',
  LaunchTemplate: 'launch-template',
  MinHealthyPercentage: 'min-healthy-percentage',
  MaxHealthyPercentage: 'max-healthy-percentage',
  InstanceWarmup: 'instance-warmup',
  CheckpointPercentages: 'checkpoint-percentages',
  CheckpointDelay: 'checkpoint-delay',
  SkipMatching: 'skip-matching',
  AutoRollback: 'auto-rollback',
  Alarms: 'alarms',
  BakeTime: 'bake-time',
  ScaleInProtectedInstances: 'scale-in-protected-instances',
  StandbyInstances: 'standby-instances',
  IfInProgress: 'if-in-progress',
  Wait: 'wait',
  TimeoutMinutes: 'timeout-minutes',
  PollIntervalSeconds: 'poll-interval-seconds',
  OnAbort: 'on-abort',
  Readiness: 'readiness',
  LifecycleHookName: 'lifecycle-hook-name',
} as const;

export const IF_IN_PROGRESS = ['wait', 'cancel', 'fail'] as const;
export const ON_ABORT = ['rollback', 'cancel', 'leave'] as const;
export const SCALE_IN_PROTECTED = ['Refresh', 'Ignore', 'Wait'] as const;
export const STANDBY = ['Terminate', 'Ignore', 'Wait'] as const;
export const READINESS = ['none', 'lifecycle-hook'] as const;

export interface InstanceRefreshInputs extends RoleInputs {
  autoScalingGroupName: string;
  storePath: string;
  storePathTag: string;
  /** `ami-...`; `''` to keep the source version's image. */
  imageId: string;
  tags: Array<{ key: string; value: string }>;
  /** Name or `lt-` ID; `''` for the group's own launch template. */
  launchTemplate: string;
  minHealthyPercentage: number;
  maxHealthyPercentage?: number;
  instanceWarmup?: number;
  checkpointPercentages: number[];
  checkpointDelay?: number;
  skipMatching: boolean;
  autoRollback: boolean;
  alarms: string[];
  bakeTime?: number;
  scaleInProtectedInstances: (typeof SCALE_IN_PROTECTED)[number];
  standbyInstances: (typeof STANDBY)[number];
  ifInProgress: (typeof IF_IN_PROGRESS)[number];
  wait: boolean;
  timeoutMinutes: number;
  pollIntervalSeconds: number;
  onAbort: (typeof ON_ABORT)[number];
  readiness: (typeof READINESS)[number];
  /** `''`: the group's only launch lifecycle hook. */
  lifecycleHookName: string;
}

/**
 * Auto Scaling's `XmlStringMaxLen255`: 1-255 UTF-16 units (Java's length, so a character outside the BMP counts
 * two) of `[\u0020-\uD7FF\uE000-\uFFFD]` or a surrogate pair, less the tab and line breaks the model also
 * allows and no group or alarm name has. No `u` flag: the lookahead counts units as Java does.
 */
const XML_STRING_255 = /^(?=[^]{1,255}$)(?:[\u0020-\uD7FF\uE000-\uFFFD]|[\uD800-\uDBFF][\uDC00-\uDFFF])+$/;
const GROUP_NAME = XML_STRING_255;
/** EC2's launch template name, or its ID. */
const LAUNCH_TEMPLATE = /^(?:lt-[0-9a-f]{17}|[a-zA-Z0-9().\-/_]{3,128})$/;
const ALARM_NAME = XML_STRING_255;
/** Auto Scaling's `AsciiStringMaxLen255` for a lifecycle hook name. */
const HOOK_NAME = /^[A-Za-z0-9\-_/]{1,255}$/;
/** Auto Scaling's limit for `CheckpointDelay` and `BakeTime`: two days. */
const TWO_DAYS = 172800;
/** The longest a self-hosted runner's job may run (five days). */
const MAX_TIMEOUT_MINUTES = 7200;
/** Minutes, fractions allowed as in a step's own `timeout-minutes`. */
const MINUTES = /^(?:\d+(?:\.\d+)?|\.\d+)$/;

export function readInputs(source?: InputSource, env: NodeJS.ProcessEnv = process.env): InstanceRefreshInputs {
  const inputs = parseInputs(
    (read): InstanceRefreshInputs => ({
      ...readRoleInputs(read, { roleRequired: false }),
      autoScalingGroupName: read.string(Input.AutoScalingGroupName, {
        required: true,
        pattern: GROUP_NAME,
        form: 'an Auto Scaling group name of 1-255 characters',
      }),
      storePath: read.string(Input.StorePath, { required: true, pattern: STORE_PATH, form: STORE_PATH_FORM }),
      // Keys are checked in crossCheck, each refusal with its reason.
      storePathTag: read.string(Input.StorePathTag, { default: STORE_PATH_TAG }),
      imageId: read.string(Input.ImageId, { pattern: AMI_ID, form: 'an AMI ID, ami- and 8 or 17 hex digits' }),
      tags: read.keyValues(Input.Tags),
      launchTemplate: read.string(Input.LaunchTemplate, {
        pattern: LAUNCH_TEMPLATE,
        form: 'a launch template ID (lt-<17 hex digits>) or name (3-128 of A-Z a-z 0-9 ( ) . - / _)',
      }),
      minHealthyPercentage: read.integer(Input.MinHealthyPercentage, { min: 0, max: 100, default: 90 })!,
      maxHealthyPercentage: read.integer(Input.MaxHealthyPercentage, { min: 100, max: 200 }),
      instanceWarmup: read.seconds(Input.InstanceWarmup, { min: 0, max: TWO_DAYS }),
      checkpointPercentages: read
        .list(Input.CheckpointPercentages, {
          separator: 'comma-or-lines',
          pattern: /^(?:100|[1-9]\d?)$/,
          form: 'a whole percentage 1-100',
        })
        .map(Number),
      checkpointDelay: read.seconds(Input.CheckpointDelay, { min: 0, max: TWO_DAYS }),
      skipMatching: read.boolean(Input.SkipMatching, true),
      autoRollback: read.boolean(Input.AutoRollback, true),
      alarms: read.list(Input.Alarms, { max: 10, pattern: ALARM_NAME, form: 'a CloudWatch alarm name' }),
      bakeTime: read.seconds(Input.BakeTime, { min: 0, max: TWO_DAYS }),
      scaleInProtectedInstances: read.oneOf(Input.ScaleInProtectedInstances, SCALE_IN_PROTECTED, 'Ignore'),
      standbyInstances: read.oneOf(Input.StandbyInstances, STANDBY, 'Ignore'),
      ifInProgress: read.oneOf(Input.IfInProgress, IF_IN_PROGRESS, 'wait'),
      wait: read.boolean(Input.Wait, true),
      timeoutMinutes: Number(
        read.string(Input.TimeoutMinutes, { default: '60', pattern: MINUTES, form: 'a number of minutes such as 30 or 0.5' }),
      ),
      pollIntervalSeconds: read.integer(Input.PollIntervalSeconds, { min: 1, max: 300, default: 15 })!,
      onAbort: read.oneOf(Input.OnAbort, ON_ABORT, 'rollback'),
      readiness: read.oneOf(Input.Readiness, READINESS, 'none'),
      lifecycleHookName: read.string(Input.LifecycleHookName, {
        pattern: HOOK_NAME,
        form: 'a lifecycle hook name of 1-255 characters from A-Z a-z 0-9 - _ /',
      }),
    }),
    source,
  );
  const problems = crossCheck(inputs);
  if (problems.length > 0) throw new InputError(problems);
  return { ...inputs, awsRegion: resolveRegion(inputs.awsRegion, env) };
}

/** What no single input shows: how inputs relate, and what the reader's forms cannot say. */
function crossCheck(inputs: InstanceRefreshInputs): Array<{ input: string; message: string }> {
  const problems: Array<{ input: string; message: string }> = [];
  const reject = (input: string, message: string) => problems.push({ input, message: `Input '${input}' ${message}` });

  const checkpoints = inputs.checkpointPercentages;
  if (checkpoints.length > 0) {
    const ascending = checkpoints.every((value, i) => i === 0 || value > checkpoints[i - 1]);
    if (!ascending || checkpoints[checkpoints.length - 1] !== 100) {
      reject(Input.CheckpointPercentages, `must be ascending and end with 100 (such as 10,50,100), got ${checkpoints.join(',')}`);
    }
  } else if (inputs.checkpointDelay !== undefined) {
    reject(Input.CheckpointDelay, `needs '${Input.CheckpointPercentages}'`);
  }
  if (!(inputs.timeoutMinutes > 0 && inputs.timeoutMinutes <= MAX_TIMEOUT_MINUTES)) {
    reject(Input.TimeoutMinutes, `must be more than 0 and at most ${MAX_TIMEOUT_MINUTES} minutes, got ${inputs.timeoutMinutes}`);
  }
  const max = inputs.maxHealthyPercentage;
  if (max !== undefined && max - inputs.minHealthyPercentage > 100) {
    reject(Input.MaxHealthyPercentage, `must be at most 100 above '${Input.MinHealthyPercentage}' (${inputs.minHealthyPercentage}), got ${max}`);
  }
  if (inputs.lifecycleHookName && inputs.readiness !== 'lifecycle-hook') {
    reject(Input.LifecycleHookName, `is only used with '${Input.Readiness}: lifecycle-hook'`);
  }
  const storePathTag = inputs.storePathTag;
  const storePathTagProblem =
    tagKeyProblem(storePathTag) ??
    environmentKeyProblem(storePathTag) ??
    ([SUBSTITUTERS_TAG, TRUSTED_PUBLIC_KEYS_TAG, ...GATE_TAGS].includes(storePathTag) ? 'is a tag the user data reads for something else' : undefined);
  if (storePathTagProblem) {
    reject(Input.StorePathTag, `must be ${TAG_KEY_FORM}, and not a tag with another use; ${JSON.stringify(storePathTag)} ${storePathTagProblem}`);
  }
  if (inputs.tags.length + 1 > MAX_TAGS_PER_RESOURCE) {
    reject(Input.Tags, `sets ${inputs.tags.length} tags; with '${Input.StorePathTag}' that is over EC2's limit of ${MAX_TAGS_PER_RESOURCE} per instance`);
  }
  for (const { key, value } of inputs.tags) {
    const keyProblem = tagKeyProblem(key) ?? ownedKeyProblem(key, storePathTag);
    if (keyProblem) reject(Input.Tags, `must not set the key ${JSON.stringify(key)}: it ${keyProblem}`);
    const valueProblem = tagValueProblem(key, value);
    if (valueProblem) reject(Input.Tags, `value of ${JSON.stringify(key)} ${valueProblem}`);
  }
  return problems;
}
