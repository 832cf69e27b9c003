import { describe, expect, it } from '@jest/globals';
import type { BuildAttempt, RunReport } from './plan.js';
import { attemptsChart, durationChart, formatBytes, formatDuration, jobSummary, pushFailedSummary, unfinishedSummary } from './summary.js';

const WEB = '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-web';
const WORKER = '/nix/store/1c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-worker';
const item = (installable: string, storePath: string) => ({
  installable,
  storePath,
  closurePaths: 3,
  closureBytes: 3 * 1024 * 1024,
  uploaded: 2,
  uploadedBytes: 2048,
  skipped: 1,
  buildMs: 1500,
  pushMs: 250,
});
const PUSHED: RunReport = {
  installables: [item('.#web', WEB), item('.#worker', WORKER)],
  closureBytes: 5 * 1024 * 1024,
  pushed: 4,
  skipped: 1,
  push: { storeUri: 's3://cache?region=eu-west-1', compression: 'zstd', keyName: 'cache-1' },
};

describe('pushFailedSummary', () => {
  it('shows what was built, and says the push did not finish, and why', () => {
    const summary = pushFailedSummary({ ...PUSHED, push: undefined, installables: [item('.#web', WEB)] }, 's3://cache', 'nix copy failed (exit code 1): error: SlowDown');
    expect(summary.title).toBe('Nix closures built, push failed');
    expect(summary.text).toBe('Built 1 installable; the push to s3://cache did not finish, so the cache may hold only part of the closures: nix copy failed (exit code 1): error: SlowDown');
    expect(summary.tables?.[0].rows[0]).toContainEqual({ text: WEB, code: true });
  });
});

describe('jobSummary', () => {
  it('of a push: the cache, the key name and a row per installable', () => {
    const summary = jobSummary(PUSHED);
    expect(summary.text).toBe('Built 2 installables; pushed 4 store paths to s3://cache?region=eu-west-1, 1 already there.');
    expect(summary.facts).toContainEqual(['Signed with', 'cache-1']);
    expect(summary.tables?.[0].columns).toEqual(['Installable', 'Store path', 'Closure', 'Build time', 'Paths uploaded', 'Paths skipped', 'Uploaded (NAR)', 'Push time']);
    expect(summary.tables?.[0].rows[0]).toEqual([
      { text: '.#web', code: true },
      { text: WEB, code: true },
      '3 paths, 3.0 MiB',
      '1.5 s',
      2,
      1,
      '2.0 KiB',
      '250 ms',
    ]);
  });

  it('of a build alone: no push columns', () => {
    const summary = jobSummary({ ...PUSHED, push: undefined, installables: [item('.#web', WEB)] });
    expect(summary.title).toBe('Nix closures built');
    expect(summary.text).toBe('Built 1 installable; nothing pushed.');
    expect(summary.tables?.[0].columns).toEqual(['Installable', 'Store path', 'Closure', 'Build time']);
  });

  it('of an unsigned push says so', () => {
    expect(jobSummary({ ...PUSHED, push: { storeUri: 'file:///c', compression: 'xz' } }).facts).toContainEqual(['Signed with', 'not signed']);
  });
});

describe('durationChart', () => {
  it.each<[string, RunReport, string[]]>([
    [
      'a push: the builds, then the uploads, end to end',
      PUSHED,
      ['gantt', '  dateFormat x', '  axisFormat %M:%S', '  section Build', '  1. web :0, 1500ms', '  2. worker :1500ms', '  section Push', '  1. web :250ms', '  2. worker :250ms'],
    ],
    ['a build alone: no push section', { ...PUSHED, push: undefined, installables: [item('.#web', WEB)] }, ['gantt', '  dateFormat x', '  axisFormat %M:%S', '  section Build', '  1. web :0, 1500ms']],
    [
      "labels from outside: the attribute path, Mermaid's syntax removed, a keyword cannot start a line, at most 60 characters, no zero-length bar",
      { ...PUSHED, push: undefined, installables: [{ ...item('path:/src#web;%%{init}:x', WEB), buildMs: 0.2 }, item('section', WORKER), item(`/nix/store/${'a'.repeat(32)}-nixos-system-web-25.05`, WEB), item('.#', WEB)] },
      ['gantt', '  dateFormat x', '  axisFormat %M:%S', '  section Build', '  1. web init x :0, 1ms', "  2. 'section' :1500ms", `  3. /nix/store/${'a'.repeat(32)}-nixos-system-... :1500ms`, '  4. installable :1500ms'],
    ],
  ])('%s', (_case, report, lines) => {
    expect(durationChart(report).split('\n')).toEqual(lines);
  });

  it('is in the job summary, also of a push that failed', () => {
    expect(jobSummary(PUSHED).mermaid).toBe(durationChart(PUSHED));
    expect(pushFailedSummary({ ...PUSHED, push: undefined }, 's3://cache', 'cancelled').mermaid).not.toContain('section Push');
  });
});

describe('unfinishedSummary', () => {
  const built: BuildAttempt = { installable: '.#web', outcome: 'built', storePath: WEB, buildMs: 1500 };
  const failed: BuildAttempt = { installable: '.#broken', outcome: 'failed', reason: "nix build failed (exit code 1): error: builder for 'x.drv' failed", buildMs: 800 };
  const stopped: BuildAttempt = { installable: '.#slow', outcome: 'stopped', reason: "The builds did not finish within 'build-timeout' (3 s): stopped nix build .#slow", buildMs: 3000 };
  const installables = ['.#web', '.#broken', '.#slow'];

  const path = { text: WEB, code: true };
  const notStarted = [undefined, undefined, 'not started'];

  it.each<[string, BuildAttempt[], string, string, unknown[][]]>([
    ['nothing begun (the cache could not be opened)', [], 'Nix closures not built', 'Nothing was built or pushed: the reason', [notStarted, notStarted, notStarted]],
    [
      'one built, one failed, one not started',
      [built, failed],
      'Nix builds failed',
      'Built 1 of 3 installables; nothing was pushed: the reason',
      [[path, '1.5 s', 'built'], [undefined, '800 ms', "failed: nix build failed (exit code 1): error: builder for 'x.drv' failed"], notStarted],
    ],
    [
      'one built, one stopped',
      [built, { ...stopped, installable: '.#broken' }],
      'Nix builds stopped',
      'Built 1 of 3 installables; nothing was pushed: the reason',
      [[path, '1.5 s', 'built'], [undefined, '3.0 s', "stopped: The builds did not finish within 'build-timeout' (3 s): stopped nix build .#slow"], notStarted],
    ],
  ])('%s: each installable, built, failed, stopped or not started', (_case, attempts, title, text, results) => {
    const summary = unfinishedSummary(installables, attempts, 'the reason');
    expect([summary.title, summary.text]).toEqual([title, text]);
    expect(summary.tables?.[0].columns).toEqual(['Installable', 'Store path', 'Build time', 'Result']);
    expect(summary.tables?.[0].rows).toEqual(installables.map((installable, i) => [{ text: installable, code: true }, ...results[i]]));
    expect(summary.mermaid).toBe(attempts.length === 0 ? undefined : attemptsChart(attempts));
  });
});

describe('attemptsChart', () => {
  it('the builds begun, end to end; the one that did not finish marked crit', () => {
    const attempts: BuildAttempt[] = [
      { installable: '.#web', outcome: 'built', storePath: WEB, buildMs: 1500 },
      { installable: '.#broken', outcome: 'failed', reason: 'x', buildMs: 0.4 },
    ];
    expect(attemptsChart(attempts).split('\n')).toEqual(['gantt', '  dateFormat x', '  axisFormat %M:%S', '  section Build', '  1. web :0, 1500ms', '  2. broken :crit, 1ms']);
    expect(attemptsChart([{ installable: '.#slow', outcome: 'stopped', reason: 'x', buildMs: 3000 }]).split('\n').pop()).toBe('  1. slow :crit, 0, 3000ms');
  });
});

describe('formats', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [50 * 1024 * 1024, '50.0 MiB'],
    [3 * 1024 ** 4, '3.0 TiB'],
  ])('%i bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it.each([
    [12, '12 ms'],
    [1500, '1.5 s'],
    [59_900, '59.9 s'],
    [119_600, '2 min 0 s'],
    [3_725_000, '62 min 5 s'],
  ])('%i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
