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
      imageId: '',
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
      readiness: 'none',
      lifecycleHookName: '',
    });
  });

  it.each<[string, Record<string, string>, object]>([
    ['tags, split at the first =', { tags: 'Substituters=s3://cache?region=eu-west-1&priority=10\nTeam=a=b' }, { tags: [{ key: 'Substituters', value: 's3://cache?region=eu-west-1&priority=10' }, { key: 'Team', value: 'a=b' }] }],
    ['a store path tag with every character metadata serves', { 'store-path-tag': 'nix:system@web,1=a+b_c-d.e' }, { storePathTag: 'nix:system@web,1=a+b_c-d.e' }],
    ['a canary', { 'checkpoint-percentages': '10, 50,100', 'checkpoint-delay': '10m' }, { checkpointPercentages: [10, 50, 100], checkpointDelay: 600 }],
    ['durations', { 'instance-warmup': '90', 'bake-time': '1h' }, { instanceWarmup: 90, bakeTime: 3600 }],
    ['healthy percentages 100 apart', { 'min-healthy-percentage': '100', 'max-healthy-percentage': '200' }, { minHealthyPercentage: 100, maxHealthyPercentage: 200 }],
    ['a group name of 255 characters', { 'auto-scaling-group-name': 'g'.repeat(255) }, { autoScalingGroupName: 'g'.repeat(255) }],
    ['a group name of any script, with an emoji counted twice', { 'auto-scaling-group-name': `Größe-${'😀'.repeat(124)}` }, { autoScalingGroupName: `Größe-${'😀'.repeat(124)}` }],
    ['the edges of the refresh preferences', { 'min-healthy-percentage': '0', 'checkpoint-percentages': '1,100', 'checkpoint-delay': '172800', 'bake-time': '0', 'instance-warmup': '0' }, { minHealthyPercentage: 0, checkpointPercentages: [1, 100], checkpointDelay: 172800, bakeTime: 0, instanceWarmup: 0 }],
    ['ten alarms of 255 characters', { alarms: Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(255, 'a')).join('\n') }, { alarms: Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(255, 'a')) }],
    ['a launch template name of 128 characters', { 'launch-template': 'T'.repeat(128) }, { launchTemplate: 'T'.repeat(128) }],
    ['a launch template ID', { 'launch-template': 'lt-0123456789abcdef0' }, { launchTemplate: 'lt-0123456789abcdef0' }],
    ['the readiness gate', { readiness: 'lifecycle-hook' }, { readiness: 'lifecycle-hook', lifecycleHookName: '' }],
    ['the gate with a named hook of the API\'s characters', { readiness: 'lifecycle-hook', 'lifecycle-hook-name': 'team/nixos_ready-1' }, { lifecycleHookName: 'team/nixos_ready-1' }],
    ['an AMI ID of 17 hex digits', { 'image-id': 'ami-0123456789abcdef0' }, { imageId: 'ami-0123456789abcdef0' }],
    ['an older AMI ID of 8', { 'image-id': 'ami-0123abcd' }, { imageId: 'ami-0123abcd' }],
    ["AWS's values in any case", { 'scale-in-protected-instances': 'refresh', 'standby-instances': 'TERMINATE' }, { scaleInProtectedInstances: 'Refresh', standbyInstances: 'Terminate' }],
    ['a timeout in fractions of a minute', { 'timeout-minutes': '0.5' }, { timeoutMinutes: 0.5 }],
    ['what to do on abort and when busy', { 'on-abort': 'leave', 'if-in-progress': 'cancel', wait: 'false' }, { onAbort: 'leave', ifInProgress: 'cancel', wait: false }],
  ])('reads %s', (_case, values, expected) => {
    expect(read({ ...VALID, ...values })).toMatchObject(expected);
  });

  it.each<[string, Record<string, string>, string]>([
    ['an AMI ID in capitals', { 'image-id': 'ami-0123456789ABCDEF0' }, "Input 'image-id' must be an AMI ID, ami- and 8 or 17 hex digits, got \"ami-0123456789ABCDEF0\""],
    ['an AMI ID of 9 hex digits', { 'image-id': 'ami-0123abcde' }, "Input 'image-id' must be an AMI ID"],
    ['an AMI name', { 'image-id': 'nixos-25.05' }, "Input 'image-id' must be an AMI ID"],
    ['checkpoints not ending at 100', { 'checkpoint-percentages': '10,50' }, "Input 'checkpoint-percentages' must be ascending and end with 100"],
    ['checkpoints twice the same', { 'checkpoint-percentages': '50,50,100' }, "Input 'checkpoint-percentages' must be ascending"],
    ['a checkpoint of 0', { 'checkpoint-percentages': '0,100' }, "Input 'checkpoint-percentages' items must each be a whole percentage 1-100"],
    ['a checkpoint delay without checkpoints', { 'checkpoint-delay': '60' }, "Input 'checkpoint-delay' needs 'checkpoint-percentages'"],
    ['healthy percentages over 100 apart', { 'min-healthy-percentage': '50', 'max-healthy-percentage': '160' }, "Input 'max-healthy-percentage' must be at most 100 above 'min-healthy-percentage' (50), got 160"],
    ['a tag value over 256 characters', { tags: `Note=${'x'.repeat(257)}` }, 'Input \'tags\' value of "Note" is 257 characters long; EC2 takes at most 256'],
    ['a tag key with a space', { tags: 'My Tag=x' }, 'Input \'tags\' must not set the key "My Tag": it has a space: with MetadataOptions.InstanceMetadataTags enabled, EC2 launches no instance'],
    ['a tag key with /', { tags: 'k8s.io/cluster-autoscaler/enabled=true' }, 'Input \'tags\' must not set the key "k8s.io/cluster-autoscaler/enabled": it has "/"'],
    ['a tag key metadata keeps for itself', { tags: '_index=1' }, 'Input \'tags\' must not set the key "_index": it cannot be served by instance metadata'],
    ["AWS's own tag prefix in tags", { tags: 'aws:team=web' }, 'Input \'tags\' must not set the key "aws:team": it starts with aws:'],
    ['the Environment tag', { tags: 'Environment=production' }, 'Input \'tags\' must not set the key "Environment": it decides which IAM roles may act on the instances (aws:ResourceTag/Environment in iam/)'],
    ['the Environment tag in another case', { tags: 'environment=production' }, 'Input \'tags\' must not set the key "environment": it decides which IAM roles'],
    ['the store path tag', { tags: `NixStorePath=${STORE_PATH}` }, 'Input \'tags\' must not set the key "NixStorePath": it carries \'store-path\''],
    ['the store path tag set again', { 'store-path-tag': 'System', tags: 'System=other' }, 'Input \'tags\' must not set the key "System"'],
    ['a substituter that skips signatures', { tags: 'Substituters=s3://cache?trusted=1' }, 'Input \'tags\' value of "Substituters" has "s3://cache?trusted=1" (refused settings: trusted), which the user data refuses'],
    ['a substituter with a signing key', { tags: 'Substituters=s3://a s3://cache?secret-key=/etc/nix/key' }, '(refused settings: secret-key)'],
    ['a trusted key that is not one', { tags: 'TrustedPublicKeys=cache-1' }, 'Input \'tags\' value of "TrustedPublicKeys" has "cache-1", which the user data refuses'],
    ['50 tags besides the store path', { tags: Array.from({ length: 50 }, (_, i) => `t${i}=x`).join('\n') }, "Input 'tags' sets 50 tags; with 'store-path-tag' that is over EC2's limit of 50 per instance"],
    ["AWS's own tag prefix", { 'store-path-tag': 'aws:nix' }, "Input 'store-path-tag' must be a tag key"],
    ['a store path tag with /', { 'store-path-tag': 'nixos/store-path' }, 'Input \'store-path-tag\' must be a tag key of 1-128 characters from A-Z a-z 0-9 + - = . , _ : @ (no / and no spaces), not ., .. or _index, not starting with aws:, and not a tag with another use; "nixos/store-path" has "/"'],
    ['Environment as the store path tag', { 'store-path-tag': 'Environment' }, '"Environment" decides which IAM roles'],
    ['Substituters as the store path tag', { 'store-path-tag': 'Substituters' }, '"Substituters" is a tag the user data reads for something else'],
    ['a bake time over two days', { 'bake-time': '49h' }, "Input 'bake-time' must be a duration of 0-172800 seconds"],
    ['a readiness the action does not know', { readiness: 'hook' }, "Input 'readiness' must be one of"],
    ['a hook name without the gate', { 'lifecycle-hook-name': 'ready' }, "Input 'lifecycle-hook-name' is only used with 'readiness: lifecycle-hook'"],
    ['a hook name the API refuses', { readiness: 'lifecycle-hook', 'lifecycle-hook-name': 'ready; reboot' }, "Input 'lifecycle-hook-name' must be a lifecycle hook name of 1-255 characters from A-Z a-z 0-9 - _ /"],
    ["the gate's group tag", { tags: 'AutoScalingGroupName=api' }, 'Input \'tags\' must not set the key "AutoScalingGroupName": it is the readiness gate\'s'],
    ["the gate's hook tag as the store path tag", { 'store-path-tag': 'LifecycleHookName' }, '"LifecycleHookName" is a tag the user data reads for something else'],
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
