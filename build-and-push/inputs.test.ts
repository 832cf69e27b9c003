import { describe, expect, it } from '@jest/globals';
import { inputErrorOf } from '../shared/fixtures/input-error.js';
import { readInputs } from './inputs.js';

const KEY = `cache-1:${'A'.repeat(86)}==`;
const VALID = { installable: '.#web', 'store-uri': 'file:///tmp/cache', 'signing-key': KEY };
const read = (values: Record<string, string>, env: NodeJS.ProcessEnv = {}) => readInputs((name) => values[name] ?? '', env);
const failure = (values: Record<string, string>, env?: NodeJS.ProcessEnv): string => inputErrorOf(() => read(values, env));

describe('build-and-push inputs', () => {
  it('applies the defaults, and needs no region without AWS', () => {
    expect(read(VALID)).toEqual({
      roleToAssume: '',
      awsRegion: '',
      audience: 'sts.amazonaws.com',
      installables: ['.#web'],
      push: true,
      storeUri: 'file:///tmp/cache',
      sign: true,
      signingKey: KEY,
      signingKeyParameter: '',
      compression: 'zstd',
      buildArgs: [],
    });
  });

  it.each<[string, Record<string, string>, NodeJS.ProcessEnv, object]>([
    ['a build without push, key or store', { installable: '.#a\n.#b', push: 'false' }, {}, { installables: ['.#a', '.#b'], push: false, storeUri: '', signingKey: '' }],
    ['an unsigned push', { installable: '.#a', 'store-uri': 's3://cache?region=eu-west-1', sign: 'false' }, {}, { sign: false }],
    ['a key parameter ARN of 2048 characters', { ...VALID, 'signing-key': '', 'signing-key-parameter': `arn:aws:ssm:eu-west-1:123456789012:parameter/${'k'.repeat(2048 - 45)}` }, { AWS_REGION: 'eu-west-1' }, { signingKeyParameter: `arn:aws:ssm:eu-west-1:123456789012:parameter/${'k'.repeat(2048 - 45)}` }],
    ['the key from a parameter, with the region from the environment', { ...VALID, 'signing-key': '', 'signing-key-parameter': '/nix/key' }, { AWS_DEFAULT_REGION: 'eu-west-1' }, { signingKeyParameter: '/nix/key', awsRegion: 'eu-west-1' }],
    ['build arguments, one a line', { ...VALID, 'build-args': '--option\nsubstitute false\n-L' }, {}, { buildArgs: ['--option', 'substitute false', '-L'] }],
    ['a compression in any case', { ...VALID, compression: 'XZ' }, {}, { compression: 'xz' }],
  ])('reads %s', (_case, values, env, expected) => {
    expect(read(values, env)).toMatchObject(expected);
  });

  it.each<[string, Record<string, string>, NodeJS.ProcessEnv, string]>([
    ['a push without a key', { ...VALID, 'signing-key': '' }, {}, "Input 'signing-key' or 'signing-key-parameter' is required to push (or set 'sign: false'"],
    ['both keys', { ...VALID, 'signing-key-parameter': '/nix/key' }, { AWS_REGION: 'eu-west-1' }, "Inputs 'signing-key' and 'signing-key-parameter' exclude each other"],
    ['a key parameter ARN longer than GetParameter takes', { ...VALID, 'signing-key': '', 'signing-key-parameter': `arn:aws:ssm:eu-west-1:123456789012:parameter/${'k'.repeat(2048 - 44)}` }, { AWS_REGION: 'eu-west-1' }, "Input 'signing-key-parameter' must be an SSM parameter name"],
    ['a key parameter without a region', { ...VALID, 'signing-key': '', 'signing-key-parameter': '/nix/key' }, {}, 'No AWS region'],
    ['a public key given as the secret one', { ...VALID, 'signing-key': `cache-1:${'A'.repeat(43)}=` }, {}, "Input 'signing-key' must be a Nix secret key name:base64, as nix key generate-secret writes it, got a value of 52 characters"],
    ['a store URI that is not one', { ...VALID, 'store-uri': 'my-bucket' }, {}, "Input 'store-uri' must be a Nix store URI"],
    ['a store URI with its own key', { ...VALID, 'store-uri': 's3://cache?secret-key=/etc/nix/key' }, {}, "Input 'store-uri' must not set secret-key: give the key as 'signing-key' or 'signing-key-parameter'"],
  ])('rejects %s', (_case, values, env, message) => {
    expect(failure(values, env)).toContain(message);
  });
});
