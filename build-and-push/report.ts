/** What a run of build-and-push reports: its step outputs and its job summary, from one record of what it did. */
import type { JobSummary } from '../shared/summary.js';
import type { BuildResult, Builds } from './build.js';
import { narSize, type PathInfo } from './path-info.js';

export interface InstallableReport {
  installable: string;
  storePath: string;
  /** Paths in its closure (its own included). */
  closurePaths: number;
  closureBytes: number;
  /** Paths its push uploaded, and their NAR bytes; 0 when not pushing. */
  uploaded: number;
  uploadedBytes: number;
  /** Paths of its closure the cache already had (or an earlier installable's push had just uploaded). */
  skipped: number;
  buildMs: number;
  /** Absent when not pushing. */
  pushMs?: number;
}

export interface RunReport {
  installables: InstallableReport[];
  /** Of all the closures together, each path counted once. */
  closureBytes: number;
  pushed: number;
  skipped: number;
  /** Set when the closures were pushed. */
  push?: { storeUri: string; compression?: string; keyName?: string };
}

/** What the build alone tells about an installable. */
export function installableFacts(item: BuildResult, infos: ReadonlyMap<string, PathInfo>) {
  return {
    installable: item.installable,
    storePath: item.built.storePath,
    closurePaths: item.closure.length,
    closureBytes: narSize(item.closure, infos),
    buildMs: item.buildMs,
  };
}

/** The report of a build without a push. */
export function buildReport({ results, infos }: Builds): RunReport {
  return {
    installables: results.map((item) => ({ ...installableFacts(item, infos), uploaded: 0, uploadedBytes: 0, skipped: 0 })),
    closureBytes: narSize(new Set(results.flatMap((item) => item.closure)), infos),
    pushed: 0,
    skipped: 0,
  };
}

/** The outputs of action.yml, by name. */
export interface StepOutputs {
  'store-path': string;
  'store-paths': string[];
  'closure-size': number;
  'pushed-paths': number;
  'skipped-paths': number;
}

export function stepOutputs(report: RunReport): StepOutputs {
  return {
    'store-path': report.installables[0].storePath,
    'store-paths': report.installables.map((item) => item.storePath),
    'closure-size': report.closureBytes,
    'pushed-paths': report.pushed,
    'skipped-paths': report.skipped,
  };
}

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
 * The summary of a step whose builds finished and whose push did not: what was built, and that the cache may hold
 * only part of it (an interrupted `nix copy` leaves the paths it uploaded; a later run skips them).
 */
export function pushFailedSummary(built: RunReport, storeUri: string): JobSummary {
  const count = built.installables.length;
  return {
    ...jobSummary(built),
    title: 'Nix closures built, push failed',
    text: `Built ${count} installable${count === 1 ? '' : 's'}; the push to ${storeUri} did not finish (see the error), so the cache may hold only part of the closures.`,
  };
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
