/**
 * State Manager associations: a document, its parameters and targets, rate controls and an optional schedule,
 * kept as numbered versions, and the executions that apply them. An execution runs as a Run Command command on
 * the same simulated instances (the runtime's `run`), so it follows the same queue, MaxConcurrency ramp,
 * MaxErrors budget and per-instance outcomes as SendCommand; its state is that command's, read at the clock.
 *
 * Executions start, as AWS starts them: on CreateAssociation and on every UpdateAssociation (unless
 * ApplyOnlyAtCronInterval), on StartAssociationsOnce, at each schedule tick (worked out lazily on every call, from
 * the sandbox clock), and, for an instance that appears later and matches the targets, at once for that instance
 * alone with the association's current version. A new run of the whole association stops the one still running
 * (AWS: "the earlier association times out and the new association runs"): its unfinished targets are cancelled.
 */
import { randomUUID } from 'node:crypto';
import { AwsError } from '../../errors.js';
import { resolveCommandParameters } from './command-parameters.js';
import type { CommandView } from './commands.js';
import type { DocumentStore, DocumentVersion, SsmDocument } from './documents.js';
import { parseSchedule, ticks } from './associations-schedule.js';

export interface Target {
  Key: string;
  Values: string[];
}

/** What associations need to know of a managed instance. */
export interface TargetableInstance {
  instanceId: string;
  tags: Record<string, string>;
  pingStatus: string;
}

/** One association version: the request's members as given (DocumentVersion as written, Parameters as sent). */
export interface AssociationVersionRecord {
  version: number;
  createdDate: Date;
  documentName: string;
  documentVersion?: string;
  parameters?: Record<string, string[]>;
  targets: Target[];
  /** The legacy single-instance form (`InstanceId` instead of `Targets`). */
  instanceId?: string;
  scheduleExpression?: string;
  scheduleOffset?: number;
  associationName?: string;
  maxConcurrency?: string;
  maxErrors?: string;
  applyOnlyAtCronInterval: boolean;
  complianceSeverity?: string;
  syncCompliance?: string;
  outputLocation?: unknown;
  calendarNames?: string[];
}

export type ExecutionTrigger = 'create' | 'update' | 'once' | 'schedule' | 'instance';

export interface AssociationExecutionRecord {
  executionId: string;
  associationVersion: number;
  createdAtMs: number;
  trigger: ExecutionTrigger;
  /** The Run Command command the execution runs as (its targets' `OutputSource`). */
  commandId: string;
}

export interface AssociationRecord {
  associationId: string;
  createdDate: Date;
  lastUpdateDate: Date;
  versions: AssociationVersionRecord[];
  executions: AssociationExecutionRecord[];
  /** Schedule ticks are worked out up to this time. */
  scheduledThroughMs: number;
  /** CreateAssociation's `Tags` (UpdateAssociation takes none): what `aws:ResourceTag/<key>` reads. */
  tags?: Record<string, string>;
}

/** What a run of an association hands Run Command. */
export interface RunInput {
  document: SsmDocument;
  version: DocumentVersion;
  parameters: Record<string, string[]>;
  instanceIds: string[];
  maxConcurrency: string;
  maxErrors: string;
  requestedAtMs: number;
  /** The request as a SendCommand would have carried it (for the command's wire views). */
  request: Record<string, unknown>;
}

/** The SSM service's side: its clock, documents, instances and Run Command. */
export interface AssociationRuntime {
  nowMs(): number;
  readonly documents: DocumentStore;
  instances(): Iterable<TargetableInstance>;
  /** Starts the command an execution runs as; returns its CommandId. */
  run(input: RunInput): string;
  view(commandId: string): CommandView;
  /** CancelCommand for the whole command, as of `atMs`. */
  cancel(commandId: string, atMs: number): void;
}

/** "Each association has a limit of 1,000 versions." */
export const MAX_ASSOCIATION_VERSIONS = 1000;
/** "You can have at most 2,000 active associations." */
export const MAX_ASSOCIATIONS = 2000;
/** A clock pushed far ahead runs at most this many missed ticks per association (the latest ones). */
export const MAX_CATCH_UP_TICKS = 20;
const ASSOCIATION_DEFAULTS = { maxConcurrency: '50', maxErrors: '0' } as const;

const doesNotExist = (id: unknown) =>
  new AwsError('AssociationDoesNotExist', `Association ${String(id)} does not exist.`);

/** Tag targets: values ORed within a target, targets ANDed; `InstanceIds` names instances (or `*`, all of them). */
export function matchesTargets(instance: TargetableInstance, targets: Target[]): boolean {
  if (instance.pingStatus === 'Inactive') return false;
  return targets.every((target) => {
    if (/^instanceids$/i.test(target.Key)) {
      return target.Values.includes('*') || target.Values.includes(instance.instanceId);
    }
    if (target.Key === 'tag-key') return target.Values.some((key) => Object.hasOwn(instance.tags, key));
    const key = target.Key.slice('tag:'.length);
    return Object.hasOwn(instance.tags, key) && target.Values.includes(instance.tags[key]);
  });
}

export class AssociationStore {
  private readonly associations = new Map<string, AssociationRecord>();

  constructor(private readonly runtime: AssociationRuntime) {}

  get size(): number {
    return this.associations.size;
  }

  all(): AssociationRecord[] {
    this.catchUp();
    return [...this.associations.values()];
  }

  find(associationId: unknown): AssociationRecord {
    this.catchUp();
    const association = this.associations.get(String(associationId).toLowerCase());
    if (!association) throw doesNotExist(associationId);
    return association;
  }

  add(version: AssociationVersionRecord): AssociationRecord {
    if (this.associations.size >= MAX_ASSOCIATIONS) {
      throw new AwsError('AssociationLimitExceeded', `You can have at most ${MAX_ASSOCIATIONS} active associations.`);
    }
    const now = this.runtime.nowMs();
    const association: AssociationRecord = {
      associationId: randomUUID(),
      createdDate: new Date(now),
      lastUpdateDate: new Date(now),
      versions: [version],
      executions: [],
      scheduledThroughMs: now,
    };
    this.associations.set(association.associationId, association);
    if (!version.applyOnlyAtCronInterval) this.execute(association, 'create', now);
    return association;
  }

  /** A new version; applied at once unless ApplyOnlyAtCronInterval. */
  addVersion(association: AssociationRecord, version: AssociationVersionRecord): void {
    if (association.versions.length >= MAX_ASSOCIATION_VERSIONS) {
      throw new AwsError(
        'AssociationVersionLimitExceeded',
        `Association ${association.associationId} already has ${MAX_ASSOCIATION_VERSIONS} versions.`,
      );
    }
    const now = this.runtime.nowMs();
    association.versions.push(version);
    association.lastUpdateDate = new Date(now);
    association.scheduledThroughMs = now;
    if (!version.applyOnlyAtCronInterval) this.execute(association, 'update', now);
  }

  delete(association: AssociationRecord): void {
    this.associations.delete(association.associationId);
  }

  startOnce(association: AssociationRecord): void {
    this.execute(association, 'once', this.runtime.nowMs());
  }

  /** A managed instance appeared: every association whose targets it matches runs on it alone, at its current version. */
  instanceAdded(instance: TargetableInstance): void {
    this.catchUp();
    const now = this.runtime.nowMs();
    for (const association of this.associations.values()) {
      const current = latest(association);
      const targets = targetsOf(current);
      if (targets.length > 0 && matchesTargets(instance, targets)) {
        this.execute(association, 'instance', now, [instance.instanceId]);
      }
    }
  }

  /** Runs the schedule ticks due since the last call (a pushed clock runs at most MAX_CATCH_UP_TICKS of them). */
  private catchUp(): void {
    const now = this.runtime.nowMs();
    for (const association of this.associations.values()) {
      const current = latest(association);
      if (current.scheduleExpression === undefined || now <= association.scheduledThroughMs) continue;
      const due = ticks(
        parseSchedule(current.scheduleExpression),
        current.createdDate.getTime(),
        association.scheduledThroughMs,
        now,
        current.scheduleOffset,
      ).slice(-MAX_CATCH_UP_TICKS);
      association.scheduledThroughMs = now;
      for (const at of due) this.execute(association, 'schedule', at);
    }
  }

  /**
   * Starts an execution of the association's current version at `atMs`, on `only` (an instance that appeared) or
   * on every instance the targets match then. A run of the whole association cancels the one still running.
   */
  private execute(association: AssociationRecord, trigger: ExecutionTrigger, atMs: number, only?: string[]): void {
    const current = latest(association);
    const { document, version } = this.runtime.documents.resolve(current.documentName, current.documentVersion);
    const parameters = resolveCommandParameters(version.document.parameters, current.parameters);
    const instanceIds =
      only ?? [...this.runtime.instances()].filter((i) => matchesTargets(i, targetsOf(current))).map((i) => i.instanceId);
    if (!only) {
      for (const earlier of association.executions) {
        if (earlier.trigger === 'instance') continue;
        const state = this.runtime.view(earlier.commandId).status;
        if (state === 'Pending' || state === 'InProgress') this.runtime.cancel(earlier.commandId, atMs);
      }
    }
    const maxConcurrency = current.maxConcurrency ?? ASSOCIATION_DEFAULTS.maxConcurrency;
    const maxErrors = current.maxErrors ?? ASSOCIATION_DEFAULTS.maxErrors;
    const commandId = this.runtime.run({
      document,
      version,
      parameters,
      instanceIds,
      maxConcurrency,
      maxErrors,
      requestedAtMs: atMs,
      request: {
        DocumentName: document.name,
        DocumentVersion: current.documentVersion ?? '$DEFAULT',
        Parameters: current.parameters ?? {},
        Targets: targetsOf(current),
        MaxConcurrency: maxConcurrency,
        MaxErrors: maxErrors,
        Comment: `State Manager association ${association.associationId}`,
      },
    });
    const executionId = randomUUID();
    association.executions.push({ executionId, associationVersion: current.version, createdAtMs: atMs, trigger, commandId });
  }
}

export const latest = (association: AssociationRecord): AssociationVersionRecord =>
  association.versions[association.versions.length - 1];

/** The legacy `InstanceId` form targets that one instance. */
export const targetsOf = (version: AssociationVersionRecord): Target[] =>
  version.instanceId === undefined ? version.targets : [{ Key: 'InstanceIds', Values: [version.instanceId] }];
