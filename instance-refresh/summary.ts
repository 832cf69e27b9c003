/**
 * The job summary of a deploy, pure: what was deployed where, how the refresh went, a Gantt chart of its phases over
 * time, and where to look in the console. Made from the deploy's state (plan.ts) by main.ts's `report`.
 */
import { mermaidText, type JobSummary } from '../shared/summary.js';
import { ACTIVE_STATUSES, refreshTabUrl, type DeployState, type ProgressPoint } from './plan.js';

/** `text`: the outcome in one sentence, as the step reports it (its failure, or what it did). */
export function deploySummary(state: DeployState, text: string): JobSummary {
  const versions =
    state.sourceVersion === undefined ? undefined : `${state.sourceVersion} -> ${state.targetVersion ?? '(not made)'}`;
  return {
    title: `Instance refresh of ${state.groupName}`,
    text,
    facts: [
      ['Auto Scaling group', { text: state.groupName, href: refreshTabUrl(state.region, state.groupName) }],
      ['Region', state.region],
      ['Store path', { text: state.storePath, code: true }],
      ['Image', state.imageId && { text: state.imageId, code: true }],
      ['Launch template', state.templateId && { text: state.templateId, code: true }],
      ['Launch template version', versions],
      ['Instance refresh', state.refreshId && { text: state.refreshId, code: true }],
      ['Status', state.status],
      ['Status reason', state.statusReason],
      ['Readiness gate', state.gateHook && `lifecycle hook ${state.gateHook}`],
    ],
    mermaid: refreshGantt(state, text),
    tables: [
      ...(state.abandoned?.length
        ? [{ title: 'Abandoned instances', columns: ['Instance', 'Reason'], rows: state.abandoned.map((a) => [a.instanceId, a.reason]) }]
        : []),
      ...(state.timeline.length === 0
        ? []
        : [{ title: 'Timeline', columns: ['Time', 'Status'], rows: state.timeline.map((entry) => [entry.at, entry.line]) }]),
    ],
  };
}

/** Bars of the refresh past which consecutive ones of the same status merge into one: a chart, not a log. */
export const MAX_REFRESH_BARS = 24;

/** The ending's milestone label: a timeout's or cancellation's account, with what on-abort did, fits. */
const MAX_ENDING_CHARS = 140;

interface Bar {
  section: 'Deploy' | 'Refresh' | 'Rollback' | 'Result';
  label: string;
  tags: string[];
  from: number;
  to: number;
}

/**
 * A Mermaid Gantt chart (`dateFormat x`: times in Unix milliseconds) of the deploy: its own steps (checks, another
 * refresh waited for, the new version, the start), then the refresh, one bar per status and percentage (merged per
 * status past {@link MAX_REFRESH_BARS}), the rollback in its own section, and a milestone for the final status (or,
 * when the wait ended without one, for `ending`). Undefined before any step began. Every label that holds AWS's or
 * the user's words (statuses, reasons, IDs, the group name) goes through `mermaidText`, so none can end a line or
 * a label.
 */
export function refreshGantt(state: DeployState, ending: string): string | undefined {
  if (state.steps.length === 0) return undefined;
  const end = state.endedAt?.getTime();
  const bars: Bar[] = state.steps.map((step) => ({
    section: 'Deploy',
    label: mermaidText(step.label, 80),
    tags: [step.failed ? 'crit' : 'done'],
    from: step.from.getTime(),
    to: step.to?.getTime() ?? end ?? step.from.getTime(),
  }));
  const points = state.progress;
  const last = points.at(-1);
  const final = last && !ACTIVE_STATUSES.has(last.status) ? last : undefined;
  const running = final ? points.slice(0, -1) : points;
  bars.push(...refreshBars(running, final?.at.getTime() ?? end));
  if (final) {
    const reason = final.reason ? ` - ${final.reason}` : '';
    const at = final.at.getTime();
    const tags = final.status === 'Successful' ? ['milestone'] : ['crit', 'milestone'];
    bars.push({ section: 'Result', label: mermaidText(`${final.status}${reason}`, 80), tags, from: at, to: at });
  } else if (state.outcome?.kind !== 'succeeded' && end !== undefined) {
    // The refresh's ID is in the facts above: without it, the label has room for what on-abort did.
    const label = state.refreshId ? ending.replaceAll(` ${state.refreshId}`, '') : ending;
    bars.push({ section: 'Result', label: mermaidText(label, MAX_ENDING_CHARS), tags: ['crit', 'milestone'], from: end, to: end });
  }
  const lines = ['gantt', `title Instance refresh of ${mermaidText(state.groupName)}`, 'dateFormat x', 'axisFormat %H:%M:%S'];
  let section: string | undefined;
  for (const bar of bars) {
    if (bar.section !== section) lines.push(`section ${bar.section}`);
    section = bar.section;
    lines.push(`${bar.label || '-'} :${bar.tags.join(', ')}, ${bar.from}, ${Math.max(bar.to, bar.from)}`);
  }
  return lines.join('\n');
}

/** One bar per point while the refresh ran, each until the next point (the last until `end`). */
function refreshBars(points: readonly ProgressPoint[], end: number | undefined): Bar[] {
  const spans = points.map((point, i) => ({
    status: point.status,
    first: point.percent,
    last: point.percent,
    from: point.at.getTime(),
    to: points[i + 1]?.at.getTime() ?? end ?? point.at.getTime(),
  }));
  return (spans.length > MAX_REFRESH_BARS ? mergeByStatus(spans) : spans).map((span) => {
    const rollback = span.status === 'RollbackInProgress';
    const percent = span.first === span.last ? `${span.last}%` : `${span.first}-${span.last}%`;
    return {
      section: rollback ? 'Rollback' : 'Refresh',
      label: `${mermaidText(span.status)} ${percent}`,
      tags: [rollback ? 'active' : 'done'],
      from: span.from,
      to: span.to,
    };
  });
}

interface Span {
  status: string;
  first: number;
  last: number;
  from: number;
  to: number;
}

/** Consecutive spans of one status as one: from the first's start and percentage to the last's end and percentage. */
function mergeByStatus(spans: readonly Span[]): Span[] {
  const merged: Span[] = [];
  for (const span of spans) {
    const previous = merged.at(-1);
    if (previous?.status === span.status) merged[merged.length - 1] = { ...previous, last: span.last, to: span.to };
    else merged.push({ ...span });
  }
  return merged;
}
