import { describe, expect, it } from '@jest/globals';
import type { InstanceResult } from './command-state.js';
import { commandUrl, deploySummary, duration } from './deploy-summary.js';

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
      outcome: { ok: false, message: 'failed' },
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
});
