import { describe, expect, it } from '@jest/globals';
import type { DeployResult, InstanceResult, Outcome } from './plan.js';
import { commandUrl, deploySummary, duration, MAX_BARS, timeline, type SummaryInput } from './summary.js';

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1) + seconds * 1000);

describe('deploy summary', () => {
  it.each([
    ['us-east-1', 'https://us-east-1.console.aws.amazon.com/systems-manager/run-command/c/i-1?region=us-east-1'],
    ['cn-north-1', 'https://cn-north-1.console.amazonaws.cn/systems-manager/run-command/c/i-1?region=cn-north-1'],
    ['us-gov-west-1', 'https://us-gov-west-1.console.amazonaws-us-gov.com/systems-manager/run-command/c/i-1?region=us-gov-west-1'],
  ])('links an instance of a command in %s', (region, url) => {
    expect(commandUrl(region, 'c', 'i-1')).toBe(url);
  });

  it.each<[Partial<InstanceResult>, string]>([
    [{ startedAt: at(0), endedAt: at(42) }, '42s'],
    [{ startedAt: at(0), endedAt: at(125) }, '2m 05s'],
    [{}, ''],
  ])('shows the duration of %j as %j', (times, text) => {
    expect(duration({ instanceId: 'i-1', status: 'Success', statusDetails: 'Success', responseCode: 0, ...times })).toBe(text);
  });

  it('lists failed instances first, with their exit code and what it means', () => {
    const summary = deploySummary({
      outcome: { ok: false, result: 'failed', message: 'failed' },
      region: 'eu-central-1',
      commandId: 'c',
      document: { name: 'NixOS-Deploy', version: '3', change: 'updated' },
      targets: 'tag:Role=web',
      storePath: '/nix/store/x',
      action: 'switch',
      state: {
        commandId: 'c',
        status: 'Success',
        statusDetails: 'Incomplete',
        instances: [
          { instanceId: 'i-1', status: 'Success', statusDetails: 'Success', responseCode: 0 },
          { instanceId: 'i-2', status: 'Failed', statusDetails: 'Failed', responseCode: 2, startedAt: at(0), endedAt: at(61) },
        ],
      },
    });
    expect(summary.title).toBe('NixOS deploy through Systems Manager failed');
    expect(summary.facts).toContainEqual(['Document', 'NixOS-Deploy version 3 (updated)']);
    expect(summary.facts).toContainEqual(['Status', 'Success (Incomplete)']);
    expect(summary.tables![0].rows.map((row) => row.slice(1))).toEqual([
      ['Failed', 'Failed', 2, '1m 01s', 'rolled back to the previous generation'],
      ['Success', 'Success', 0, '', ''],
    ]);
  });

  it('draws the timeline of the instances in the summary, and none when no instance ran', () => {
    const input = {
      outcome: { ok: true, result: 'deployed', message: 'ok' } as Outcome,
      region: 'eu-central-1',
      commandId: 'c',
      document: { name: 'NixOS-Deploy' },
      targets: 'tag:Role=web',
      storePath: '/nix/store/x',
      action: 'switch',
    };
    const ran = { instanceId: 'i-1', status: 'Success', statusDetails: 'Success', responseCode: 0, startedAt: at(0), endedAt: at(5) };
    const state = { commandId: 'c', status: 'Success', statusDetails: 'Success', instances: [ran] };
    expect(deploySummary({ ...input, state }).mermaid).toBe(timeline([ran]));
    expect(deploySummary(input).mermaid).toBeUndefined();
  });

  const base: SummaryInput = {
    outcome: { ok: true, result: 'deployed', message: 'ok' },
    region: 'eu-central-1',
    commandId: 'c',
    document: { name: 'NixOS-Deploy' },
    targets: 'tag:Role=web',
    storePath: '/nix/store/x',
    action: 'switch',
  };

  it.each<[DeployResult, boolean, string]>([
    ['sent', true, 'NixOS deploy sent through Systems Manager (not waited for)'],
    ['deployed', true, 'NixOS deployed through Systems Manager'],
    ['failed', false, 'NixOS deploy through Systems Manager failed'],
    ['cancelled', false, 'NixOS deploy through Systems Manager cancelled'],
    ['timed out', false, 'NixOS deploy through Systems Manager timed out'],
  ])('titles a %s deploy (ok: %s) %j', (result, ok, title) => {
    expect(deploySummary({ ...base, outcome: { ok, result, message: 'm' } }).title).toBe(title);
  });

  it('says nothing was sent when the step failed before the send', () => {
    const summary = deploySummary({ ...base, commandId: undefined, outcome: { ok: false, result: 'failed', message: 'AccessDenied', nothingSent: true } });
    expect(summary.text).toBe('Nothing was sent: AccessDenied');
    expect(summary.facts).toContainEqual(['Command', undefined]);
  });

  it('counts an instance still running or cancelling as neither succeeded nor failed, and says which it is', () => {
    const state = {
      commandId: 'c',
      status: 'Cancelling',
      statusDetails: 'Cancelling',
      instances: [
        { instanceId: 'i-1', status: 'Success', statusDetails: 'Success', responseCode: 0, startedAt: at(0), endedAt: at(4) },
        { instanceId: 'i-2', status: 'Cancelling', statusDetails: 'Cancelling', responseCode: -1, startedAt: at(0) },
        { instanceId: 'i-3', status: 'InProgress', statusDetails: 'InProgress', responseCode: -1 },
      ],
    };
    const summary = deploySummary({ ...base, outcome: { ok: false, result: 'cancelled', message: 'm' }, state });
    expect(summary.facts).toEqual(
      expect.arrayContaining([
        ['Succeeded', 1],
        ['Failed', 0],
        ['Had not ended', '2 (Cancelling, InProgress)'],
      ]),
    );
    // The finished instance's bar: what is known.
    expect(summary.mermaid?.split('\n').slice(HEAD.length)).toEqual([`    1. i-1 Success :done, ${T0}, ${T0 + 4000}`]);
  });
});

const T0 = Date.UTC(2026, 0, 1);
const result = (instanceId: string, status: string, statusDetails: string, times?: [number, number]): InstanceResult => ({
  instanceId,
  status,
  statusDetails,
  responseCode: status === 'Success' ? 0 : 1,
  ...(times ? { startedAt: at(times[0]), endedAt: at(times[1]) } : {}),
});
const HEAD = ['gantt', '    title Instances', '    dateFormat x', '    axisFormat %H:%M:%S', '    todayMarker off'];
/**
 * Every line a bar: `    <n>. <label> :done|crit, <start ms>, <end ms>`, numbered so that no label starts the line
 * (a gantt keyword cannot), the label free of what ends a task or a line.
 */
const BAR = /^ {4}\d+\. [A-Za-z0-9 \-_.,/()+=@'[\]]* :(done|crit), \d+, \d+$/;

describe('timeline', () => {
  it.each<[string, InstanceResult[], string[] | undefined]>([
    ['nothing when no instance has run', [result('i-1', 'Failed', 'Undeliverable'), result('i-2', 'InProgress', 'InProgress')], undefined],
    ['nothing for no instances', [], undefined],
    [
      'a bar per instance that ran, failures first (crit), successes done',
      [result('i-1', 'Success', 'Success', [0, 42]), result('i-2', 'Failed', 'Failed', [3, 61]), result('i-3', 'TimedOut', 'DeliveryTimedOut')],
      [...HEAD, `    1. i-2 Failed :crit, ${T0 + 3000}, ${T0 + 61000}`, `    2. i-1 Success :done, ${T0}, ${T0 + 42000}`],
    ],
    [
      'the status details, and an end before the start drawn as no time',
      [result('i-1', 'TimedOut', 'ExecutionTimedOut', [10, 9])],
      [...HEAD, `    1. i-1 TimedOut (ExecutionTimedOut) :crit, ${T0 + 10000}, ${T0 + 10000}`],
    ],
  ])('%s', (_case, instances, lines) => {
    expect(timeline(instances)?.split('\n')).toEqual(lines);
  });

  it(`draws at most ${MAX_BARS} bars, saying how many there were`, () => {
    const many = Array.from({ length: MAX_BARS + 5 }, (_, i) => result(`i-${i}`, 'Success', 'Success', [i, i + 1]));
    const lines = timeline(many)!.split('\n');
    expect(lines[1]).toBe(`    title Instances (the first ${MAX_BARS} of ${MAX_BARS + 5})`);
    expect(lines.slice(HEAD.length)).toHaveLength(MAX_BARS);
  });

  it.each<[string, InstanceResult]>([
    ['an instance ID that ends the task and adds one', result('i-1 :done, 0, 1\n    click i-1 href "javascript:alert(1)"', 'Success', 'Success', [0, 1])],
    ['a status that starts a directive and a comment', result('i-1', 'Failed\r%%{init: {"theme": "dark"}}%%', 'x;\nsection evil', [0, 1])],
    ['entities, a closing fence and HTML', result('i-1 #35; ```<img src=x onerror=alert(1)>', 'Failed', '`', [0, 1])],
    ['a label with nothing left', result(':::', '\n', '', [0, 1])],
    ['an instance ID that is a gantt keyword line (dateFormat)', result('dateFormat YYYY', 'Success', 'Success', [0, 1])],
    ['an instance ID that starts a section', result('section Evil', 'Failed', 'Failed', [0, 1])],
    ['an instance ID that excludes days', result('excludes weekends', 'Success', 'Success', [0, 1])],
    ['a status that is a title', result('i-1', 'title Evil', 'title Evil', [0, 1])],
  ])('keeps %s to one bar of plain words', (_case, instance) => {
    const lines = timeline([instance])!.split('\n');
    expect(lines.slice(0, HEAD.length)).toEqual(HEAD);
    expect(lines.slice(HEAD.length)).toHaveLength(1);
    expect(lines[HEAD.length]).toMatch(BAR);
    expect(lines[HEAD.length]).not.toMatch(/%%|#|`|<|;|:(?!(done|crit), )/);
  });
});
