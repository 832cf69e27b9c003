import { describe, expect, it } from '@jest/globals';
import { InputError } from './inputs.js';
import { resolveRegion } from './region.js';

describe('resolveRegion', () => {
  it.each<[string, string | undefined, Record<string, string>, string]>([
    ['the input wins', 'eu-central-1', { AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-west-2' }, 'eu-central-1'],
    ['then AWS_REGION', undefined, { AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-west-2' }, 'us-east-1'],
    ['then AWS_DEFAULT_REGION', '', { AWS_DEFAULT_REGION: 'us-west-2' }, 'us-west-2'],
    ['a blank input counts as absent', '  ', { AWS_REGION: 'ap-southeast-2' }, 'ap-southeast-2'],
    ['a blank variable counts as absent', undefined, { AWS_REGION: '', AWS_DEFAULT_REGION: 'sa-east-1' }, 'sa-east-1'],
    ['trimmed', ' eu-west-3\n', {}, 'eu-west-3'],
    ['GovCloud', 'us-gov-west-1', {}, 'us-gov-west-1'],
    ['China', 'cn-northwest-1', {}, 'cn-northwest-1'],
    ['European Sovereign Cloud', 'eusc-de-east-1', {}, 'eusc-de-east-1'],
    ['20 characters, the most SendCommand\'s OutputS3Region takes', 'abcd-efghijklmnopq-1', {}, 'abcd-efghijklmnopq-1'],
  ])('%s', (_case, input, env, expected) => {
    expect(resolveRegion(input, env)).toBe(expected);
  });

  it.each<[string, string | undefined, Record<string, string>, RegExp]>([
    ['none anywhere', undefined, {}, /^No AWS region: set the 'aws-region' input or the AWS_REGION or AWS_DEFAULT_REGION/],
    ['a malformed input', 'Frankfurt', { AWS_REGION: 'us-east-1' }, /^Input 'aws-region' must be an AWS region such as eu-central-1, of at most 20 characters, got "Frankfurt"$/],
    ['a zone, not a region', 'eu-central-1a', {}, /got "eu-central-1a"$/],
    ['21 characters (OutputS3Region takes 3-20)', 'abcd-efghijklmnopqr-1', {}, /^Input 'aws-region' must be an AWS region such as eu-central-1, of at most 20 characters, got "abcd-efghijklmnopqr-1"$/],
    ['a long variable, as strictly as the input', undefined, { AWS_DEFAULT_REGION: 'abcd-efghijklmnopqrs-1' }, /^Environment variable AWS_DEFAULT_REGION must be an AWS region such as eu-central-1, of at most 20/],
    ['a malformed variable names the variable', undefined, { AWS_REGION: 'eu-central' }, /^Environment variable AWS_REGION must be an AWS region/],
  ])('fails: %s', (_case, input, env, message) => {
    let thrown: unknown;
    try {
      resolveRegion(input, env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as InputError).input).toBe('aws-region');
    expect((thrown as InputError).message).toMatch(message);
  });
});
