/** The job summary of a deploy: what was sent where, the counts, and a row per instance linked to the console. */
import type { JobSummary, SummaryTable } from '../shared/summary.js';
import { countInstances, succeeded, type CommandState, type InstanceResult } from './command-state.js';
import { exitMeaning, type Outcome } from './outcome.js';

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

function consoleOrigin(region: string): string {
  if (region.startsWith('cn-')) return `https://${region}.console.amazonaws.cn`;
  if (region.startsWith('us-gov-')) return `https://${region}.console.amazonaws-us-gov.com`;
  return `https://${region}.console.aws.amazon.com`;
}

export function commandUrl(region: string, commandId: string, instanceId?: string): string {
  const path = instanceId ? `${commandId}/${instanceId}` : commandId;
  return `${consoleOrigin(region)}/systems-manager/run-command/${path}?region=${region}`;
}

/** `2m 05s`; empty when the script never ran. */
export function duration(instance: InstanceResult): string {
  if (!instance.startedAt || !instance.endedAt) return '';
  const seconds = Math.max(0, Math.round((instance.endedAt.getTime() - instance.startedAt.getTime()) / 1000));
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes}m ${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

function instanceTable(input: SummaryInput, instances: InstanceResult[]): SummaryTable {
  // Failures first: they are what a reader looks for.
  const ordered = [...instances.filter((i) => !succeeded(i)), ...instances.filter(succeeded)];
  const shown = ordered.slice(0, MAX_ROWS);
  const more = ordered.length - shown.length;
  return {
    title: more > 0 ? `Instances (the first ${MAX_ROWS} of ${ordered.length})` : 'Instances',
    columns: ['Instance', 'Status', 'Details', 'Exit code', 'Duration', 'Note'],
    rows: shown.map((instance) => [
      input.commandId
        ? { text: instance.instanceId, code: true, href: commandUrl(input.region, input.commandId, instance.instanceId) }
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
  return {
    title: input.outcome.ok ? 'NixOS deployed through Systems Manager' : 'NixOS deploy through Systems Manager failed',
    text: input.outcome.message,
    facts: [
      [
        'Command',
        input.commandId ? { text: input.commandId, code: true, href: commandUrl(input.region, input.commandId) } : undefined,
      ],
      ['Document', `${document.name}${version}${change}`],
      ['Targets', { text: input.targets, code: true }],
      ['Store path', { text: input.storePath, code: true }],
      ['Action', input.action],
      [
        'Status',
        input.state
          ? input.state.statusDetails && input.state.statusDetails !== input.state.status
            ? `${input.state.status} (${input.state.statusDetails})`
            : input.state.status
          : undefined,
      ],
      ['Instances', instances.length > 0 ? counts.total : undefined],
      ['Succeeded', instances.length > 0 ? counts.succeeded : undefined],
      ['Did not succeed', instances.length > 0 ? counts.total - counts.succeeded : undefined],
    ],
    tables: instances.length > 0 ? [instanceTable(input, instances)] : [],
  };
}
