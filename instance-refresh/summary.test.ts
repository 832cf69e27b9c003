import { describe, expect, it } from '@jest/globals';
import type { DeployState, ProgressPoint, StepSpan } from './plan.js';
import { deploySummary, MAX_REFRESH_BARS, refreshGantt } from './summary.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const ms = (seconds: number) => T0 + seconds * 1000;
const base: DeployState = {
  region: 'us-east-1',
  groupName: 'web',
  storePath: '/nix/store/x-web',
  groupFound: true,
  timeline: [],
  steps: [],
  progress: [],
};
const CHECKS: StepSpan = { label: 'Checks', from: at(0), to: at(1) };
const point = (seconds: number, status: string, percent: number, reason?: string): ProgressPoint => ({ at: at(seconds), status, percent, reason });
const HEAD = ['gantt', 'title Instance refresh of web', 'dateFormat x', 'axisFormat %H:%M:%S'];

describe('deploySummary', () => {
  it.each<[string, Partial<DeployState>, Array<[string, unknown]>]>([
    ['before a version was made', {}, [['Launch template version', undefined], ['Instance refresh', undefined]]],
    ['a version made, no refresh', { templateId: 'lt-1', sourceVersion: 3 }, [['Launch template version', '3 -> (not made)']]],
    [
      'a refresh',
      { templateId: 'lt-1', sourceVersion: 3, targetVersion: 4, refreshId: 'r-1', status: 'Successful' },
      [['Launch template version', '3 -> 4'], ['Instance refresh', { text: 'r-1', code: true }], ['Status', 'Successful']],
    ],
    [
      'the group, linked to its instance refresh tab',
      {},
      [['Auto Scaling group', { text: 'web', href: 'https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#AutoScalingGroupDetails:id=web;view=instanceRefresh' }]],
    ],
  ])('%s', (_case, state, facts) => {
    const summary = deploySummary({ ...base, ...state }, 'Deployed.');
    expect(summary.title).toBe('Instance refresh of web');
    expect(summary.text).toBe('Deployed.');
    for (const fact of facts) expect(summary.facts).toContainEqual(fact);
  });

  it('names the gate, and the abandoned instances with their reasons before the timeline', () => {
    const abandoned = [{ instanceId: 'i-0123456789abcdef0', reason: "Instance failed to complete user's Lifecycle Action: ... was abandoned: Heartbeat Timeout" }];
    const summary = deploySummary({ ...base, gateHook: 'nixos-ready', abandoned, timeline: [{ at: at(0), line: 'Failed 0%' }] }, '');
    expect(summary.facts).toContainEqual(['Readiness gate', 'lifecycle hook nixos-ready']);
    expect(summary.tables).toEqual([
      { title: 'Abandoned instances', columns: ['Instance', 'Reason'], rows: [[abandoned[0].instanceId, abandoned[0].reason]] },
      { title: 'Timeline', columns: ['Time', 'Status'], rows: [[at(0), 'Failed 0%']] },
    ]);
  });

  it('lists the timeline', () => {
    const summary = deploySummary({ ...base, timeline: [{ at: at(0), line: 'InProgress 50%' }] }, '');
    expect(summary.tables).toEqual([{ title: 'Timeline', columns: ['Time', 'Status'], rows: [[at(0), 'InProgress 50%']] }]);
  });

  it('draws the chart', () => {
    expect(deploySummary({ ...base, steps: [CHECKS] }, '').mermaid).toBe(refreshGantt({ ...base, steps: [CHECKS] }, ''));
  });
});

describe('refreshGantt', () => {
  it.each<[string, Partial<DeployState>, string, string[] | undefined]>([
    ['before any step', {}, '', undefined],
    [
      'refused by the checks',
      { steps: [{ label: 'Checks', from: at(0), to: at(1), failed: true }], endedAt: at(1) },
      'Tag key "a/b" has "/". Nothing was changed.',
      ['section Deploy', `Checks :crit, ${ms(0)}, ${ms(1)}`, 'section Result', `Tag key a/b has / . Nothing was changed. :crit, milestone, ${ms(1)}, ${ms(1)}`],
    ],
    [
      'a success through checkpoints and baking',
      {
        steps: [CHECKS, { label: 'Waited for instance refresh r-0', from: at(1), to: at(30) }, { label: 'Launch template version from 1', from: at(31), to: at(32) }],
        progress: [point(33, 'Pending', 0), point(40, 'InProgress', 0), point(60, 'InProgress', 50, 'Checkpoint 50% reached'), point(90, 'Baking', 100), point(120, 'Successful', 100)],
        outcome: { kind: 'succeeded', message: 'Deployed.' },
        endedAt: at(121),
      },
      'Deployed.',
      [
        'section Deploy',
        `Checks :done, ${ms(0)}, ${ms(1)}`,
        `Waited for instance refresh r-0 :done, ${ms(1)}, ${ms(30)}`,
        `Launch template version from 1 :done, ${ms(31)}, ${ms(32)}`,
        'section Refresh',
        `Pending 0% :done, ${ms(33)}, ${ms(40)}`,
        `InProgress 0% :done, ${ms(40)}, ${ms(60)}`,
        `InProgress 50% :done, ${ms(60)}, ${ms(90)}`,
        `Baking 100% :done, ${ms(90)}, ${ms(120)}`,
        'section Result',
        `Successful :milestone, ${ms(120)}, ${ms(120)}`,
      ],
    ],
    [
      'a rollback, reported as a failure',
      {
        steps: [CHECKS],
        progress: [point(2, 'InProgress', 0), point(10, 'RollbackInProgress', 0, 'Alarm'), point(20, 'RollbackSuccessful', 100, 'Instances failed health checks.')],
        outcome: { kind: 'failed', message: 'Deploy failed, group rolled back to version 1' },
        endedAt: at(21),
      },
      'Deploy failed, group rolled back to version 1',
      [
        'section Deploy',
        `Checks :done, ${ms(0)}, ${ms(1)}`,
        'section Refresh',
        `InProgress 0% :done, ${ms(2)}, ${ms(10)}`,
        'section Rollback',
        `RollbackInProgress 0% :active, ${ms(10)}, ${ms(20)}`,
        'section Result',
        `RollbackSuccessful - Instances failed health checks. :crit, milestone, ${ms(20)}, ${ms(20)}`,
      ],
    ],
    [
      'a timeout: the last status runs until the end, the ending as the milestone',
      {
        steps: [CHECKS],
        progress: [point(2, 'InProgress', 25)],
        refreshId: 'r-1',
        outcome: { kind: 'failed', message: 'x' },
        endedAt: at(9),
      },
      'Instance refresh r-1 did not end within 0.1 minutes. Cancelled instance refresh r-1 (on-abort: cancel).',
      [
        'section Deploy',
        `Checks :done, ${ms(0)}, ${ms(1)}`,
        'section Refresh',
        `InProgress 25% :done, ${ms(2)}, ${ms(9)}`,
        'section Result',
        `Instance refresh did not end within 0.1 minutes. Cancelled instance refresh (on-abort cancel). :crit, milestone, ${ms(9)}, ${ms(9)}`,
      ],
    ],
    [
      'wait: false, nothing followed',
      { steps: [CHECKS], outcome: { kind: 'succeeded', message: 'Started.' }, endedAt: at(2) },
      'Started.',
      ['section Deploy', `Checks :done, ${ms(0)}, ${ms(1)}`],
    ],
  ])('%s', (_case, state, ending, lines) => {
    const chart = refreshGantt({ ...base, ...state }, ending);
    expect(chart).toBe(lines && [...HEAD, ...lines].join('\n'));
  });

  it(`merges the bars of one status past ${MAX_REFRESH_BARS}`, () => {
    const progress = Array.from({ length: 41 }, (_, i) => point(i, 'InProgress', i * 2.5));
    const chart = refreshGantt({ ...base, steps: [CHECKS], progress: [...progress, point(50, 'Successful', 100)], endedAt: at(50) }, '');
    expect(chart?.split('\n').filter((line) => line.startsWith('InProgress'))).toEqual([`InProgress 0-100% :done, ${ms(0)}, ${ms(50)}`]);
  });

  // AWS's words (a status reason, a status, an ID) and the user's (the group name) are labels only: nothing in them
  // can end a line, start a section, a click or a directive, or end a label early (`:`) or the fence (a backtick).
  it.each<[string, Partial<DeployState>]>([
    ['a status reason', { progress: [point(2, 'Failed', 10, 'x\n  section Evil\nclick a href "javascript:alert(1)"\r%%{init: {}}%% ```')] }],
    ['a status', { progress: [point(2, 'InProgress\nsection Evil', 10), point(3, 'Failed;click x call y()', 10)] }],
    ['a step label with an ID', { steps: [{ label: 'Waited for instance refresh r-1\n%%{init}%%', from: at(0), to: at(1) }] }],
    ['the group name', { groupName: 'web\ntitle Evil' }],
  ])('%s from outside cannot add a line or a label', (_case, state) => {
    const chart = refreshGantt({ ...base, steps: [CHECKS], endedAt: at(5), ...state }, 'ended: #1;\nsection Evil')!;
    const lines = chart.split('\n');
    expect(lines.slice(0, 4)).toEqual([...HEAD.slice(0, 1), expect.stringMatching(/^title [^:;#%`]*$/), ...HEAD.slice(2)]);
    for (const line of lines.slice(4)) {
      expect(line).toMatch(/^(section (Deploy|Refresh|Rollback|Result)|[^:;#`\r]+ :(done|active|crit)(, milestone)?, \d+, \d+|[^:;#`\r]+ :milestone, \d+, \d+)$/);
    }
    expect(chart).not.toContain('%%');
    expect(lines.filter((line) => line.startsWith('section')).every((line) => !line.includes('Evil'))).toBe(true);
  });
});
