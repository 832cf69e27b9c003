/**
 * The job summary of a deploy, pure: what was sent where, the counts, a timeline of the instances (a Mermaid gantt
 * chart, one bar per instance from its invocation's start to its end) and a row per instance linked to the console.
 */
import { consoleUrl } from '../shared/console-url.js';
import { associationUrl, executionCounts, type ExecutionState, type RevertResult } from './association-plan.js';
import { mermaidText, type JobSummary, type SummaryTable } from '../shared/summary.js';
import {
  countInstances,
  exitMeaning,
  hasEnded,
  statusText,
  succeeded,
  type CommandState,
  type DeployResult,
  type InstanceResult,
  type Outcome,
} from './plan.js';

export interface SummaryInput {
  outcome: Outcome;
  region: string;
  commandId?: string;
  document: { name: string; version?: string; change?: string };
  targets: string;
  storePath: string;
  action: string;
  state?: CommandState;
}

/** Rows beyond this are left out: GitHub refuses summaries over 1 MiB. */
export const MAX_ROWS = 2000;
/** Bars beyond this are left out of the timeline: past that a chart is a blur, and the table lists everyone. */
export const MAX_BARS = 100;

/** The command (or one instance's invocation of it) in the Systems Manager console of `region`'s partition. */
export function commandUrl(region: string, commandId: string, instanceId?: string): string {
  const path = [commandId, ...(instanceId ? [instanceId] : [])].map(encodeURIComponent).join('/');
  return consoleUrl(region, `systems-manager/run-command/${path}`);
}

/** The summary's title: what happened, from the sent-only run to the cancelled one. */
export const TITLES: Record<DeployResult, string> = {
  sent: 'NixOS deploy sent through Systems Manager (not waited for)',
  deployed: 'NixOS deployed through Systems Manager',
  failed: 'NixOS deploy through Systems Manager failed',
  cancelled: 'NixOS deploy through Systems Manager cancelled',
  'timed out': 'NixOS deploy through Systems Manager timed out',
};

/** `2m 05s`; empty when the script never ran. */
export function duration(instance: InstanceResult): string {
  if (!instance.startedAt || !instance.endedAt) return '';
  const seconds = Math.max(0, Math.round((instance.endedAt.getTime() - instance.startedAt.getTime()) / 1000));
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes}m ${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

/** Failures first: they are what a reader looks for. */
const failuresFirst = (instances: InstanceResult[]) => [
  ...instances.filter((i) => !succeeded(i)),
  ...instances.filter(succeeded),
];

/**
 * The Mermaid source of a gantt chart of the instances whose script started and ended: one bar each, from the
 * invocation's start to its end (`dateFormat x`: milliseconds since the epoch, as in mermaid-js/mermaid#3028's
 * working example), `done` when it succeeded and `crit` when it did not, failures first, at most {@link MAX_BARS}.
 * Labels are `<n>. <instance> <status>`, numbered and through {@link mermaidText}, so that no instance ID or status
 * from AWS can end a task (`:`) or start a line with a gantt keyword (`section`, `dateFormat`, `excludes`, ...).
 * `undefined` when no instance has both times (nothing ran, or the command was not waited for).
 */
export function timeline(instances: InstanceResult[]): string | undefined {
  const timed = failuresFirst(instances).filter((i) => i.startedAt && i.endedAt);
  if (timed.length === 0) return undefined;
  const shown = timed.slice(0, MAX_BARS);
  const title = shown.length < timed.length ? `Instances (the first ${MAX_BARS} of ${timed.length})` : 'Instances';
  const bars = shown.map((instance, index) => {
    const start = instance.startedAt!.getTime();
    const end = Math.max(start, instance.endedAt!.getTime());
    const label = mermaidText(`${instance.instanceId} ${statusText(instance.status, instance.statusDetails)}`);
    return `    ${index + 1}. ${label} :${succeeded(instance) ? 'done' : 'crit'}, ${start}, ${end}`;
  });
  return ['gantt', `    title ${title}`, '    dateFormat x', '    axisFormat %H:%M:%S', '    todayMarker off', ...bars].join('\n');
}

function instanceTable(input: Pick<SummaryInput, 'region' | 'commandId'>, instances: InstanceResult[]): SummaryTable {
  const ordered = failuresFirst(instances);
  const shown = ordered.slice(0, MAX_ROWS);
  const more = ordered.length - shown.length;
  return {
    title: more > 0 ? `Instances (the first ${MAX_ROWS} of ${ordered.length})` : 'Instances',
    columns: ['Instance', 'Status', 'Details', 'Exit code', 'Duration', 'Note'],
    rows: shown.map((instance) => [
      // An association's target ran its own command; a command's instances all ran the deploy's.
      (instance.commandId ?? input.commandId)
        ? { text: instance.instanceId, code: true, href: commandUrl(input.region, (instance.commandId ?? input.commandId)!, instance.instanceId) }
        : { text: instance.instanceId, code: true },
      instance.status,
      instance.statusDetails,
      instance.responseCode >= 0 ? instance.responseCode : '',
      duration(instance),
      exitMeaning(instance),
    ]),
  };
}

export function deploySummary(input: SummaryInput): JobSummary {
  const instances = input.state?.instances ?? [];
  const counts = countInstances(instances);
  const { document } = input;
  const version = document.version ? ` version ${document.version}` : '';
  const change = document.change && document.change !== 'unchanged' ? ` (${document.change})` : '';
  const chart = timeline(instances);
  const open = instances.filter((i) => !hasEnded(i));
  const openStatuses = [...new Set(open.map((i) => i.status))].join(', ');
  return {
    title: TITLES[input.outcome.result],
    text: input.outcome.nothingSent ? `Nothing was sent: ${input.outcome.message}` : input.outcome.message,
    facts: [
      [
        'Command',
        input.commandId ? { text: input.commandId, code: true, href: commandUrl(input.region, input.commandId) } : undefined,
      ],
      ['Document', `${document.name}${version}${change}`],
      ['Targets', { text: input.targets, code: true }],
      ['Store path', { text: input.storePath, code: true }],
      ['Action', input.action],
      ['Status', input.state ? statusText(input.state.status, input.state.statusDetails) : undefined],
      ['Instances', instances.length > 0 ? counts.total : undefined],
      ['Succeeded', instances.length > 0 ? counts.succeeded : undefined],
      ['Failed', instances.length > 0 ? counts.failed : undefined],
      // Neither succeeded nor failed: the step stopped while these ran (a cancel or a timeout); the status says which.
      ['Had not ended', open.length > 0 ? `${open.length} (${openStatuses})` : undefined],
    ],
    ...(chart ? { mermaid: chart } : {}),
    tables: instances.length > 0 ? [instanceTable(input, instances)] : [],
  };
}

/** The summary's title in association mode. */
export const ASSOCIATION_TITLES: Record<DeployResult, string> = {
  sent: 'NixOS association updated through State Manager (not waited for)',
  deployed: 'NixOS deployed through a State Manager association',
  failed: 'NixOS deploy through a State Manager association failed',
  cancelled: 'NixOS deploy through a State Manager association cancelled',
  'timed out': 'NixOS deploy through a State Manager association timed out',
};

export interface AssociationSummaryInput {
  outcome: Outcome;
  region: string;
  name: string;
  /** Absent until the association holds this deploy's settings. */
  association?: { id: string; version: string };
  /** The version before this deploy (absent when it created the association). */
  previousVersion?: string;
  change?: 'create' | 'update' | 'apply-once';
  document: { name: string; version?: string; change?: string };
  targets: string;
  storePath: string;
  /** The store path the association deployed before this update. */
  previousStorePath?: string;
  schedule: string;
  state?: ExecutionState;
  revert?: RevertResult;
}

const CHANGES = { create: 'created', update: 'updated', 'apply-once': 'unchanged, applied once' } as const;

/**
 * The job summary in association mode: the association (linked to the console), its versions old -> new and what
 * became of it after a failure, the execution, the counts, the timeline and a row per instance linked to the Run
 * Command invocation that ran on it. Pure.
 */
export function associationSummary(input: AssociationSummaryInput): JobSummary {
  const instances = input.state?.instances ?? [];
  const counts = executionCounts(input.state);
  const { document, association, revert } = input;
  const version = document.version ? ` version ${document.version}` : '';
  const documentChange = document.change && document.change !== 'unchanged' ? ` (${document.change})` : '';
  const versions = association
    ? `${input.previousVersion && input.previousVersion !== association.version ? `${input.previousVersion} -> ` : ''}${association.version}` +
      (revert?.kind === 'reverted' ? ` -> ${revert.version}` : '') +
      (input.change ? ` (${CHANGES[input.change]}${revert?.kind === 'reverted' ? ', then reverted' : ''})` : '')
    : undefined;
  const reverted =
    revert?.kind === 'reverted'
      ? `returned to ${revert.storePath}, version ${revert.version}`
      : revert?.kind === 'revert-failed'
        ? `returning to ${revert.storePath} failed: ${revert.error}`
        : revert?.kind === 'deleted'
          ? 'deleted (this deploy had created it)'
          : revert?.kind === 'delete-failed'
            ? `deleting it failed: ${revert.error}`
            : revert?.kind === 'changed-elsewhere'
          ? `not reverted: the association was changed by someone else (version ${revert.version})`
          : revert?.kind === 'kept'
          ? `kept (${revert.why})`
          : undefined;
  const chart = timeline(instances);
  const open = instances.filter((i) => !hasEnded(i));
  return {
    title: ASSOCIATION_TITLES[input.outcome.result],
    text: input.outcome.nothingSent ? `Nothing was changed: ${input.outcome.message}` : input.outcome.message,
    facts: [
      ['Association', association ? { text: `${input.name} (${association.id})`, href: associationUrl(input.region, association.id) } : input.name],
      ['Versions', versions],
      ['After the failure', reverted],
      ['Execution', input.state?.executionId ? { text: input.state.executionId, code: true } : undefined],
      ['Document', `${document.name}${version}${documentChange}`],
      ['Targets', { text: input.targets, code: true }],
      ['Store path', input.previousStorePath && input.previousStorePath !== input.storePath ? `${input.previousStorePath} -> ${input.storePath}` : { text: input.storePath, code: true }],
      ['Schedule', input.schedule || 'none (applied on change)'],
      ['Status', input.state?.executionId ? statusText(input.state.status, input.state.detailedStatus) : undefined],
      ['Instances', counts.total > 0 ? counts.total : undefined],
      ['Succeeded', counts.total > 0 ? counts.succeeded : undefined],
      ['Failed', counts.total > 0 ? counts.failed : undefined],
      ['Had not ended', open.length > 0 ? `${open.length} (${[...new Set(open.map((i) => i.status))].join(', ')})` : counts.running + counts.pending > 0 ? counts.running + counts.pending : undefined],
    ],
    ...(chart ? { mermaid: chart } : {}),
    tables: instances.length > 0 ? [instanceTable({ region: input.region }, instances)] : [],
  };
}
