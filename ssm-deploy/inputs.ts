/** The inputs of ssm-deploy: their names, defaults and the typed object the action works with. */
import * as core from '../shared/actions-core.js';
import { InputError, parseInputs, shown, type InputSource } from '../shared/inputs.js';
import { resolveRegion } from '../shared/region.js';
import { readRoleInputs, RoleInput, type RoleInputs } from '../shared/role-inputs.js';
import { STORE_PATH, STORE_PATH_FORM } from '../shared/store-path.js';
import { DOCUMENT, type DocumentParameterName } from './document.js';
import { documentParameterProblems, documentParameters } from './plan.js';
import {
  PUBLIC_KEY,
  PUBLIC_KEY_FORM,
  refusedSettingsNote,
  SUBSTITUTER,
  SUBSTITUTER_FORM,
  SUBSTITUTER_SETTINGS,
} from '../shared/store-uri.js';

export const Input = {
  ...RoleInput,
  Mode: 'mode',
  AssociationName: 'association-name',
  EnvironmentTag: 'environment-tag',
  Schedule: 'schedule',
  OnFailure: 'on-failure',
  OnAbort: 'on-abort',
  Targets: 'targets',
  InstanceIds: 'instance-ids',
  StorePath: 'store-path',
  Action: 'action',
  Substituters: 'substituters',
  TrustedPublicKeys: 'trusted-public-keys',
  HealthCheckUnits: 'health-check-units',
  HealthCheckUrl: 'health-check-url',
  HealthCheckTimeoutSeconds: 'health-check-timeout-seconds',
  RollbackOnFailure: 'rollback-on-failure',
  DocumentName: 'document-name',
  ManageDocument: 'manage-document',
  MaxConcurrency: 'max-concurrency',
  MaxErrors: 'max-errors',
  ExecutionTimeoutSeconds: 'execution-timeout-seconds',
  DeliveryTimeoutSeconds: 'delivery-timeout-seconds',
  CloudwatchLogGroup: 'cloudwatch-log-group',
  OutputS3Bucket: 'output-s3-bucket',
  Wait: 'wait',
  TimeoutMinutes: 'timeout-minutes',
  PollIntervalSeconds: 'poll-interval-seconds',
} as const;

export const ACTIONS = ['switch', 'boot', 'reboot', 'dry-activate'] as const;
export const MODES = ['command', 'association'] as const;
/** After a failed association deploy: return the association to the parameters it had, or keep the new ones. */
export const ON_FAILURE = ['revert', 'keep'] as const;
/** After a timeout or a cancellation in association mode (SSM cannot cancel an association's execution). */
export const ON_ABORT = ['revert', 'leave'] as const;

/** The input each document parameter's value comes from. */
const PARAMETER_INPUT: Record<DocumentParameterName, string> = {
  storePath: Input.StorePath,
  action: Input.Action,
  substituters: Input.Substituters,
  trustedPublicKeys: Input.TrustedPublicKeys,
  healthCheckUnits: Input.HealthCheckUnits,
  healthCheckUrl: Input.HealthCheckUrl,
  healthCheckTimeoutSeconds: Input.HealthCheckTimeoutSeconds,
  rollbackOnFailure: Input.RollbackOnFailure,
  executionTimeout: Input.ExecutionTimeoutSeconds,
};
/** Lists that travel space separated in one parameter value (see `documentParameters`). */
const JOINED_INPUTS: ReadonlySet<string> = new Set([Input.Substituters, Input.TrustedPublicKeys, Input.HealthCheckUnits]);

/** One `Targets` entry of `SendCommand`: `{ Key: 'tag:Role', Values: ['web', 'api'] }`. */
export interface TagTarget {
  Key: string;
  Values: string[];
}

export interface SsmDeployInputs extends RoleInputs {
  mode: (typeof MODES)[number];
  /** `''` in command mode. */
  associationName: string;
  /** The `Environment` tag a created association gets; `''`: none. */
  environmentTag: string;
  /** `rate(...)` or `cron(...)`; `''` for apply on change only. */
  schedule: string;
  onFailure: (typeof ON_FAILURE)[number];
  onAbort: (typeof ON_ABORT)[number];
  targets: TagTarget[];
  instanceIds: string[];
  storePath: string;
  action: (typeof ACTIONS)[number];
  substituters: string[];
  trustedPublicKeys: string[];
  healthCheckUnits: string[];
  /** `''` for no URL check. */
  healthCheckUrl: string;
  healthCheckTimeoutSeconds: number;
  rollbackOnFailure: boolean;
  documentName: string;
  manageDocument: boolean;
  maxConcurrency: string;
  maxErrors: string;
  executionTimeoutSeconds: number;
  deliveryTimeoutSeconds: number;
  cloudwatchLogGroup: string;
  outputS3Bucket: string;
  wait: boolean;
  timeoutMinutes: number;
  pollIntervalSeconds: number;
}

/**
 * SSM allows at most 5 targets and 50 values a target. The key is SendCommand's `Target.Key` pattern
 * (`[\p{L}\p{Z}\p{N}_.:/=\-@]*`, here without `=`, which separates key from values, and not starting with a space)
 * on a tag key of at most 128 characters; values never hold a comma.
 */
const TARGET = /^tag:[\p{L}\p{N}_.:/@-][\p{L}\p{Z}\p{N}_.:/@-]{0,127}=[^,]{1,256}(?:,[^,]{1,256}){0,49}$/u;
const TARGET_FORM = 'a tag selector tag:Key=Value1,Value2 (at most 50 values)';
/** SSM's `InstanceId`: EC2 instances and hybrid managed nodes. */
const INSTANCE_ID = /^(?:i-(?:[0-9a-f]{8}|[0-9a-f]{17})|mi-[0-9a-f]{17})$/;
/**
 * What reaches the instance's shell environment is held to plain URI and key characters, so that no value can
 * carry quoting or expansion (the document checks the same again). Substituters and public keys: shared/store-uri.ts.
 */
const UNIT = /^[A-Za-z0-9:_.@-]{1,240}\.(?:service|socket|target|timer|mount|automount|path|swap|slice|scope|device)$/;
const LOOPBACK_URL = /^http:\/\/(?:localhost|127\.0\.0\.1)(?::\d{1,5})?(?:\/[A-Za-z0-9._~:/?#@!&+,;=%-]*)?$/;
/** SendCommand's `DocumentName` (a name, or the ARN of a shared document). */
const DOCUMENT_NAME = /^[a-zA-Z0-9_\-.:/]{3,128}$/;
/** CreateDocument's and UpdateDocument's `Name`, which the action needs when it manages the document. */
const MANAGED_DOCUMENT_NAME = /^[a-zA-Z0-9_\-.]{3,128}$/;
/** SSM reserves these prefixes for AWS's own documents: CreateDocument refuses them. */
const RESERVED_DOCUMENT_PREFIX = /^(?:aws|amazon|amzn)/i;
/** SendCommand's own patterns, within its limit of 7 characters. */
const MAX_CONCURRENCY = /^(?:[1-9]\d{0,6}|[1-9]\d?%|100%)$/;
const MAX_ERRORS = /^(?:0|[1-9]\d{0,6}|[1-9]?\d%|100%)$/;
const LOG_GROUP = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const MAX_TIMEOUT_MINUTES = 7200;
/** CreateAssociation's `AssociationName`. */
const ASSOCIATION_NAME = /^[a-zA-Z0-9_\-.]{3,128}$/;
/**
 * State Manager's schedules (Systems Manager's "Reference: Cron and rate expressions", associations): a rate of 30
 * minutes or more and less than 31 days, the unit singular for 1 and plural otherwise (`rate(1 hour)`,
 * `rate(7 days)`; see {@link scheduleProblem}); or `cron(...)` of six fields (minutes, hours, day of month, month,
 * day of week, year; seven with a leading seconds field of 0) from digits, names and `* ? , - / # L W`. SSM checks
 * what a cron's fields may say itself (InvalidSchedule); this holds the form, within `ScheduleExpression`'s 256.
 */
const SCHEDULE = /^(?:rate\([1-9]\d{0,5} (?:minutes?|hours?|days?)\)|cron\((?:0 )?[0-9A-Za-z*?,/#-]+(?: [0-9A-Za-z*?,/#-]+){5}\))$/;
const SCHEDULE_FORM = 'rate(N minutes|hours|days) from 30 minutes to 30 days, or cron(...) of six fields';
const RATE_MINUTES: Record<string, number> = { minute: 1, hour: 60, day: 1440 };

/** Why a rate that has the form cannot be an association's schedule, or `undefined`. */
function scheduleProblem(schedule: string): string | undefined {
  const rate = /^rate\((\d+) (minute|hour|day)(s?)\)$/.exec(schedule);
  if (!rate) return undefined;
  const value = Number(rate[1]);
  if ((value === 1) === (rate[3] === 's')) return 'the unit is singular for 1 and plural otherwise';
  const minutes = value * RATE_MINUTES[rate[2]];
  if (minutes < 30 || minutes >= 31 * 1440) return 'a rate must be 30 minutes or more and less than 31 days';
  return undefined;
}
/** Minutes, fractions allowed as in a step's own `timeout-minutes`. */
const MINUTES = /^(?:\d+(?:\.\d+)?|\.\d+)$/;

/** Inputs of one mode only: given with the other mode, they would be ignored, so they are refused. */
const ASSOCIATION_ONLY = [Input.AssociationName, Input.EnvironmentTag, Input.Schedule, Input.OnFailure, Input.OnAbort] as const;
const COMMAND_ONLY = [Input.DeliveryTimeoutSeconds] as const;

export function readInputs(source?: InputSource, env: NodeJS.ProcessEnv = process.env): SsmDeployInputs {
  // Which inputs the step was given (not defaulted): action.yml declares no default for a mode's own inputs.
  const given = new Set<string>();
  const read = source ?? ((name: string) => core.getInput(name));
  const noting: InputSource = (name) => {
    const value = read(name);
    if ((value ?? '').trim() !== '') given.add(name);
    return value;
  };
  const inputs = parseInputs(
    (read): SsmDeployInputs => ({
      ...readRoleInputs(read, { roleRequired: false }),
      mode: read.oneOf(Input.Mode, MODES, 'command'),
      associationName: read.string(Input.AssociationName, {
        pattern: ASSOCIATION_NAME,
        form: 'an association name of 3-128 characters from A-Z a-z 0-9 _ - .',
      }),
      // CreateAssociation's Tag.Value: up to 256 of letters, digits, spaces and _ . : / = + - @.
      environmentTag: read.string(Input.EnvironmentTag, {
        pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u,
        form: 'a tag value of 1-256 letters, digits, spaces and _ . : / = + - @',
      }),
      schedule: read.string(Input.Schedule, { pattern: SCHEDULE, form: SCHEDULE_FORM }),
      onFailure: read.oneOf(Input.OnFailure, ON_FAILURE, 'revert'),
      onAbort: read.oneOf(Input.OnAbort, ON_ABORT, 'revert'),
      targets: read.list(Input.Targets, { max: 5, pattern: TARGET, form: TARGET_FORM }).map(toTarget),
      instanceIds: read.list(Input.InstanceIds, {
        separator: 'comma-or-lines',
        max: 50,
        pattern: INSTANCE_ID,
        form: 'an instance ID (i-0123456789abcdef0)',
      }),
      storePath: read.string(Input.StorePath, { required: true, pattern: STORE_PATH, form: STORE_PATH_FORM }),
      action: read.oneOf(Input.Action, ACTIONS, 'switch'),
      substituters: read.list(Input.Substituters, {
        separator: 'whitespace',
        pattern: SUBSTITUTER,
        form: SUBSTITUTER_FORM,
        why: (uri) => refusedSettingsNote(uri, SUBSTITUTER_SETTINGS),
      }),
      trustedPublicKeys: read.list(Input.TrustedPublicKeys, {
        separator: 'whitespace',
        pattern: PUBLIC_KEY,
        form: PUBLIC_KEY_FORM,
      }),
      healthCheckUnits: read.list(Input.HealthCheckUnits, {
        pattern: UNIT,
        form: 'a systemd unit name such as nginx.service',
      }),
      healthCheckUrl: read.string(Input.HealthCheckUrl, {
        pattern: LOOPBACK_URL,
        form: 'a URL on the instance itself, http://localhost... or http://127.0.0.1...',
      }),
      healthCheckTimeoutSeconds: read.integer(Input.HealthCheckTimeoutSeconds, { min: 1, max: 3600, default: 60 })!,
      rollbackOnFailure: read.boolean(Input.RollbackOnFailure, true),
      documentName: read.string(Input.DocumentName, {
        default: 'NixOS-Deploy',
        pattern: DOCUMENT_NAME,
        form: 'an SSM document name of 3-128 characters from A-Z a-z 0-9 _ - . : /',
      }),
      manageDocument: read.boolean(Input.ManageDocument, true),
      maxConcurrency: read.string(Input.MaxConcurrency, {
        default: '50%',
        pattern: MAX_CONCURRENCY,
        form: 'a number of instances from 1 or a percentage 1%-100%',
      }),
      maxErrors: read.string(Input.MaxErrors, {
        default: '0',
        pattern: MAX_ERRORS,
        form: 'a number of instances from 0 or a percentage 0%-100% without leading zeros',
      }),
      executionTimeoutSeconds: read.integer(Input.ExecutionTimeoutSeconds, { min: 1, max: 172800, default: 3600 })!,
      deliveryTimeoutSeconds: read.integer(Input.DeliveryTimeoutSeconds, { min: 30, max: 2592000, default: 600 })!,
      cloudwatchLogGroup: read.string(Input.CloudwatchLogGroup, {
        pattern: LOG_GROUP,
        form: 'a CloudWatch Logs group name',
      }),
      outputS3Bucket: read.string(Input.OutputS3Bucket, { pattern: BUCKET, form: 'an S3 bucket name' }),
      wait: read.boolean(Input.Wait, true),
      timeoutMinutes: Number(
        read.string(Input.TimeoutMinutes, { default: '60', pattern: MINUTES, form: 'a number of minutes such as 30 or 0.5' }),
      ),
      pollIntervalSeconds: read.integer(Input.PollIntervalSeconds, { min: 1, max: 300, default: 10 })!,
    }),
    noting,
  );
  const problems = [
    ...crossCheck(inputs, given),
    ...documentParameterProblems(DOCUMENT.parameters, documentParameters(inputs), PARAMETER_INPUT, JOINED_INPUTS),
  ];
  if (problems.length > 0) throw new InputError(problems);
  return { ...inputs, awsRegion: resolveRegion(inputs.awsRegion, env) };
}

/** What no single input shows: how inputs relate, and what the reader's forms cannot say. */
function crossCheck(inputs: SsmDeployInputs, explicit: Set<string>): Array<{ input: string; message: string }> {
  const problems: Array<{ input: string; message: string }> = [...modeCheck(inputs, explicit)];
  const given = [inputs.targets.length > 0, inputs.instanceIds.length > 0].filter(Boolean).length;
  if (given !== 1) {
    const message =
      given === 0
        ? `Input '${Input.Targets}' or '${Input.InstanceIds}' is required (exactly one of the two)`
        : `Inputs '${Input.Targets}' and '${Input.InstanceIds}' exclude each other: give one of the two`;
    problems.push({ input: Input.Targets, message });
  }
  if (inputs.manageDocument && !MANAGED_DOCUMENT_NAME.test(inputs.documentName)) {
    problems.push({
      input: Input.DocumentName,
      message:
        `Input '${Input.DocumentName}' must be a document name of 3-128 characters from A-Z a-z 0-9 _ - . when ` +
        `'${Input.ManageDocument}' is true (CreateDocument takes no ARN or '/'), got ${shown(inputs.documentName)}`,
    });
  } else if (inputs.manageDocument && RESERVED_DOCUMENT_PREFIX.test(inputs.documentName)) {
    problems.push({
      input: Input.DocumentName,
      message: `Input '${Input.DocumentName}' must not start with aws, amazon or amzn when '${Input.ManageDocument}' is true (AWS reserves them), got ${shown(inputs.documentName)}`,
    });
  }
  if (!(inputs.timeoutMinutes > 0 && inputs.timeoutMinutes <= MAX_TIMEOUT_MINUTES)) {
    problems.push({
      input: Input.TimeoutMinutes,
      message: `Input '${Input.TimeoutMinutes}' must be more than 0 and at most ${MAX_TIMEOUT_MINUTES} minutes, got ${inputs.timeoutMinutes}`,
    });
  }
  return problems;
}

/** What association mode needs and command mode does not take. */
function modeCheck(inputs: SsmDeployInputs, given: Set<string>): Array<{ input: string; message: string }> {
  if (inputs.mode === 'command') {
    return ASSOCIATION_ONLY.filter((name) => given.has(name)).map((name) => ({
      input: name,
      message: `Input '${name}' applies only with '${Input.Mode}: association', not with '${Input.Mode}: command'`,
    }));
  }
  const problems: Array<{ input: string; message: string }> = COMMAND_ONLY.filter((name) => given.has(name)).map((name) => ({
    input: name,
    message: `Input '${name}' applies only with '${Input.Mode}: command', not with '${Input.Mode}: association'`,
  }));
  const scheduleWhy = inputs.schedule ? scheduleProblem(inputs.schedule) : undefined;
  if (scheduleWhy) {
    problems.push({ input: Input.Schedule, message: `Input '${Input.Schedule}' must be ${SCHEDULE_FORM}: ${scheduleWhy}, got ${shown(inputs.schedule)}` });
  }
  if (!inputs.associationName) {
    problems.push({ input: Input.AssociationName, message: `Input '${Input.AssociationName}' is required with '${Input.Mode}: association'` });
  }
  // An association follows a tag, so that instances launched later converge; a fixed list of IDs cannot.
  if (inputs.instanceIds.length > 0) {
    problems.push({
      input: Input.InstanceIds,
      message: `Input '${Input.InstanceIds}' is refused with '${Input.Mode}: association': give '${Input.Targets}' as tag selectors (tag:Key=Value), so that instances launched later converge too`,
    });
  }
  // CreateAssociation's OutputLocation holds an S3 bucket only: no CloudWatch Logs output for associations.
  if (inputs.cloudwatchLogGroup) {
    problems.push({
      input: Input.CloudwatchLogGroup,
      message: `Input '${Input.CloudwatchLogGroup}' is refused with '${Input.Mode}: association': an association's output goes to S3 only ('${Input.OutputS3Bucket}')`,
    });
  }
  return problems;
}

function toTarget(selector: string): TagTarget {
  const at = selector.indexOf('=');
  return { Key: selector.slice(0, at), Values: selector.slice(at + 1).split(',') };
}
