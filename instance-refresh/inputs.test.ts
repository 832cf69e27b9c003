import { describe, expect, it } from '@jest/globals';
import { inputErrorOf } from '../shared/fixtures/input-error.js';
import { readInputs } from './inputs.js';

const STORE_PATH = '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05';
const VALID = { 'auto-scaling-group-name': 'web', 'store-path': STORE_PATH };
const ENV = { AWS_REGION: 'eu-central-1' };
const read = (values: Record<string, string>) => readInputs((name) => values[name] ?? '', ENV);
const failure = (values: Record<string, string>): string => inputErrorOf(() => read(values));

describe('instance-refresh inputs', () => {
  it('applies the defaults', () => {
    expect(read(VALID)).toEqual({
      roleToAssume: '',
      awsRegion: 'eu-central-1',
      audience: 'sts.amazonaws.com',
      autoScalingGroupName: 'web',
      storePath: STORE_PATH,
      storePathTag: 'NixStorePath',
      tags: [],
      launchTemplate: '',
      minHealthyPercentage: 90,
      maxHealthyPercentage: undefined,
      instanceWarmup: undefined,
      checkpointPercentages: [],
      checkpointDelay: undefined,
      skipMatching: true,
      autoRollback: true,
      alarms: [],
      bakeTime: undefined,
      scaleInProtectedInstances: 'Ignore',
      standbyInstances: 'Ignore',
      ifInProgress: 'wait',
      wait: true,
      timeoutMinutes: 60,
      pollIntervalSeconds: 15,
      onAbort: 'rollback',
    });
  });

  it.each<[string, Record<string, string>, object]>([
    ['tags, split at the first =', { tags: 'Substituters=s3://cache?region=eu-west-1&trusted=1\nTeam=web' }, { tags: [{ key: 'Substituters', value: 's3://cache?region=eu-west-1&trusted=1' }, { key: 'Team', value: 'web' }] }],
    ['a canary', { 'checkpoint-percentages': '10, 50,100', 'checkpoint-delay': '10m' }, { checkpointPercentages: [10, 50, 100], checkpointDelay: 600 }],
    ['durations', { 'instance-warmup': '90', 'bake-time': '1h' }, { instanceWarmup: 90, bakeTime: 3600 }],
    ['healthy percentages 100 apart', { 'min-healthy-percentage': '100', 'max-healthy-percentage': '200' }, { minHealthyPercentage: 100, maxHealthyPercentage: 200 }],
    ['a group name of 255 characters', { 'auto-scaling-group-name': 'g'.repeat(255) }, { autoScalingGroupName: 'g'.repeat(255) }],
    ['a group name of any script, with an emoji counted twice', { 'auto-scaling-group-name': `Größe-${'😀'.repeat(124)}` }, { autoScalingGroupName: `Größe-${'😀'.repeat(124)}` }],
    ['the edges of the refresh preferences', { 'min-healthy-percentage': '0', 'checkpoint-percentages': '1,100', 'checkpoint-delay': '172800', 'bake-time': '0', 'instance-warmup': '0' }, { minHealthyPercentage: 0, checkpointPercentages: [1, 100], checkpointDelay: 172800, bakeTime: 0, instanceWarmup: 0 }],
    ['ten alarms of 255 characters', { alarms: Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(255, 'a')).join('\n') }, { alarms: Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(255, 'a')) }],
    ['a launch template name of 128 characters', { 'launch-template': 'T'.repeat(128) }, { launchTemplate: 'T'.repeat(128) }],
    ['a launch template ID', { 'launch-template': 'lt-0123456789abcdef0' }, { launchTemplate: 'lt-0123456789abcdef0' }],
    ["AWS's values in any case", { 'scale-in-protected-instances': 'refresh', 'standby-instances': 'TERMINATE' }, { scaleInProtectedInstances: 'Refresh', standbyInstances: 'Terminate' }],
    ['a timeout in fractions of a minute', { 'timeout-minutes': '0.5' }, { timeoutMinutes: 0.5 }],
    ['what to do on abort and when busy', { 'on-abort': 'leave', 'if-in-progress': 'cancel', wait: 'false' }, { onAbort: 'leave', ifInProgress: 'cancel', wait: false }],
  ])('reads %s', (_case, values, expected) => {
    expect(read({ ...VALID, ...values })).toMatchObject(expected);
  });

  it.each<[string, Record<string, string>, string]>([
    ['checkpoints not ending at 100', { 'checkpoint-percentages': '10,50' }, "Input 'checkpoint-percentages' must be ascending and end with 100"],
    ['checkpoints twice the same', { 'checkpoint-percentages': '50,50,100' }, "Input 'checkpoint-percentages' must be ascending"],
    ['a checkpoint of 0', { 'checkpoint-percentages': '0,100' }, "Input 'checkpoint-percentages' items must each be a whole percentage 1-100"],
    ['a checkpoint delay without checkpoints', { 'checkpoint-delay': '60' }, "Input 'checkpoint-delay' needs 'checkpoint-percentages'"],
    ['healthy percentages over 100 apart', { 'min-healthy-percentage': '50', 'max-healthy-percentage': '160' }, "Input 'max-healthy-percentage' must be at most 100 above 'min-healthy-percentage' (50), got 160"],
    ['a tag value over 256 characters', { tags: `Note=${'x'.repeat(257)}` }, "Input 'tags' values must be at most 256 characters, got 257 for 'Note'"],
    ['a tag key IMDS cannot serve', { tags: 'My Tag=x' }, "Input 'tags' lines must each be Key=Value"],
    ["AWS's own tag prefix", { 'store-path-tag': 'aws:nix' }, "Input 'store-path-tag' must be a tag key"],
    ['the store path tag set again', { 'store-path-tag': 'System', tags: 'System=other' }, "Input 'tags' must not set 'System'"],
    ['a bake time over two days', { 'bake-time': '49h' }, "Input 'bake-time' must be a duration of 0-172800 seconds"],
    ['a group name of 256 characters', { 'auto-scaling-group-name': 'g'.repeat(256) }, "Input 'auto-scaling-group-name' must be an Auto Scaling group name of 1-255 characters"],
    ['a group name of 128 emoji (256 UTF-16 units)', { 'auto-scaling-group-name': '😀'.repeat(128) }, "Input 'auto-scaling-group-name' must be an Auto Scaling group name"],
    ['a group name with a noncharacter', { 'auto-scaling-group-name': 'web\uFFFE' }, "Input 'auto-scaling-group-name' must be an Auto Scaling group name"],
    ['a group name with a lone surrogate', { 'auto-scaling-group-name': 'web\uD800' }, "Input 'auto-scaling-group-name' must be an Auto Scaling group name"],
    ['an alarm name of 256 characters', { alarms: 'a'.repeat(256) }, "Input 'alarms' items must each be a CloudWatch alarm name"],
    ['a launch template name with a space', { 'launch-template': 'my template' }, "Input 'launch-template' must be a launch template ID"],
    ['a launch template name of 2 characters', { 'launch-template': 'lt' }, "Input 'launch-template' must be a launch template ID"],
    ['a min healthy percentage over 100', { 'min-healthy-percentage': '101' }, "Input 'min-healthy-percentage' must be an integer 0-100"],
    ['a max healthy percentage under 100', { 'max-healthy-percentage': '99' }, "Input 'max-healthy-percentage' must be an integer 100-200"],
    ['a checkpoint delay over two days', { 'checkpoint-percentages': '100', 'checkpoint-delay': '172801' }, "Input 'checkpoint-delay' must be a duration of 0-172800 seconds"],
    ['a protected-instances choice AWS does not know', { 'scale-in-protected-instances': 'Skip' }, "Input 'scale-in-protected-instances' must be one of"],
    ['eleven alarms', { alarms: 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk' }, "Input 'alarms' takes at most 10 items"],
    ['a timeout of no time', { 'timeout-minutes': '0.0' }, "Input 'timeout-minutes' must be more than 0 and at most 7200 minutes, got 0"],
    ['a timeout that is not a number', { 'timeout-minutes': '1h' }, "Input 'timeout-minutes' must be a number of minutes such as 30 or 0.5"],
    ['a store path with an e in its hash', { 'store-path': STORE_PATH.replace('0c9q', 'ec9q') }, "Input 'store-path' must be a full store path"],
  ])('rejects %s', (_case, values, message) => {
    expect(failure({ ...VALID, ...values })).toContain(message);
  });
});
