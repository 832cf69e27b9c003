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
      buildTimeoutSeconds: 5 * 3600,
      cacheTimeoutSeconds: 120,
    });
  });

  it.each<[string, Record<string, string>, NodeJS.ProcessEnv, object]>([
    ['a build without push, key or store', { installable: '.#a\n.#b', push: 'false' }, {}, { installables: ['.#a', '.#b'], push: false, storeUri: '', signingKey: '' }],
    ['an unsigned push', { installable: '.#a', 'store-uri': 's3://cache?region=eu-west-1', sign: 'false' }, {}, { sign: false }],
    ['a key parameter ARN of 2048 characters', { ...VALID, 'signing-key': '', 'signing-key-parameter': `arn:aws:ssm:eu-west-1:123456789012:parameter/${'k'.repeat(2048 - 45)}` }, { AWS_REGION: 'eu-west-1' }, { signingKeyParameter: `arn:aws:ssm:eu-west-1:123456789012:parameter/${'k'.repeat(2048 - 45)}` }],
    ['the key from a parameter, with the region from the environment', { ...VALID, 'signing-key': '', 'signing-key-parameter': '/nix/key' }, { AWS_DEFAULT_REGION: 'eu-west-1' }, { signingKeyParameter: '/nix/key', awsRegion: 'eu-west-1' }],
    ['build arguments, one a line or split at spaces', { ...VALID, 'build-args': '--max-jobs 4\n-L\n--override-input\nnixpkgs github:NixOS/nixpkgs' }, {}, { buildArgs: ['--max-jobs', '4', '-L', '--override-input', 'nixpkgs', 'github:NixOS/nixpkgs'] }],
    ['a compression in any case', { ...VALID, compression: 'XZ' }, {}, { compression: 'xz' }],
    ['timeouts as durations', { ...VALID, 'build-timeout': '90m', 'cache-timeout': '45' }, {}, { buildTimeoutSeconds: 5400, cacheTimeoutSeconds: 45 }],
    ['an HTTP cache', { ...VALID, 'store-uri': 'http://127.0.0.1:8080' }, {}, { storeUri: 'http://127.0.0.1:8080' }],
    ['an S3 cache with every push setting', { ...VALID, 'store-uri': 's3://cache?region=eu-west-1&endpoint=minio.local:9000&scheme=http&profile=ci&compression=xz&parallel-compression=true&compression-level=9&multipart-upload=true&write-nar-listing=1&ls-compression=br&narinfo-compression=br&log-compression=br' }, {}, { push: true }],
  ])('reads %s', (_case, values, env, expected) => {
    expect(read(values, env)).toMatchObject(expected);
  });

  it.each<[string, Record<string, string>, NodeJS.ProcessEnv, string]>([
    ['a push without a key', { ...VALID, 'signing-key': '' }, {}, "Input 'signing-key' or 'signing-key-parameter' is required to push (or set 'sign: false'"],
    ['both keys', { ...VALID, 'signing-key-parameter': '/nix/key' }, { AWS_REGION: 'eu-west-1' }, "Inputs 'signing-key' and 'signing-key-parameter' exclude each other"],
    ['a key parameter ARN longer than GetParameter takes', { ...VALID, 'signing-key': '', 'signing-key-parameter': `arn:aws:ssm:eu-west-1:123456789012:parameter/${'k'.repeat(2048 - 44)}` }, { AWS_REGION: 'eu-west-1' }, "Input 'signing-key-parameter' must be an SSM parameter name"],
    ['a key parameter without a region', { ...VALID, 'signing-key': '', 'signing-key-parameter': '/nix/key' }, {}, 'No AWS region'],
    ['a public key given as the secret one', { ...VALID, 'signing-key': `cache-1:${'A'.repeat(43)}=` }, {}, "Input 'signing-key' must be a Nix secret key name:base64, as nix key generate-secret writes it, got a value of 52 characters"],
    ['a store URI that is not one', { ...VALID, 'store-uri': 'my-bucket' }, {}, "Input 'store-uri' must be a binary cache URI (s3, https, http, file)"],
    ['a store URI with its own key', { ...VALID, 'store-uri': 's3://cache?secret-key=/etc/nix/key' }, {}, "Input 'store-uri' must not set secret-key: it must be a binary cache URI"],
    ['its own key, with the hint', { ...VALID, 'store-uri': 's3://cache?secret-key=/etc/nix/key' }, {}, "give the key as 'signing-key' or 'signing-key-parameter'"],
    ['a trusted cache', { ...VALID, 'store-uri': 'file:///srv/cache?trusted=1' }, {}, "Input 'store-uri' must not set trusted:"],
    ['a setting percent-encoded', { ...VALID, 'store-uri': 'https://cache?%74rusted=1' }, {}, "Input 'store-uri' must not set trusted:"],
    ['settings of substituters only', { ...VALID, 'store-uri': 's3://cache?region=eu-west-1&priority=10&want-mass-query=true' }, {}, "Input 'store-uri' must not set priority, want-mass-query:"],
    ['a local store by path', { ...VALID, 'store-uri': '/srv/nix-store' }, {}, "Input 'store-uri' must be a binary cache URI"],
    ['a local store with a root', { ...VALID, 'store-uri': 'local?root=/srv/nix' }, {}, "Input 'store-uri' must not set root:"],
    ['an SSH store', { ...VALID, 'store-uri': 'ssh-ng://builder' }, {}, "Input 'store-uri' must be a binary cache URI"],
    ['impure evaluation', { ...VALID, 'build-args': '-L\n--impure' }, {}, "Input 'build-args' refuses \"--impure\": impure evaluation"],
    ['an option', { ...VALID, 'build-args': '--option sandbox false' }, {}, "Input 'build-args' refuses \"--option\""],
    ['a store URI with a password', { ...VALID, 'store-uri': 'https://writer:hunter22@cache.example.org' }, {}, "Input 'store-uri' must not hold a user name or password (user:password@host): give them to Nix in its netrc file"],
    ['a store URI with a user name', { ...VALID, 'store-uri': 'http://writer@cache.example.org/nix?compression=xz' }, {}, "Input 'store-uri' must not hold a user name or password"],
    ['a build timeout of nothing', { ...VALID, 'build-timeout': '0' }, {}, "Input 'build-timeout' must be a duration of 1-432000 seconds"],
    ['a cache timeout in days', { ...VALID, 'cache-timeout': '2d' }, {}, "Input 'cache-timeout' must be a duration of 1-3600 seconds"],
  ])('rejects %s', (_case, values, env, message) => {
    expect(failure(values, env)).toContain(message);
  });

  it.each(['https://writer:hunter22@cache.example.org?trusted=1', 'https://writer:hunter22@cache example'])('never shows the password of %s', (uri) => {
    expect(failure({ ...VALID, 'store-uri': uri })).not.toContain('hunter22');
  });
});
