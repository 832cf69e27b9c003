/**
 * CreateAssociation's and UpdateAssociation's checks beyond the model (which has already held every member to its
 * type, length, pattern and enum): the document and its version, the targets' forms, the parameters against the
 * document, the schedule, and the members the sandbox does not serve. Each answers with AWS's error code.
 */
import { AwsError } from '../../errors.js';
import { resolveCommandParameters } from './command-parameters.js';
import type { DocumentStore } from './documents.js';
import { parseSchedule } from './associations-schedule.js';
import type { AssociationRecord, AssociationVersionRecord, Target } from './associations.js';

const INSTANCE_ID = /(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)/;
const TARGETS_FORMAT =
  'Targets must be 1) one target with Key=InstanceIds and instance IDs (or *) as values, or 2) up to 5 targets, ' +
  'each Key=tag:<key>,Values=<tag values> or Key=tag-key,Values=<tag keys>.';
/** Members of the API the sandbox does not model: refused rather than silently ignored. */
const NOT_SERVED = ['TargetLocations', 'TargetMaps', 'AutomationTargetParameterName', 'CalendarNames', 'AlarmConfiguration'];

const invalidTarget = (message: string) => new AwsError('InvalidTarget', message);

/** `Targets` of an association: the InstanceIds form alone, or tag and tag-key targets. */
export function checkAssociationTargets(targets: Target[]): Target[] {
  for (const target of targets) {
    const values = target.Values ?? [];
    if (values.length === 0) throw invalidTarget(`Target ${target.Key} has no values. ${TARGETS_FORMAT}`);
    if (/^instanceids$/i.test(target.Key)) {
      if (targets.length > 1) throw invalidTarget(`InstanceIds cannot be combined with other targets. ${TARGETS_FORMAT}`);
      const bad = values.filter((v) => v !== '*' && !INSTANCE_ID.test(v));
      if (bad.length > 0) throw invalidTarget(`Not instance IDs: ${bad.join(', ')}. ${TARGETS_FORMAT}`);
      continue;
    }
    if (/^resource-groups:/.test(target.Key)) {
      throw invalidTarget(`The sandbox has no resource groups: ${target.Key}. ${TARGETS_FORMAT}`);
    }
    if (!/^tag:.+/.test(target.Key) && target.Key !== 'tag-key') {
      throw invalidTarget(`Target key ${target.Key} is not valid. ${TARGETS_FORMAT}`);
    }
  }
  return targets;
}

/** The schedule's own form, and the options that depend on it: ApplyOnlyAtCronInterval and ScheduleOffset need a cron. */
function checkSchedule(request: Record<string, unknown>): void {
  const expression = request.ScheduleExpression as string | undefined;
  const schedule = expression === undefined ? undefined : parseSchedule(expression);
  if (request.ApplyOnlyAtCronInterval === true && schedule?.kind !== 'cron') {
    throw new AwsError(
      'InvalidSchedule',
      'ApplyOnlyAtCronInterval needs a cron ScheduleExpression: it is not supported for rate expressions or without a schedule.',
    );
  }
  if (request.ScheduleOffset !== undefined && schedule?.kind !== 'cron') {
    throw new AwsError('InvalidSchedule', 'ScheduleOffset is supported for cron expressions only.');
  }
}

function checkServed(request: Record<string, unknown>): void {
  const unserved = NOT_SERVED.filter((member) => request[member] !== undefined);
  if (unserved.length > 0) {
    throw new AwsError('ValidationException', `The sandbox does not serve ${unserved.join(', ')} for associations.`);
  }
}

/**
 * A version record from a CreateAssociation or UpdateAssociation request. `base` (UpdateAssociation) supplies the
 * document and targets when the request leaves them out; every other optional member left out is cleared, as AWS
 * documents: "the system removes all optional parameters from the request and overwrites the association with
 * null values for those parameters".
 */
export function associationVersion(
  request: Record<string, unknown>,
  documents: DocumentStore,
  number: number,
  now: Date,
  base?: AssociationVersionRecord,
): AssociationVersionRecord {
  checkServed(request);
  const documentName = (request.Name as string | undefined) ?? base!.documentName;
  const { document, version } = documents.resolve(documentName, request.DocumentVersion);
  const parameters = request.Parameters as Record<string, string[]> | undefined;
  resolveCommandParameters(version.document.parameters, parameters);
  const given = request.Targets as Target[] | undefined;
  const targets = given === undefined || (given.length === 0 && base) ? (base?.targets ?? []) : checkAssociationTargets(given);
  checkSchedule(request);
  return {
    version: number,
    createdDate: now,
    documentName: document.name,
    documentVersion: request.DocumentVersion as string | undefined,
    parameters,
    targets,
    instanceId: (request.InstanceId as string | undefined) ?? base?.instanceId,
    scheduleExpression: request.ScheduleExpression as string | undefined,
    scheduleOffset: request.ScheduleOffset as number | undefined,
    associationName: request.AssociationName as string | undefined,
    maxConcurrency: request.MaxConcurrency as string | undefined,
    maxErrors: request.MaxErrors as string | undefined,
    applyOnlyAtCronInterval: request.ApplyOnlyAtCronInterval === true,
    complianceSeverity: request.ComplianceSeverity as string | undefined,
    syncCompliance: request.SyncCompliance as string | undefined,
    outputLocation: request.OutputLocation,
  };
}

/**
 * CreateAssociation's target rules: Targets or the legacy InstanceId, not both; an InstanceId must be a managed
 * instance, and one document can be associated with it once (AssociationAlreadyExists). Targets-based associations
 * may repeat a document, targets or AssociationName: AWS keeps no such uniqueness, so neither does the sandbox.
 */
export function checkNewAssociation(
  request: Record<string, unknown>,
  existing: AssociationRecord[],
  isManaged: (instanceId: string) => boolean,
): void {
  const targets = (request.Targets as Target[] | undefined) ?? [];
  const instanceId = request.InstanceId as string | undefined;
  if ((instanceId !== undefined) === targets.length > 0) {
    throw invalidTarget(`Specify exactly one of InstanceId or Targets. ${TARGETS_FORMAT}`);
  }
  if (instanceId === undefined) return;
  if (!isManaged(instanceId)) {
    throw new AwsError('InvalidInstanceId', `Instance ${instanceId} is not a managed instance in a valid state.`);
  }
  const same = existing.find((a) => {
    const current = a.versions[a.versions.length - 1];
    return current.instanceId === instanceId && current.documentName === request.Name;
  });
  if (same) {
    throw new AwsError('AssociationAlreadyExists', `The association ${same.associationId} already exists.`);
  }
}
