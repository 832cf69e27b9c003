import { describe, expect, it } from '@jest/globals';
import { buildEnv, cacheEnv, isWithheld, PROTECTED_SETTINGS, protectedNixConfig } from './nix-env.js';

const credentials = { accessKeyId: 'ASIAROLE', secretAccessKey: 'secret', sessionToken: 'token', expiration: new Date('2026-05-01T12:00:00Z') };

/** A step's environment on a runner, with every kind of secret it can hold next to what Nix needs. */
const STEP = {
  PATH: '/usr/bin',
  HOME: '/home/runner',
  NIX_CONFIG: 'sandbox = true',
  GITHUB_SHA: 'a1b2c3',
  'INPUT_SIGNING-KEY': 'cache-1:secret',
  'INPUT_SIGNING-KEY-PARAMETER': '/nix/key',
  'STATE_signing-key-file': '/tmp/key',
  AWS_ACCESS_KEY_ID: 'AKIAOWN',
  AWS_SECRET_ACCESS_KEY: 'own',
  AWS_SESSION_TOKEN: 'own-token',
  AWS_REGION: 'eu-west-1',
  AWS_PROFILE: 'writer',
  AWS_WEB_IDENTITY_TOKEN_FILE: '/var/token',
  AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials',
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.actions',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
  ACTIONS_RUNTIME_TOKEN: 'runtime-token',
  GITHUB_TOKEN: 'ghs_token',
  GH_TOKEN: 'ghs_token',
  GITHUB_ENV: '/runner/_temp/env',
  GITHUB_OUTPUT: '/runner/_temp/output',
};
const KEPT = { PATH: '/usr/bin', HOME: '/home/runner', NIX_CONFIG: `sandbox = true\n${PROTECTED_SETTINGS}`, GITHUB_SHA: 'a1b2c3' };

describe('buildEnv', () => {
  it('keeps what Nix needs and withholds every secret of the step', () => {
    expect(buildEnv(STEP)).toEqual(KEPT);
  });

  it.each([
    ['INPUT_SIGNING-KEY', true],
    ['input_signing-key', true],
    ['AWS_SHARED_CREDENTIALS_FILE', true],
    ['ACTIONS_CACHE_URL', true],
    ['GITHUB_STEP_SUMMARY', true],
    ['GITHUB_REPOSITORY', false],
    ['NIX_PATH', false],
    ['SSL_CERT_FILE', false],
  ])('%s withheld: %s', (name, withheld) => {
    expect(isWithheld(name)).toBe(withheld);
  });
});

describe('protectedNixConfig', () => {
  it.each<[string, string | undefined, string]>([
    ['no NIX_CONFIG', undefined, 'pure-eval = true\naccept-flake-config = false\nallow-unsafe-native-code-during-evaluation = false'],
    [
      "the step's settings that would re-open evaluation, overridden by later lines",
      'pure-eval = false\naccept-flake-config = true\nallow-unsafe-native-code-during-evaluation = true',
      'pure-eval = false\naccept-flake-config = true\nallow-unsafe-native-code-during-evaluation = true\npure-eval = true\naccept-flake-config = false\nallow-unsafe-native-code-during-evaluation = false',
    ],
  ])('%s', (_case, given, expected) => {
    expect(protectedNixConfig(given)).toBe(expected);
  });
});

describe('cacheEnv', () => {
  it.each<[string, Parameters<typeof cacheEnv>[2], object]>([
    ['before the build: no credentials', 'none', {}],
    [
      "the step's own AWS variables",
      'step',
      // Every AWS_* variable of the step, and nothing else of it.
      Object.fromEntries(Object.entries(STEP).filter(([name]) => name.startsWith('AWS_'))),
    ],
    ["the role's, and only those", credentials, { AWS_ACCESS_KEY_ID: 'ASIAROLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' }],
  ])('%s, and a cache folder of its own', (_case, given, aws) => {
    expect(cacheEnv(STEP, '/tmp/run-cache', given)).toEqual({ ...KEPT, ...aws, XDG_CACHE_HOME: '/tmp/run-cache' });
  });
});
