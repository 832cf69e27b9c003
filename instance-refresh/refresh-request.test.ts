import { describe, expect, it } from '@jest/globals';
import { readInputs } from './inputs.js';
import { refreshRequest } from './refresh-request.js';

const STORE_PATH = '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05';
const TARGET = { templateId: 'lt-0123456789abcdef0', version: 8 };
const request = (values: Record<string, string>) =>
  refreshRequest(
    readInputs((name) => ({ 'auto-scaling-group-name': 'web', 'store-path': STORE_PATH, ...values })[name] ?? '', { AWS_REGION: 'us-east-1' }),
    TARGET,
  );

describe('refreshRequest', () => {
  it('names the version by number and leaves unset preferences to AWS', () => {
    expect(request({})).toEqual({
      AutoScalingGroupName: 'web',
      Strategy: 'Rolling',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-0123456789abcdef0', Version: '8' } },
      Preferences: {
        MinHealthyPercentage: 90,
        SkipMatching: true,
        AutoRollback: true,
        ScaleInProtectedInstances: 'Ignore',
        StandbyInstances: 'Ignore',
      },
    });
  });

  it.each<[Record<string, string>, object]>([
    [{ 'max-healthy-percentage': '150', 'instance-warmup': '5m' }, { MaxHealthyPercentage: 150, InstanceWarmup: 300 }],
    [{ 'checkpoint-percentages': '10,100', 'checkpoint-delay': '15m' }, { CheckpointPercentages: [10, 100], CheckpointDelay: 900 }],
    [{ alarms: 'web-5xx\nweb-latency', 'bake-time': '10m' }, { AlarmSpecification: { Alarms: ['web-5xx', 'web-latency'] }, BakeTime: 600 }],
    [{ 'skip-matching': 'false', 'auto-rollback': 'false' }, { SkipMatching: false, AutoRollback: false }],
    [{ 'scale-in-protected-instances': 'refresh', 'standby-instances': 'wait' }, { ScaleInProtectedInstances: 'Refresh', StandbyInstances: 'Wait' }],
  ])('%j', (values, preferences) => {
    expect(request(values).Preferences).toMatchObject(preferences);
  });
});
