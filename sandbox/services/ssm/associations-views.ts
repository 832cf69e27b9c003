/**
 * State Manager's answers on the wire: `AssociationDescription` (Create/Update/DescribeAssociation), `Association`
 * (ListAssociations), `AssociationVersionInfo`, `AssociationExecution` and `AssociationExecutionTarget`, derived
 * from the Run Command state of each execution's command at the clock's time.
 *
 * Statuses: a target is Pending (also while the agent has not picked it up), InProgress, Success, Failed (Failed,
 * timed out, undeliverable...) or Cancelled (stopped: cancelled, or Terminated once MaxErrors was exceeded), its
 * DetailedStatus the invocation's own (`Success`, `Failed`, `ExecutionTimedOut`, `Undeliverable`, `Terminated`...).
 * An execution is Pending until its command's instances are known, InProgress while any target runs, then Success
 * when every target succeeded and Failed otherwise. ResourceCountByStatus counts the targets by Status as AWS writes
 * it (`{Failed=1, Success=2}`). The association's Overview is Pending (DetailedStatus Creating, or Associated with
 * ApplyOnlyAtCronInterval) until a run has been seen, Pending/InProgress while one runs, then Success or Failed from
 * each instance's latest result, with those results counted in AssociationStatusAggregatedCount.
 */
import type { CommandView, InvocationView } from './commands.js';
import type { AssociationExecutionRecord, AssociationRecord, AssociationVersionRecord } from './associations.js';
import { latest, targetsOf } from './associations.js';

export type TargetStatus = 'Pending' | 'InProgress' | 'Success' | 'Failed' | 'Cancelled';

export interface ExecutionView {
  status: 'Pending' | 'InProgress' | 'Success' | 'Failed';
  targets: { instanceId: string; status: TargetStatus; detailedStatus: string; endedAtMs?: number }[];
  /** When the last target ended (absent until one has). */
  lastEndMs?: number;
}

export function targetStatus(invocation: InvocationView): TargetStatus {
  switch (invocation.status) {
    case 'Pending':
    case 'Delayed':
      return 'Pending';
    case 'InProgress':
    case 'Cancelling':
      return 'InProgress';
    case 'Success':
      return 'Success';
    case 'Cancelled':
      return 'Cancelled';
    default:
      return 'Failed';
  }
}

/** An execution's state from its command's view (see the module's comment for the rules). */
export function executionView(command: CommandView): ExecutionView {
  const targets = command.invocations.map((invocation) => {
    const status = targetStatus(invocation);
    const done = status === 'Success' || status === 'Failed' || status === 'Cancelled';
    return {
      instanceId: invocation.instanceId,
      status,
      detailedStatus: invocation.statusDetails,
      endedAtMs: done ? invocation.endedAtMs : undefined,
    };
  });
  const ends = targets.map((t) => t.endedAtMs).filter((ms): ms is number => ms !== undefined);
  const lastEndMs = ends.length > 0 ? Math.max(...ends) : undefined;
  if (command.status === 'Pending' && targets.length === 0) return { status: 'Pending', targets, lastEndMs };
  if (['Pending', 'InProgress', 'Cancelling'].includes(command.status)) return { status: 'InProgress', targets, lastEndMs };
  return { status: targets.every((t) => t.status === 'Success') ? 'Success' : 'Failed', targets, lastEndMs };
}

/** `{Failed=1, Success=2}`: counts by status, in key order. */
export function countByStatus(statuses: string[]): string {
  const counts = new Map<string, number>();
  for (const status of statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
  const entries = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b));
  return `{${entries.map(([status, count]) => `${status}=${count}`).join(', ')}}`;
}

export function executionWire(
  association: AssociationRecord,
  execution: AssociationExecutionRecord,
  view: ExecutionView,
): Record<string, unknown> {
  return {
    AssociationId: association.associationId,
    AssociationVersion: String(execution.associationVersion),
    ExecutionId: execution.executionId,
    Status: view.status,
    DetailedStatus: view.status,
    CreatedTime: new Date(execution.createdAtMs),
    LastExecutionDate: new Date(view.lastEndMs ?? execution.createdAtMs),
    ResourceCountByStatus: countByStatus(view.targets.map((t) => t.status)),
  };
}

export function executionTargetWire(
  association: AssociationRecord,
  execution: AssociationExecutionRecord,
  target: ExecutionView['targets'][number],
): Record<string, unknown> {
  return {
    AssociationId: association.associationId,
    AssociationVersion: String(execution.associationVersion),
    ExecutionId: execution.executionId,
    ResourceId: target.instanceId,
    ResourceType: 'ManagedInstance',
    Status: target.status,
    DetailedStatus: target.detailedStatus,
    LastExecutionDate: new Date(target.endedAtMs ?? execution.createdAtMs),
    OutputSource: { OutputSourceId: execution.commandId, OutputSourceType: 'RunCommand' },
  };
}

export interface Overview {
  status: 'Pending' | 'Success' | 'Failed';
  detailedStatus: string;
  counts: Record<string, number>;
  lastExecutionMs?: number;
  lastSuccessMs?: number;
}

/** The association's Overview from its executions' views, oldest first (see the module's comment). */
export function overview(association: AssociationRecord, views: ExecutionView[]): Overview {
  const byInstance = new Map<string, TargetStatus>();
  let lastExecutionMs: number | undefined;
  let lastSuccessMs: number | undefined;
  views.forEach((view, i) => {
    for (const target of view.targets) byInstance.set(target.instanceId, target.status);
    if (view.status === 'Pending' || view.status === 'InProgress') return;
    const endedMs = view.lastEndMs ?? association.executions[i].createdAtMs;
    lastExecutionMs = endedMs;
    if (view.status === 'Success') lastSuccessMs = endedMs;
  });
  const counts: Record<string, number> = {};
  for (const status of byInstance.values()) counts[status] = (counts[status] ?? 0) + 1;
  const base = { counts, lastExecutionMs, lastSuccessMs };
  if (views.length === 0 || (views.length === 1 && views[0].status === 'Pending')) {
    const idle = latest(association).applyOnlyAtCronInterval && views.length === 0;
    return { ...base, status: 'Pending', detailedStatus: idle ? 'Associated' : 'Creating' };
  }
  if (views.some((v) => v.status === 'Pending' || v.status === 'InProgress')) {
    return { ...base, status: 'Pending', detailedStatus: 'InProgress' };
  }
  const failed = [...byInstance.values()].some((s) => s !== 'Success');
  return { ...base, status: failed ? 'Failed' : 'Success', detailedStatus: failed ? 'Failed' : 'Success' };
}

const defined = (record: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));

/** A version's members as the wire names them (shared by descriptions, list items and version infos). */
function versionMembers(version: AssociationVersionRecord): Record<string, unknown> {
  return defined({
    Name: version.documentName,
    DocumentVersion: version.documentVersion ?? '$DEFAULT',
    Parameters: version.parameters,
    Targets: version.instanceId === undefined ? version.targets : undefined,
    InstanceId: version.instanceId,
    ScheduleExpression: version.scheduleExpression,
    ScheduleOffset: version.scheduleOffset,
    AssociationName: version.associationName,
    AssociationVersion: String(version.version),
    MaxConcurrency: version.maxConcurrency,
    MaxErrors: version.maxErrors,
    ComplianceSeverity: version.complianceSeverity,
    SyncCompliance: version.syncCompliance,
    ApplyOnlyAtCronInterval: version.applyOnlyAtCronInterval,
    OutputLocation: version.outputLocation,
  });
}

const overviewWire = (o: Overview) => ({
  Status: o.status,
  DetailedStatus: o.detailedStatus,
  AssociationStatusAggregatedCount: o.counts,
});

export function descriptionWire(
  association: AssociationRecord,
  version: AssociationVersionRecord,
  o: Overview,
): Record<string, unknown> {
  return defined({
    ...versionMembers(version),
    AssociationId: association.associationId,
    Date: association.createdDate,
    LastUpdateAssociationDate: association.lastUpdateDate,
    Overview: overviewWire(o),
    LastExecutionDate: o.lastExecutionMs === undefined ? undefined : new Date(o.lastExecutionMs),
    LastSuccessfulExecutionDate: o.lastSuccessMs === undefined ? undefined : new Date(o.lastSuccessMs),
    Status:
      version.instanceId === undefined
        ? undefined
        : { Date: association.lastUpdateDate, Name: o.status, Message: `Association is ${o.detailedStatus}.` },
  });
}

/** ListAssociations' `Association`: the Association shape's members only. */
export function listItemWire(association: AssociationRecord, o: Overview): Record<string, unknown> {
  const version = latest(association);
  const members = versionMembers(version);
  return defined({
    Name: members.Name,
    InstanceId: members.InstanceId,
    AssociationId: association.associationId,
    AssociationVersion: members.AssociationVersion,
    DocumentVersion: members.DocumentVersion,
    Targets: version.instanceId === undefined ? targetsOf(version) : undefined,
    LastExecutionDate: o.lastExecutionMs === undefined ? undefined : new Date(o.lastExecutionMs),
    Overview: overviewWire(o),
    ScheduleExpression: members.ScheduleExpression,
    AssociationName: members.AssociationName,
    ScheduleOffset: members.ScheduleOffset,
  });
}

export function versionInfoWire(association: AssociationRecord, version: AssociationVersionRecord): Record<string, unknown> {
  const { InstanceId: _instanceId, ...members } = versionMembers(version);
  return { ...members, AssociationId: association.associationId, CreatedDate: version.createdDate };
}
