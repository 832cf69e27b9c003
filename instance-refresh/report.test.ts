import { describe, expect, it } from '@jest/globals';
import { deploySummary, groupConsoleUrl } from './report.js';

describe('groupConsoleUrl', () => {
  it.each<[string, string, string]>([
    ['eu-central-1', 'web', 'https://eu-central-1.console.aws.amazon.com/ec2/home?region=eu-central-1#AutoScalingGroupDetails:id=web;view=instanceRefresh'],
    ['cn-north-1', 'web', 'https://cn-north-1.console.amazonaws.cn/ec2/home?region=cn-north-1#AutoScalingGroupDetails:id=web;view=instanceRefresh'],
    ['us-gov-west-1', 'web', 'https://console.amazonaws-us-gov.com/ec2/home?region=us-gov-west-1#AutoScalingGroupDetails:id=web;view=instanceRefresh'],
    ['us-east-1', 'web tier#1', 'https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#AutoScalingGroupDetails:id=web%20tier%231;view=instanceRefresh'],
  ])('%s %s', (region, group, url) => {
    expect(groupConsoleUrl(region, group)).toBe(url);
  });
});

describe('deploySummary', () => {
  const base = { region: 'us-east-1', groupName: 'web', storePath: '/nix/store/x-web', outcome: 'Deployed.', timeline: [] };

  it.each<[string, object, Array<[string, unknown]>]>([
    ['before a version was made', {}, [['Launch template version', undefined], ['Instance refresh', undefined]]],
    ['a version made, no refresh', { templateId: 'lt-1', sourceVersion: 3 }, [['Launch template version', '3 -> (not made)']]],
    [
      'a refresh',
      { templateId: 'lt-1', sourceVersion: 3, targetVersion: 4, refreshId: 'r-1', status: 'Successful' },
      [['Launch template version', '3 -> 4'], ['Instance refresh', { text: 'r-1', code: true }], ['Status', 'Successful']],
    ],
  ])('%s', (_case, report, facts) => {
    const summary = deploySummary({ ...base, ...report });
    expect(summary.title).toBe('Instance refresh of web');
    expect(summary.text).toBe('Deployed.');
    for (const fact of facts) expect(summary.facts).toContainEqual(fact);
  });

  it('lists the timeline', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const summary = deploySummary({ ...base, timeline: [{ at, line: 'InProgress 50%' }] });
    expect(summary.tables).toEqual([{ title: 'Timeline', columns: ['Time', 'Status'], rows: [[at, 'InProgress 50%']] }]);
  });
});
