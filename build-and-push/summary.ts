/** The job summary of build-and-push, from the record of what the run did (`RunReport` in plan.ts). Pure. */
import { mermaidText, type JobSummary } from '../shared/summary.js';
import type { BuildAttempt, RunReport } from './plan.js';

/** The summary of a run that finished: a row per installable, and the push's columns when it pushed. */
export function jobSummary(report: RunReport): JobSummary {
  const { push } = report;
  const count = report.installables.length;
  const built = `Built ${count} installable${count === 1 ? '' : 's'}`;
  const text = push
    ? `${built}; pushed ${report.pushed} store paths to ${push.storeUri}, ${report.skipped} already there.`
    : `${built}; nothing pushed.`;
  const pushColumns = push ? ['Paths uploaded', 'Paths skipped', 'Uploaded (NAR)', 'Push time'] : [];
  return {
    title: push ? 'Nix closures built and pushed' : 'Nix closures built',
    text,
    facts: [
      ['Binary cache', push ? { text: push.storeUri, code: true } : undefined],
      ['Compression', push?.compression],
      ['Signed with', push ? (push.keyName ?? 'not signed') : undefined],
      ['Closure size', formatBytes(report.closureBytes)],
    ],
    mermaid: durationChart(report),
    tables: [
      {
        columns: ['Installable', 'Store path', 'Closure', 'Build time', ...pushColumns],
        rows: report.installables.map((item) => [
          { text: item.installable, code: true },
          { text: item.storePath, code: true },
          `${item.closurePaths} paths, ${formatBytes(item.closureBytes)}`,
          formatDuration(item.buildMs),
          ...(push
            ? [item.uploaded, item.skipped, formatBytes(item.uploadedBytes), formatDuration(item.pushMs ?? 0)]
            : []),
        ]),
      },
    ],
  };
}

/**
 * The summary of a step whose builds finished and whose push did not: what was built, why the push did not finish
 * (`reason`, the error's first line), and that the cache may hold only part of it (an interrupted `nix copy` leaves
 * the paths it uploaded; a later run skips them).
 */
export function pushFailedSummary(built: RunReport, storeUri: string, reason: string): JobSummary {
  const count = built.installables.length;
  return {
    ...jobSummary(built),
    title: 'Nix closures built, push failed',
    text: `Built ${count} installable${count === 1 ? '' : 's'}; the push to ${storeUri} did not finish, so the cache may hold only part of the closures: ${reason}`,
  };
}

/**
 * The summary of a step that ended before every build had finished (a build that failed, `build-timeout`, a
 * cancellation) or before any began (Nix missing or too old, a cache that cannot be opened): each installable in
 * order, built (store path and time), failed or stopped (and why), or not started, and that nothing was pushed,
 * with `reason`, the first line of the step's error. `attempts` as `buildAll` in nix.ts records them.
 */
export function unfinishedSummary(installables: string[], attempts: BuildAttempt[], reason: string): JobSummary {
  const built = attempts.filter((attempt) => attempt.outcome === 'built').length;
  const stopped = attempts.some((attempt) => attempt.outcome === 'stopped');
  const outcome = (attempt: BuildAttempt | undefined): string =>
    !attempt ? 'not started' : attempt.outcome === 'built' ? 'built' : `${attempt.outcome}: ${attempt.reason}`;
  return {
    title: attempts.length === 0 ? 'Nix closures not built' : stopped ? 'Nix builds stopped' : 'Nix builds failed',
    text:
      attempts.length === 0
        ? `Nothing was built or pushed: ${reason}`
        : `Built ${built} of ${installables.length} installable${installables.length === 1 ? '' : 's'}; nothing was pushed: ${reason}`,
    mermaid: attempts.length === 0 ? undefined : attemptsChart(attempts),
    tables: [
      {
        columns: ['Installable', 'Store path', 'Build time', 'Result'],
        rows: installables.map((installable, i) => {
          const attempt = attempts[i];
          return [
            { text: installable, code: true },
            attempt?.outcome === 'built' ? { text: attempt.storePath, code: true } : undefined,
            attempt ? formatDuration(attempt.buildMs) : undefined,
            outcome(attempt),
          ];
        }),
      },
    ],
  };
}

/**
 * A Mermaid gantt chart of how long each installable took to build and then to push, laid end to end in the order
 * the step ran them (builds one after the other, then uploads one after the other): where the time went, at a glance.
 * Durations in milliseconds from a start at 0; what ran between them (the cache questions, the signing) is left out.
 * Labels are numbered, so that no installable's text can start a line with a Mermaid keyword (`section`, `title`).
 */
export function durationChart(report: RunReport): string {
  const lines = [...CHART_HEAD, '  section Build'];
  report.installables.forEach((item, i) => lines.push(ganttTask(i, item.installable, item.buildMs, i === 0)));
  if (report.push) {
    lines.push('  section Push');
    report.installables.forEach((item, i) => lines.push(ganttTask(i, item.installable, item.pushMs ?? 0, false)));
  }
  return lines.join('\n');
}

/**
 * As {@link durationChart}, for builds that did not all finish: the builds begun, end to end, the one that failed or
 * was stopped marked `crit` (Mermaid draws it red).
 */
export function attemptsChart(attempts: BuildAttempt[]): string {
  const lines = [...CHART_HEAD, '  section Build'];
  attempts.forEach((attempt, i) => lines.push(ganttTask(i, attempt.installable, attempt.buildMs, i === 0, attempt.outcome !== 'built')));
  return lines.join('\n');
}

const CHART_HEAD = ['gantt', '  dateFormat x', '  axisFormat %M:%S'];

/** One bar: numbered label, `crit` tag when asked, a start at 0 for the first, at least 1 ms long. */
function ganttTask(i: number, installable: string, ms: number, first: boolean, crit = false): string {
  return `  ${i + 1}. ${chartLabel(installable)} :${crit ? 'crit, ' : ''}${first ? '0, ' : ''}${Math.max(1, Math.round(ms))}ms`;
}

/** A flake output's attribute path (what follows the first `#`), else the whole installable, made safe for Mermaid. */
function chartLabel(installable: string): string {
  const at = installable.indexOf('#');
  return mermaidText(at >= 0 ? installable.slice(at + 1) : installable) || 'installable';
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `1023 B`, `1.5 KiB`, `3.0 TiB`: binary units, one decimal. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** `12 ms`, `1.5 s`, `62 min 5 s`, from milliseconds. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
