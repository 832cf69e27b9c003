/**
 * EC2 Auto Scaling: groups (seeded by tests) and instance refreshes. The refresh timeline itself is the
 * pure state machine in `instance-refresh.ts`; this file checks what the model cannot, keeps the groups and shapes
 * answers. Every call first settles a finished refresh into its group, so what a group looks like is
 * always derived from sandbox time and never from when someone last asked.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AwsError, validationError } from '../../errors.js';
import type { Account, Operation, Service } from '../../service.js';
import type { Ec2Service, LaunchTemplate, LaunchTemplateVersion } from '../ec2/ec2.js';
import {
  ACTIVE_STATUSES,
  batchSize,
  refreshStateAt,
  type RefreshOutcome,
  type RefreshPlan,
  type RefreshRequest,
  type RefreshState,
  type SlotState,
} from './instance-refresh.js';
import {
  gateHook,
  LAUNCHING,
  lifecycleHookView,
  noActiveAction,
  putLifecycleHook,
  resolveAction,
  type ActionEvent,
  type LifecycleHook,
  type LifecycleResult,
} from './lifecycle-hooks.js';
import { bool, integer, list, text } from './query-params.js';

export interface GroupSeed {
  name: string;
  /** By ID or name; `version` as the group holds it: a number, `$Latest` or `$Default`. */
  launchTemplate: { id?: string; name?: string; version: string };
  desiredCapacity: number;
  minSize?: number;
  maxSize?: number;
  /** Group tags, propagated at launch. */
  tags?: Record<string, string>;
  /** Group tags not propagated at launch (`PropagateAtLaunch` false). */
  groupOnlyTags?: Record<string, string>;
  defaultInstanceWarmup?: number;
  availabilityZones?: string[];
}

/** How a group's instance refreshes play out, for tests. Captured when a refresh starts. */
export interface RefreshScript {
  /** How long a refresh stays Pending (default 5). */
  pendingSeconds?: number;
  /** Warmup of each replacement when neither InstanceWarmup nor the group's DefaultInstanceWarmup is set (default 60). */
  instanceSeconds?: number;
  /** The batch that brings PercentageComplete to this value or above fails its health checks. */
  failAtPercent?: number;
  failReason?: string;
  rollbackOutcome?: 'success' | 'failure';
  /** How long Cancelling lasts (default: until the batch in flight has warmed up). */
  cancelSeconds?: number;
}

export type StartError = 'LimitExceeded' | 'ResourceContention';

/** A launch template as a group or instance refers to it; `version` as held. */
interface TemplateRef {
  id: string;
  name: string;
  version: string;
}

interface GroupInstance {
  id: string;
  availabilityZone: string;
  /** With the version number the instance was launched from. */
  launchTemplate: TemplateRef;
  instanceType: string;
  imageId?: string;
  lifecycle: SlotState['lifecycle'];
  health: SlotState['health'];
}

interface Group {
  name: string;
  arn: string;
  createdTime: Date;
  launchTemplate: TemplateRef;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  defaultInstanceWarmup?: number;
  availabilityZones: string[];
  tags: Record<string, string>;
  /** Keys of `tags` that new instances do not get. */
  groupOnly: Set<string>;
  /** The instances as they were when the latest refresh started (or the group was created). */
  instances: GroupInstance[];
  /** Oldest first. */
  refreshes: InstanceRefresh[];
  script: RefreshScript;
  startError?: StartError;
  /** Lifecycle hooks by name. */
  hooks: Map<string, LifecycleHook>;
}

type Resolved = { template: LaunchTemplate; version: LaunchTemplateVersion };

interface InstanceRefresh {
  id: string;
  plan: RefreshPlan;
  outcome: RefreshOutcome;
  requests: RefreshRequest[];
  preferences: Record<string, unknown>;
  desired?: TemplateRef;
  /** The instances being replaced (positions in `Group.instances`), in order, with what replaces them. */
  slots: Array<{ position: number; replacement: GroupInstance; restoration: GroupInstance }>;
  /** Folded into its group once final. */
  settled: boolean;
  /** Lifecycle actions completed or extended for its replacements, oldest first. */
  events: ActionEvent[];
}

const DEFAULT_PENDING_SECONDS = 5;
const DEFAULT_INSTANCE_SECONDS = 60;
const DEFAULT_MAX_RECORDS = 50;

/** `MaxRecords`, which the model (with its documented 1-100, `../../models/models.ts`) has checked. */
const pageSize = (value: unknown): number => integer(value) ?? DEFAULT_MAX_RECORDS;

type ScaleInProtected = 'Refresh' | 'Ignore' | 'Wait';
type Standby = 'Terminate' | 'Ignore' | 'Wait';
/** Rollback restores the group's own version, which must therefore be a number. */
const MOVING_VERSIONS = new Set(['$Latest', '$Default']);

const instanceId = (): string => `i-${randomBytes(9).toString('hex').slice(0, 17)}`;

const groupNotFound = (name: string): AwsError =>
  validationError(`AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);

export class AutoScalingService implements Service {
  readonly name = 'autoscaling';
  readonly protocol = 'query' as const;
  readonly apiVersion = '2011-01-01';
  readonly xmlns = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';
  private readonly groups = new Map<string, Group>();
  /** What an instance calls with its instance profile's credentials: the sandbox checks their signature. */
  readonly signedOperations: ReadonlySet<string> = new Set(['CompleteLifecycleAction', 'RecordLifecycleActionHeartbeat']);

  constructor(private readonly sandbox: Account & { readonly ec2: Ec2Service }) {}

  /** Seeds a group on an existing launch template, with `desiredCapacity` running instances. */
  createGroup(seed: GroupSeed): void {
    if (this.groups.has(seed.name)) throw new Error(`group ${seed.name} already exists`);
    const { template, version } = this.sandbox.ec2.resolveVersion({
      LaunchTemplateId: seed.launchTemplate.id,
      LaunchTemplateName: seed.launchTemplate.id ? undefined : seed.launchTemplate.name,
      Version: seed.launchTemplate.version,
    });
    const availabilityZones = seed.availabilityZones ?? [`${this.sandbox.region}a`, `${this.sandbox.region}b`];
    this.groups.set(seed.name, {
      name: seed.name,
      arn:
        `arn:aws:autoscaling:${this.sandbox.region}:${this.sandbox.accountId}:autoScalingGroup:` +
        `${randomUUID()}:autoScalingGroupName/${seed.name}`,
      createdTime: this.sandbox.clock.now(),
      launchTemplate: { id: template.id, name: template.name, version: seed.launchTemplate.version },
      minSize: seed.minSize ?? 0,
      maxSize: seed.maxSize ?? Math.max(seed.desiredCapacity, 1) * 2,
      desiredCapacity: seed.desiredCapacity,
      defaultInstanceWarmup: seed.defaultInstanceWarmup,
      availabilityZones,
      tags: { ...seed.groupOnlyTags, ...seed.tags },
      groupOnly: new Set(Object.keys(seed.groupOnlyTags ?? {})),
      instances: Array.from({ length: seed.desiredCapacity }, (_, i) =>
        launch(template, version, availabilityZones[i % availabilityZones.length]),
      ),
      refreshes: [],
      script: {},
      hooks: new Map(),
    });
  }

  /** Sets how the group's next refreshes play out (merged into what was scripted before). */
  scriptRefresh(groupName: string, script: RefreshScript): void {
    const group = this.seeded(groupName);
    group.script = { ...group.script, ...script };
  }

  /** Makes the group's next StartInstanceRefresh call fail with this error. */
  failNextStart(groupName: string, code: StartError): void {
    this.seeded(groupName).startError = code;
  }

  /** The group as DescribeAutoScalingGroups answers it now. */
  describeGroup(groupName: string): Record<string, unknown> {
    return this.groupView(this.seeded(groupName), this.sandbox.clock.nowMs());
  }

  readonly operations: Record<string, Operation> = {
    DescribeAutoScalingGroups: (params: Record<string, unknown>) => {
      const names = list(params.AutoScalingGroupNames).map(String);
      const maxRecords = pageSize(params.MaxRecords);
      const filters = list(params.Filters) as Array<{ Name?: string; Values?: unknown }>;
      const now = this.sandbox.clock.nowMs();
      const groups = [...this.groups.values()]
        .filter((group) => names.length === 0 || names.includes(group.name))
        .filter((group) => filters.every((filter) => matchesFilter(group, filter)))
        .sort((a, b) => a.name.localeCompare(b.name));
      const { page, nextToken } = paginate(groups, text(params.NextToken), maxRecords);
      return { AutoScalingGroups: page.map((group) => this.groupView(group, now)), NextToken: nextToken };
    },

    StartInstanceRefresh: (params: Record<string, unknown>) => {
      // The model has checked every member's type and limits; what is left is what it cannot express.
      if (params.Strategy === 'ReplaceRootVolume') {
        throw validationError('The sandbox supports the Rolling strategy only, not ReplaceRootVolume.');
      }
      const prefs = readPreferences((params.Preferences ?? {}) as Record<string, unknown>);
      const group = this.group(String(params.AutoScalingGroupName));
      takeStartError(group);
      checkPreferences(prefs);
      const desired = this.desiredTemplate(params.DesiredConfiguration);
      checkAutoRollback(prefs.autoRollback, group.launchTemplate.version, desired?.ref);
      const now = this.sandbox.clock.nowMs();
      this.settle(group, now);
      if (this.activeRefresh(group, now)) {
        throw new AwsError(
          'InstanceRefreshInProgress',
          'An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.',
        );
      }
      const refresh = this.newRefresh(group, prefs, desired, now);
      group.refreshes.push(refresh);
      return { InstanceRefreshId: refresh.id };
    },

    DescribeInstanceRefreshes: (params: Record<string, unknown>) => {
      const name = String(params.AutoScalingGroupName);
      const maxRecords = pageSize(params.MaxRecords);
      const group = this.group(name);
      const ids = list(params.InstanceRefreshIds).map(String);
      const now = this.sandbox.clock.nowMs();
      this.settle(group, now);
      const refreshes = [...group.refreshes].reverse().filter((r) => ids.length === 0 || ids.includes(r.id));
      const { page, nextToken } = paginate(refreshes, text(params.NextToken), maxRecords);
      return { InstanceRefreshes: page.map((refresh) => refreshView(group, refresh, now)), NextToken: nextToken };
    },

    CancelInstanceRefresh: (params: Record<string, unknown>) => {
      const { active, now } = this.refreshToStop(params);
      active.refresh.requests.push({ kind: 'cancel', atMs: now });
      return { InstanceRefreshId: active.refresh.id };
    },

    PutLifecycleHook: (params: Record<string, unknown>) => {
      const group = this.group(String(params.AutoScalingGroupName));
      const name = String(params.LifecycleHookName);
      group.hooks.set(name, putLifecycleHook(params, group.hooks.get(name), group.hooks.size));
      return {};
    },

    DescribeLifecycleHooks: (params: Record<string, unknown>) => {
      const group = this.group(String(params.AutoScalingGroupName));
      const names = list(params.LifecycleHookNames).map(String);
      const hooks = [...group.hooks.values()].filter((hook) => names.length === 0 || names.includes(hook.name));
      return { LifecycleHooks: hooks.map(lifecycleHookView) };
    },

    DeleteLifecycleHook: (params: Record<string, unknown>) => {
      const group = this.group(String(params.AutoScalingGroupName));
      const name = String(params.LifecycleHookName);
      if (!group.hooks.has(name)) {
        throw validationError(`No Lifecycle Hook found with name ${name} for Auto Scaling group ${group.name}`);
      }
      // "If there are any outstanding lifecycle actions, they are completed first (ABANDON for launching instances)."
      const now = this.sandbox.clock.nowMs();
      for (const slot of this.waitingSlots(group, name, {}, now)) {
        slot.refresh.events.push({ slot: slot.index, hook: name, kind: 'complete', atMs: now, result: 'ABANDON' });
      }
      group.hooks.delete(name);
      return {};
    },

    CompleteLifecycleAction: (params: Record<string, unknown>) => {
      this.recordAction(params, 'complete', text(params.LifecycleActionResult) as LifecycleResult);
      return {};
    },

    RecordLifecycleActionHeartbeat: (params: Record<string, unknown>) => {
      this.recordAction(params, 'heartbeat');
      return {};
    },

    RollbackInstanceRefresh: (params: Record<string, unknown>) => {
      const { group, active, now } = this.refreshToStop(params);
      if (active.state.status === 'RollbackInProgress') {
        throw irreversible('The instance refresh is already being rolled back.');
      }
      if (!active.refresh.desired) {
        throw irreversible('The instance refresh cannot be rolled back because it was started without a desired configuration.');
      }
      if (MOVING_VERSIONS.has(group.launchTemplate.version)) {
        throw irreversible(
          `The instance refresh cannot be rolled back because the Auto Scaling group uses the launch template ` +
            `version ${group.launchTemplate.version}. Rollback needs a version number.`,
        );
      }
      active.refresh.requests.push({ kind: 'rollback', atMs: now });
      return { InstanceRefreshId: active.refresh.id };
    },
  };

  /** Records a completion or heartbeat for the waiting action it names, or answers AWS's "No active Lifecycle Action". */
  private recordAction(params: Record<string, unknown>, kind: ActionEvent['kind'], result?: LifecycleResult): void {
    const by = { instanceId: text(params.InstanceId), token: text(params.LifecycleActionToken) };
    if (by.instanceId === undefined && by.token === undefined) {
      throw validationError('Either LifecycleActionToken or InstanceId must be specified.');
    }
    const group = this.group(String(params.AutoScalingGroupName));
    const hook = String(params.LifecycleHookName);
    const now = this.sandbox.clock.nowMs();
    const [slot] = this.waitingSlots(group, hook, by, now);
    if (!slot) throw noActiveAction(by);
    slot.refresh.events.push({ slot: slot.index, hook, kind, atMs: now, result });
  }

  /**
   * The replacements of the group's refresh whose action for `hook` is open at `now`: in `Pending:Wait` and not yet
   * ended for that hook; only those `by` names (token or instance ID) when given.
   */
  private waitingSlots(group: Group, hook: string, by: { instanceId?: string; token?: string }, now: number) {
    this.settle(group, now);
    const active = this.activeRefresh(group, now);
    const gate = active?.refresh.plan.hooks?.find((h) => h.name === hook);
    if (!active || !gate || active.state.batchLaunchMs === undefined) return [];
    const { refresh, state } = active;
    const launchMs = state.batchLaunchMs!;
    return state.slots.flatMap((slot, i) => {
      // A rollback's instance has its own lifecycle action, after the replacements'.
      const index = slot.generation === 2 ? state.slots.length + i : i;
      const replacement = refresh.plan.replacements![index];
      const named =
        by.token !== undefined ? replacement.tokens[hook] === by.token : by.instanceId === undefined || replacement.instanceId === by.instanceId;
      const open = slot.lifecycle === 'Pending:Wait' && resolveAction(gate, launchMs, eventsOf(refresh, index, hook), now) === undefined;
      return named && open ? [{ refresh, index }] : [];
    });
  }

  /** A refresh of `group` to `desired` (the group's own version when absent), starting at `now`. */
  private newRefresh(
    group: Group,
    prefs: StartPreferences,
    desired: { ref: TemplateRef; resolved: Resolved } | undefined,
    now: number,
  ): InstanceRefresh {
    const current = this.sandbox.ec2.resolveVersion({
      LaunchTemplateId: group.launchTemplate.id,
      Version: group.launchTemplate.version,
    });
    const to = desired?.resolved ?? current;
    const onTarget = (instance: GroupInstance): boolean =>
      instance.launchTemplate.id === to.template.id && instance.launchTemplate.version === String(to.version.number);
    const positions = group.instances.flatMap((instance, position) =>
      prefs.skipMatching && onTarget(instance) ? [] : [position],
    );
    // EC2 refuses every launch of the new instances when their tags cannot be served by instance metadata: the
    // first batch fails, as it would on AWS after its launch attempts.
    const launchError = this.sandbox.ec2.launchError(to.version.data, this.propagatedTags(group));
    const slots = positions.map((position) => {
      const old = group.instances[position];
      return {
        position,
        replacement: launch(to.template, to.version, old.availabilityZone),
        restoration: launch(current.template, current.version, old.availabilityZone),
      };
    });
    // Launching hooks as they are now hold every launch: the replacements, and the instances a rollback launches
    // (after them in `replacements`, slot n + i for slot i's restoration).
    const hooks = [...group.hooks.values()].filter((hook) => hook.transition === LAUNCHING);
    const plan: RefreshPlan = {
      ...refreshPlan(group, prefs, positions.length, now),
      hooks: hooks.map(gateHook),
      replacements: [...slots.map((slot) => slot.replacement), ...slots.map((slot) => slot.restoration)].map((instance) => ({
        instanceId: instance.id,
        tokens: Object.fromEntries(hooks.map((hook) => [hook.name, randomUUID()])),
      })),
    };
    return {
      id: randomUUID(),
      plan,
      outcome: refreshOutcome(group.script, launchError),
      requests: [],
      preferences: preferencesView(prefs),
      desired: desired?.ref,
      slots,
      settled: false,
      events: [],
    };
  }

  /** The active refresh a cancel or a rollback acts on; neither acts on one that is already cancelling. */
  private refreshToStop(params: Record<string, unknown>) {
    const name = String(params.AutoScalingGroupName);
    const group = this.group(name);
    const now = this.sandbox.clock.nowMs();
    this.settle(group, now);
    const active = this.activeRefresh(group, now);
    if (!active || active.state.status === 'Cancelling') throw noActiveRefresh(name);
    return { group, active, now };
  }

  /** The group's tags that Auto Scaling puts on the instances it launches. */
  private propagatedTags(group: Group): Record<string, string> {
    return Object.fromEntries(Object.entries(group.tags).filter(([key]) => !group.groupOnly.has(key)));
  }

  private seeded(name: string): Group {
    const group = this.groups.get(name);
    if (!group) throw new Error(`no group ${name} was seeded`);
    return group;
  }

  private group(name: string): Group {
    const group = this.groups.get(name);
    if (!group) throw groupNotFound(name);
    return group;
  }

  /** The requested desired launch template, resolved; EC2's not-found answers become Auto Scaling's ValidationError. */
  private desiredTemplate(configuration: unknown): { ref: TemplateRef; resolved: Resolved } | undefined {
    if (configuration === undefined) return undefined;
    const { LaunchTemplate: spec, MixedInstancesPolicy: mixed } = configuration as Record<string, unknown>;
    if (mixed !== undefined) {
      throw validationError('The sandbox supports a desired configuration with a LaunchTemplate only, not a MixedInstancesPolicy.');
    }
    if (spec === undefined) {
      throw validationError("The request isn't valid. A desired configuration must specify a LaunchTemplate or a MixedInstancesPolicy.");
    }
    const { LaunchTemplateId, LaunchTemplateName, Version } = spec as Record<string, string | undefined>;
    const version = Version ?? '$Default';
    try {
      const resolved = this.sandbox.ec2.resolveVersion({ LaunchTemplateId, LaunchTemplateName, Version: version });
      return { ref: { id: resolved.template.id, name: resolved.template.name, version }, resolved };
    } catch (error) {
      if (error instanceof AwsError) {
        throw validationError(`You must use a valid fully-formed launch template. ${error.message}`);
      }
      throw error;
    }
  }

  private latest(group: Group): InstanceRefresh | undefined {
    return group.refreshes[group.refreshes.length - 1];
  }

  private activeRefresh(group: Group, now: number): { refresh: InstanceRefresh; state: RefreshState } | undefined {
    const refresh = this.latest(group);
    if (!refresh || refresh.settled) return undefined;
    const state = stateOf(refresh, now);
    return ACTIVE_STATUSES.has(state.status) ? { refresh, state } : undefined;
  }

  /** Folds a finished refresh into its group: its instances, and on success the desired launch template. */
  private settle(group: Group, now: number): void {
    const refresh = this.latest(group);
    if (!refresh || refresh.settled) return;
    const state = stateOf(refresh, now);
    if (ACTIVE_STATUSES.has(state.status)) return;
    group.instances = instancesNow(group, refresh, state);
    if (state.status === 'Successful' && refresh.desired) group.launchTemplate = refresh.desired;
    refresh.settled = true;
  }

  private groupView(group: Group, now: number): Record<string, unknown> {
    this.settle(group, now);
    const refresh = this.latest(group);
    const instances = refresh && !refresh.settled ? instancesNow(group, refresh, stateOf(refresh, now)) : group.instances;
    return {
      AutoScalingGroupName: group.name,
      AutoScalingGroupARN: group.arn,
      LaunchTemplate: templateView(group.launchTemplate),
      MinSize: group.minSize,
      MaxSize: group.maxSize,
      DesiredCapacity: group.desiredCapacity,
      DefaultCooldown: 300,
      AvailabilityZones: group.availabilityZones,
      LoadBalancerNames: [],
      TargetGroupARNs: [],
      HealthCheckType: 'EC2',
      Instances: instances.map((instance) => ({
        InstanceId: instance.id,
        InstanceType: instance.instanceType,
        AvailabilityZone: instance.availabilityZone,
        LifecycleState: instance.lifecycle,
        HealthStatus: instance.health,
        LaunchTemplate: templateView(instance.launchTemplate),
        ImageId: instance.imageId,
        ProtectedFromScaleIn: false,
      })),
      CreatedTime: group.createdTime,
      SuspendedProcesses: [],
      EnabledMetrics: [],
      Tags: Object.entries(group.tags).map(([Key, Value]) => ({
        ResourceId: group.name,
        ResourceType: 'auto-scaling-group',
        Key,
        Value,
        PropagateAtLaunch: !group.groupOnly.has(Key),
      })),
      TerminationPolicies: ['Default'],
      NewInstancesProtectedFromScaleIn: false,
      ServiceLinkedRoleARN:
        `arn:aws:iam::${this.sandbox.accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
      DefaultInstanceWarmup: group.defaultInstanceWarmup,
      TrafficSources: [],
    };
  }
}

/** StartInstanceRefresh's preferences, read (the model has checked their types and ranges). */
interface StartPreferences {
  minHealthy?: number;
  maxHealthy?: number;
  warmup?: number;
  checkpoints: number[];
  checkpointDelay?: number;
  bakeTime?: number;
  scaleIn?: ScaleInProtected;
  standby?: Standby;
  autoRollback: boolean;
  skipMatching: boolean;
  alarms?: unknown[];
}

function readPreferences(prefs: Record<string, unknown>): StartPreferences {
  return {
    minHealthy: integer(prefs.MinHealthyPercentage),
    maxHealthy: integer(prefs.MaxHealthyPercentage),
    warmup: integer(prefs.InstanceWarmup),
    checkpoints: list(prefs.CheckpointPercentages).map(Number),
    checkpointDelay: integer(prefs.CheckpointDelay),
    bakeTime: integer(prefs.BakeTime),
    scaleIn: text(prefs.ScaleInProtectedInstances) as ScaleInProtected | undefined,
    standby: text(prefs.StandbyInstances) as Standby | undefined,
    autoRollback: bool(prefs.AutoRollback) ?? false,
    skipMatching: bool(prefs.SkipMatching) ?? false,
    alarms: prefs.AlarmSpecification ? list((prefs.AlarmSpecification as Record<string, unknown>).Alarms) : undefined,
  };
}

/** The rules between preferences that Auto Scaling documents and the model cannot express. */
function checkPreferences({ minHealthy, maxHealthy, checkpoints, checkpointDelay }: StartPreferences): void {
  const invalid = (why: string) => validationError(`The request isn't valid. ${why}`);
  if (maxHealthy !== undefined && minHealthy === undefined) {
    throw invalid('You must specify MinHealthyPercentage when you specify MaxHealthyPercentage.');
  }
  if (maxHealthy !== undefined && minHealthy !== undefined && maxHealthy - minHealthy > 100) {
    throw invalid("The difference between MaxHealthyPercentage and MinHealthyPercentage can't be greater than 100.");
  }
  if (checkpointDelay !== undefined && checkpoints.length === 0) {
    throw invalid('CheckpointDelay can only be specified together with CheckpointPercentages.');
  }
  if (checkpoints.some((cp, i) => i > 0 && cp <= checkpoints[i - 1])) {
    throw invalid('CheckpointPercentages must be unique and in ascending order.');
  }
}

/** AutoRollback needs a desired configuration, and version numbers to roll back to. */
function checkAutoRollback(autoRollback: boolean, groupVersion: string, desired: TemplateRef | undefined): void {
  if (!autoRollback) return;
  if (!desired) {
    throw validationError(
      "The request isn't valid. The AutoRollback parameter cannot be set to true when the DesiredConfiguration " +
        'parameter is empty. Set AutoRollback to false or specify a desired configuration and try again.',
    );
  }
  // AWS documents the group's version; the desired one is refused too, so that a group which succeeds
  // ends on a version number that a later refresh can roll back to.
  if ([groupVersion, desired.version].some((v) => MOVING_VERSIONS.has(v))) {
    throw validationError(
      "The request isn't valid. The AutoRollback parameter cannot be set to true when the Auto Scaling group or " +
        'the desired configuration uses the $Latest or $Default launch template version. Specify a version number and try again.',
    );
  }
}

/** The error a test scripted for the group's next start (`failNextStart`), used up. */
function takeStartError(group: Group): void {
  const code = group.startError;
  if (!code) return;
  group.startError = undefined;
  throw code === 'LimitExceeded'
    ? new AwsError('LimitExceeded', 'You have reached the limit on the number of instance refreshes.', 400)
    : new AwsError(
        'ResourceContention',
        'You already have a pending update to an Auto Scaling resource (for example, a group, instance, or load balancer).',
        500,
        'Sender',
      );
}

function refreshPlan(group: Group, prefs: StartPreferences, replacing: number, now: number): RefreshPlan {
  const total = group.instances.length;
  const script = group.script;
  return {
    startMs: now,
    total,
    skipped: total - replacing,
    batchSize: batchSize(total, prefs.minHealthy ?? 90, prefs.maxHealthy ?? 100),
    warmupMs: 1000 * (prefs.warmup ?? group.defaultInstanceWarmup ?? script.instanceSeconds ?? DEFAULT_INSTANCE_SECONDS),
    pendingMs: 1000 * (script.pendingSeconds ?? DEFAULT_PENDING_SECONDS),
    checkpoints: prefs.checkpoints,
    checkpointDelayMs: 1000 * (prefs.checkpointDelay ?? 3600),
    bakeMs: 1000 * (prefs.bakeTime ?? 0),
    autoRollback: prefs.autoRollback,
  };
}

/** A launch EC2 refuses fails the first batch; otherwise the test's script decides. */
function refreshOutcome(script: RefreshScript, launchError: string | undefined): RefreshOutcome {
  return {
    failAtPercent: launchError ? 0 : script.failAtPercent,
    failReason: launchError ? `Instance refresh failed to launch replacement instances: ${launchError}` : script.failReason,
    rollbackOutcome: script.rollbackOutcome,
    cancelMs: script.cancelSeconds === undefined ? undefined : 1000 * script.cancelSeconds,
  };
}

/** The preferences as DescribeInstanceRefreshes shows them, defaults filled in as AWS does. */
function preferencesView(prefs: StartPreferences): Record<string, unknown> {
  const checkpointed = prefs.checkpoints.length > 0;
  return {
    MinHealthyPercentage: prefs.minHealthy ?? 90,
    MaxHealthyPercentage: prefs.maxHealthy ?? 100,
    InstanceWarmup: prefs.warmup,
    CheckpointPercentages: checkpointed ? prefs.checkpoints : undefined,
    CheckpointDelay: checkpointed ? (prefs.checkpointDelay ?? 3600) : undefined,
    SkipMatching: prefs.skipMatching,
    AutoRollback: prefs.autoRollback,
    ScaleInProtectedInstances: prefs.scaleIn ?? 'Wait',
    StandbyInstances: prefs.standby ?? 'Wait',
    AlarmSpecification: prefs.alarms ? { Alarms: prefs.alarms } : undefined,
    BakeTime: prefs.bakeTime,
  };
}

function launch(template: LaunchTemplate, version: LaunchTemplateVersion, availabilityZone: string): GroupInstance {
  const data = version.data;
  return {
    id: instanceId(),
    availabilityZone,
    launchTemplate: { id: template.id, name: template.name, version: String(version.number) },
    instanceType: typeof data.InstanceType === 'string' ? data.InstanceType : 't3.micro',
    imageId: typeof data.ImageId === 'string' ? data.ImageId : undefined,
    lifecycle: 'InService',
    health: 'Healthy',
  };
}

const stateOf = (refresh: InstanceRefresh, now: number): RefreshState =>
  refreshStateAt(refresh.plan, refresh.outcome, refresh.requests, now, refresh.events);

const eventsOf = (refresh: InstanceRefresh, slot: number, hook: string): ActionEvent[] =>
  refresh.events.filter((e) => e.slot === slot && e.hook === hook);

/** The group's instances with each replaced one swapped for the generation the refresh has reached. */
function instancesNow(group: Group, refresh: InstanceRefresh, state: RefreshState): GroupInstance[] {
  const instances = [...group.instances];
  refresh.slots.forEach((slot, i) => {
    const { generation, lifecycle, health } = state.slots[i];
    if (generation === 0) return;
    const instance = generation === 1 ? slot.replacement : slot.restoration;
    instances[slot.position] = { ...instance, lifecycle, health };
  });
  return instances;
}

const templateView = (ref: TemplateRef) => ({
  LaunchTemplateId: ref.id,
  LaunchTemplateName: ref.name,
  Version: ref.version,
});

function refreshView(group: Group, refresh: InstanceRefresh, now: number): Record<string, unknown> {
  const state = stateOf(refresh, now);
  const progress = (percentage: number, toUpdate: number) => ({
    LivePoolProgress: { PercentageComplete: percentage, InstancesToUpdate: toUpdate },
  });
  const rollback = state.rollback;
  return {
    InstanceRefreshId: refresh.id,
    AutoScalingGroupName: group.name,
    Status: state.status,
    StatusReason: state.statusReason,
    StartTime: new Date(refresh.plan.startMs),
    EndTime: state.endMs === undefined ? undefined : new Date(state.endMs),
    PercentageComplete: state.percentageComplete,
    InstancesToUpdate: state.instancesToUpdate,
    ProgressDetails: progress(state.percentageComplete, state.instancesToUpdate),
    Preferences: refresh.preferences,
    DesiredConfiguration: refresh.desired ? { LaunchTemplate: templateView(refresh.desired) } : undefined,
    RollbackDetails: rollback && {
      RollbackReason: rollback.reason,
      RollbackStartTime: new Date(rollback.startMs),
      PercentageCompleteOnRollback: rollback.percentageCompleteOnRollback,
      InstancesToUpdateOnRollback: rollback.instancesToUpdateOnRollback,
      ProgressDetailsOnRollback: progress(rollback.percentageCompleteOnRollback, rollback.instancesToUpdateOnRollback),
    },
    Strategy: 'Rolling',
  };
}

function matchesFilter(group: Group, filter: { Name?: string; Values?: unknown }): boolean {
  const values = list(filter.Values).map(String);
  const tags = Object.entries(group.tags);
  if (filter.Name === 'tag-key') return tags.some(([key]) => values.includes(key));
  if (filter.Name === 'tag-value') return tags.some(([, value]) => values.includes(value));
  if (filter.Name?.startsWith('tag:')) {
    const value = group.tags[filter.Name.slice('tag:'.length)];
    return value !== undefined && values.includes(value);
  }
  throw validationError(`The filter name ${filter.Name} is not valid. Valid filter names are tag-key, tag-value and tag:<key>.`);
}

/** Opaque tokens that carry the offset of the next page. */
function paginate<T>(items: T[], token: string | undefined, maxRecords: number): { page: T[]; nextToken?: string } {
  let offset = 0;
  if (token !== undefined) {
    const decoded = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
    if (!decoded) throw new AwsError('InvalidNextToken', `The token '${token}' is invalid.`);
    offset = Number(decoded[1]);
  }
  const end = offset + maxRecords;
  return {
    page: items.slice(offset, end),
    nextToken: end < items.length ? Buffer.from(`offset:${end}`).toString('base64') : undefined,
  };
}

const noActiveRefresh = (name: string): AwsError =>
  new AwsError('ActiveInstanceRefreshNotFound', `No in progress or pending Instance Refresh found for Auto Scaling group ${name}`);

const irreversible = (message: string): AwsError => new AwsError('IrreversibleInstanceRefresh', message);
