import { describe, expect, it } from '@jest/globals';
import {
  buildCommand,
  buildEnv,
  byPath,
  cacheEnv,
  cacheSettings,
  checkBuildArgs,
  closureOf,
  copyTimeoutMs,
  describeCommand,
  explainStoreFailure,
  firstLine,
  formatSeconds,
  inChunks,
  isSupported,
  isTransientNixLog,
  isWithheld,
  keyName,
  narSize,
  nixErrorLines,
  parseBuildOutput,
  parseNixVersion,
  parsePathInfo,
  planPush,
  PROTECTED_SETTINGS,
  protectedNixConfig,
  pushUri,
  splitBuildArgs,
  stepOutputs,
  storeInfoCommand,
  storeScheme,
  unsignedBy,
  type NixVersion,
  type RunReport,
} from './plan.js';

describe('splitBuildArgs', () => {
  it.each<[string[], string[]]>([
    [['--max-jobs 4', '-L'], ['--max-jobs', '4', '-L']],
    [['--override-input', 'nixpkgs', 'github:NixOS/nixpkgs/nixos-25.05'], ['--override-input', 'nixpkgs', 'github:NixOS/nixpkgs/nixos-25.05']],
    [['  --keep-going  ', ''], ['--keep-going']],
  ])('%j is %j', (lines, args) => {
    expect(splitBuildArgs(lines)).toEqual(args);
  });
});

describe('checkBuildArgs', () => {
  it.each<[string[]]>([
    [[]],
    [['-L', '--keep-going', '-k', '--show-trace', '--fallback', '--offline', '--refresh', '--rebuild', '-v', '--quiet']],
    [['--no-update-lock-file', '--no-write-lock-file']],
    [['--max-jobs', 'auto', '-j', '4', '--cores', '2', '--system', 'aarch64-linux']],
    [['--override-input', 'nixpkgs', 'github:NixOS/nixpkgs/nixos-25.05', '--override-input', 'a/b', 'path:/src/b']],
  ])('allows %j', (args) => {
    expect(checkBuildArgs(args)).toBeUndefined();
  });

  it.each<[string[], string]>([
    [['--impure'], 'refuses "--impure": impure evaluation can read the environment of this step'],
    [['-L', '--file', 'default.nix'], 'refuses "--file": a non-flake expression is evaluated impurely'],
    [['-f', 'default.nix'], 'refuses "-f": a non-flake expression'],
    [['--expr', 'import ./x.nix'], 'refuses "--expr": a non-flake expression'],
    [['--arg', 'a', 'b'], 'refuses "--arg": it only means something in impure evaluation'],
    [['--argstr', 'a', 'b'], 'refuses "--argstr"'],
    [['-I', 'nixpkgs=/x'], 'refuses "-I"'],
    [['--include', 'nixpkgs=/x'], 'refuses "--include"'],
    [['--option', 'sandbox', 'false'], 'refuses "--option": a Nix option can turn off the protections'],
    [['--extra-sandbox-paths', '/proc'], 'refuses "--extra-sandbox-paths": a Nix option'],
    [['--no-pure-eval'], 'refuses "--no-pure-eval": evaluation is always pure here'],
    [['--pure-eval'], 'refuses "--pure-eval"'],
    [['--no-sandbox'], 'refuses "--no-sandbox": the build sandbox keeps builders away'],
    [['--sandbox'], 'refuses "--sandbox"'],
    [['--accept-flake-config'], 'refuses "--accept-flake-config": a flake\'s nixConfig must not set'],
    [['--eval-store', 'auto'], 'refuses "--eval-store": the build must use the runner\'s store'],
    [['--store', '/tmp/s'], 'refuses "--store"'],
    [['--allow-unsafe-native-code-during-evaluation'], 'refuses "--allow-unsafe-native-code-during-evaluation": it is not one of the allowed flags (-L,'],
    [['--max-jobs=4'], 'refuses "--max-jobs=4": it is not one of the allowed flags'],
    [['-Lv'], 'refuses "-Lv": it is not one of the allowed flags'],
    [['.#other'], 'refuses ".#other": it is not one of the allowed flags'],
    [['--max-jobs'], 'refuses --max-jobs without its value: it takes a value such as 4 or auto'],
    [['--max-jobs', '--impure'], 'refuses --max-jobs with the value "--impure"'],
    [['--cores', 'all'], 'refuses --cores with the value "all"'],
    [['--system', 'x86_64-linux;rm'], 'refuses --system with the value "x86_64-linux;rm"'],
    [['--override-input', 'nixpkgs'], 'refuses --override-input without its value: it takes 2 values'],
    [['--override-input', 'nixpkgs', '--impure'], 'refuses --override-input with the value "--impure"'],
  ])('refuses %j', (args, message) => {
    expect(checkBuildArgs(args)).toContain(message);
  });
});

describe('copyTimeoutMs', () => {
  it.each([
    ['nothing to upload', 120_000, 0, 120_000],
    ['under 1 MiB', 2_000, 160, 3_000],
    ['1 GiB of NAR', 120_000, 1024 ** 3, 120_000 + 1024_000],
  ])('%s: %i ms + %i bytes -> %i ms', (_case, cacheMs, bytes, expected) => {
    expect(copyTimeoutMs(cacheMs, bytes)).toBe(expected);
  });
});

describe('cacheSettings', () => {
  it('turns off both narinfo caches and bounds connections and stalled transfers by the cache timeout', () => {
    expect(cacheSettings(120_000)).toEqual([
      '--option', 'narinfo-cache-positive-ttl', '0',
      '--option', 'narinfo-cache-negative-ttl', '0',
      '--option', 'connect-timeout', '120',
      '--option', 'stalled-download-timeout', '120',
    ]);
  });

  it('rounds a bound under a second up to one', () => {
    expect(cacheSettings(400)).toContain('1');
  });
});

describe('buildCommand', () => {
  it.each<[string[], string[]]>([
    [[], ['build', '--no-link', '--json', '--print-build-logs', '--no-update-lock-file', '.#web']],
    [['--max-jobs', '2'], ['build', '--no-link', '--json', '--print-build-logs', '--no-update-lock-file', '--max-jobs', '2', '.#web']],
  ])('with %j: %j (no input fetched that flake.lock does not pin)', (buildArgs, expected) => {
    expect(buildCommand('.#web', buildArgs)).toEqual(expected);
  });
});

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

const v = (text: string): NixVersion => parseNixVersion(text)!;

describe('the Nix version', () => {
  it.each<[string, number, number, boolean, string]>([
    ['nix (Nix) 2.8.0', 2, 8, true, 'ping'],
    ['nix (Nix) 2.3.16', 2, 3, false, 'ping'],
    ['nix (Nix) 2.4', 2, 4, true, 'ping'],
    ['nix (Nix) 2.24.9\nSystem type: x86_64-linux', 2, 24, true, 'info'],
    ['nix (Determinate Nix 3.6.2) 2.29.0', 2, 29, true, 'info'],
    ['nix (Lix, like Nix) 2.91.1', 2, 91, true, 'info'],
  ])('%j is %i.%i: supported %s, store check with %s', (text, major, minor, supported, command) => {
    const version = v(text);
    expect(version).toMatchObject({ major, minor, text: text.split('\n')[0] });
    expect(isSupported(version)).toBe(supported);
    expect(storeInfoCommand(version)).toBe(command);
  });

  it('is unknown in text without one', () => {
    expect(parseNixVersion('nix: command not found')).toBeUndefined();
  });
});

describe('a store Nix cannot open', () => {
  const nix28 = v('nix (Nix) 2.8.0');
  it.each<[string, string, string]>([
    ['s3://cache?region=eu-central-1', "error: don't know how to open Nix store 's3://cache?region=eu-central-1'", 'nix (Nix) 2.8.0 cannot open the binary cache s3://cache?region=eu-central-1: it was built without S3 support'],
    ['gs://cache', "error: don't know how to open Nix store 'gs://cache'", "nix (Nix) 2.8.0 does not know the store type 'gs' of gs://cache."],
    ['https://cache.example.org', "warning: unable to download\nerror: unable to download 'https://cache.example.org/nix-cache-info': HTTP error 403", "Nix could not open the binary cache https://cache.example.org:\nerror: unable to download 'https://cache.example.org/nix-cache-info': HTTP error 403"],
  ])('%s', (uri, stderr, message) => {
    expect(explainStoreFailure(uri, nix28, stderr)).toContain(message);
  });

  it.each([
    ['s3://bucket', 's3'],
    ['file:///srv/cache', 'file'],
    ['/srv/store', 'local'],
  ])('%s has the scheme %s', (uri, scheme) => {
    expect(storeScheme(uri)).toBe(scheme);
  });
});

describe('pushUri', () => {
  it.each<[string, { compression: string; keyFile?: string }, string]>([
    ['s3://cache', { compression: 'zstd' }, 's3://cache?compression=zstd'],
    ['s3://cache?region=eu-central-1', { compression: 'zstd', keyFile: '/tmp/k' }, 's3://cache?region=eu-central-1&compression=zstd&secret-key=%2Ftmp%2Fk'],
    ['s3://cache?compression=xz&region=eu-west-1', { compression: 'zstd' }, 's3://cache?compression=xz&region=eu-west-1'],
    ['file:///srv/cache', { compression: 'none', keyFile: '/run/a b/k' }, 'file:///srv/cache?compression=none&secret-key=%2Frun%2Fa%20b%2Fk'],
    ['https://cache.example.org', { compression: 'zstd' }, 'https://cache.example.org?compression=zstd'],
    ['http://127.0.0.1:8080?compression=none', { compression: 'zstd', keyFile: '/tmp/k' }, 'http://127.0.0.1:8080?compression=none&secret-key=%2Ftmp%2Fk'],
  ])('%s with %j is %s', (uri, options, expected) => {
    expect(pushUri(uri, options)).toBe(expected);
  });
});

const P = (name: string) => `/nix/store/${name.padEnd(32, '0')}-${name}`;

describe('parseBuildOutput', () => {
  it.each<[string, unknown, { storePath: string; outputs: string[] }]>([
    ['one output', [{ drvPath: P('web.drv'), outputs: { out: P('web') } }], { storePath: P('web'), outputs: [P('web')] }],
    [
      'several outputs: out first, then by name',
      [{ drvPath: P('lib.drv'), outputs: { man: P('lib-man'), dev: P('lib-dev'), out: P('lib') } }],
      { storePath: P('lib'), outputs: [P('lib'), P('lib-dev'), P('lib-man')] },
    ],
    ['no out', [{ drvPath: P('x.drv'), outputs: { bin: P('x-bin'), doc: P('x-doc') } }], { storePath: P('x-bin'), outputs: [P('x-bin'), P('x-doc')] }],
    ['a store path as the installable', [{ path: P('web') }], { storePath: P('web'), outputs: [P('web')] }],
  ])('%s', (_case, json, built) => {
    expect(parseBuildOutput(JSON.stringify(json), '.#x')).toEqual(built);
  });

  it('fails when Nix reports nothing built', () => {
    expect(() => parseBuildOutput('[]', '.#web')).toThrow('nix build reported no output paths for .#web: []');
  });
});

const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(P);

describe('parsePathInfo', () => {
  it.each<[string, string]>([
    [
      'Nix before 2.19: an array, missing paths marked invalid',
      JSON.stringify([
        { path: c, narSize: 300, references: [a, b, c], signatures: ['k-1:x'] },
        { path: d, valid: false },
      ]),
    ],
    [
      'Nix 2.19 and later: an object by path, missing paths null',
      JSON.stringify({ [c]: { narSize: 300, references: [a, b, c], signatures: ['k-1:x'] }, [d]: null }),
    ],
  ])('reads %s', (_case, json) => {
    expect(parsePathInfo(json)).toEqual([{ path: c, narSize: 300, references: [a, b, c], signatures: ['k-1:x'] }]);
  });

  it('takes an absent signature list as no signature', () => {
    expect(parsePathInfo(JSON.stringify([{ path: a, narSize: 1, references: [] }]))[0].signatures).toEqual([]);
  });
});

describe('closures', () => {
  const infos = byPath([
    { path: a, narSize: 100, references: [], signatures: ['k-1:s', 'other-1:s'] },
    { path: b, narSize: 200, references: [a, b], signatures: ['other-1:s'] },
    { path: c, narSize: 300, references: [b], signatures: [] },
    { path: d, narSize: 400, references: [a], signatures: ['k-2:s'] },
  ]);

  it.each<[string[], string[], number]>([
    [[a], [a], 100],
    [[c], [c, b, a], 600],
    [[c, d], [c, d, b, a], 1000],
  ])('of %j is %j, %i bytes', (roots, closure, bytes) => {
    expect(closureOf(roots, infos)).toEqual(closure);
    expect(narSize(closureOf(roots, infos), infos)).toBe(bytes);
  });

  it('fails on a path Nix did not describe', () => {
    expect(() => closureOf([P('e')], infos)).toThrow(/did not describe/);
  });

  it.each<[string, string[]]>([
    ['k-1', [b, c, d]],
    ['k-2', [a, b, c]],
    ['other-1', [c, d]],
  ])('unsigned by %s: %j', (name, unsigned) => {
    expect(unsignedBy(name, [a, b, c, d], infos)).toEqual(unsigned);
  });

  it.each([
    [`cache.example.org-1:${'A'.repeat(86)}==`, 'cache.example.org-1'],
    ['k-1:c2ln', 'k-1'],
  ])('the key name of %s is %s', (keyOrSignature, name) => {
    expect(keyName(keyOrSignature)).toBe(name);
  });
});

describe('planPush', () => {
  it.each<[string, string[][], string[], { uploads: string[][]; pushed: number; skipped: number }]>([
    ['an empty cache', [['c', 'b', 'a']], [], { uploads: [['c', 'b', 'a']], pushed: 3, skipped: 0 }],
    ['a cache with all of it', [['c', 'b', 'a']], ['a', 'b', 'c'], { uploads: [[]], pushed: 0, skipped: 3 }],
    ['a cache with part of it', [['c', 'b', 'a']], ['a'], { uploads: [['c', 'b']], pushed: 2, skipped: 1 }],
    [
      'two closures sharing paths: the first uploads them, each counted once',
      [['c', 'b', 'a'], ['d', 'b', 'a']],
      ['a'],
      { uploads: [['c', 'b'], ['d']], pushed: 3, skipped: 1 },
    ],
    ['the same installable twice', [['b', 'a'], ['b', 'a']], [], { uploads: [['b', 'a'], []], pushed: 2, skipped: 0 }],
  ])('%s', (_case, closures, inCache, plan) => {
    expect(planPush(closures, new Set(inCache))).toEqual(plan);
  });
});

describe('inChunks', () => {
  it.each<[number, number[]]>([
    [0, []],
    [1, [1]],
    [1_000, [1_000]],
    [2_500, [1_000, 1_000, 500]],
  ])('%i paths: command lines of %j', (count, sizes) => {
    const paths = Array.from({ length: count }, (_, i) => `/nix/store/${i}`);
    const chunks = inChunks(paths);
    expect(chunks.map((chunk) => chunk.length)).toEqual(sizes);
    expect(chunks.flat()).toEqual(paths);
  });
});

describe('describeCommand', () => {
  it.each([
    [['store', 'ping', '--option', 'connect-timeout', '5', '--store', 'http://127.0.0.1:9/?compression=zstd'], 'store ping --store http://127.0.0.1:9/'],
    [['copy', '--to', 's3://cache?region=eu-west-1&secret-key=%2Ftmp%2Fk', '/nix/store/a-b'], 'copy --to s3://cache'],
    [['build', '--no-link', '--json', '.#web'], 'build .#web'],
    [['path-info', '--json', '--recursive', '/nix/store/a-b'], 'path-info'],
    [['--version'], '--version'],
  ])('%j is %s', (args, text) => {
    expect(describeCommand(args)).toBe(text);
  });
});

describe('formatSeconds', () => {
  it.each([
    [500, '0.5 s'],
    [4_000, '4 s'],
    [90_000, '90 s'],
    [120_000, '2 min'],
    [18_000_000, '300 min'],
  ])('%i ms is %s', (ms, text) => {
    expect(formatSeconds(ms)).toBe(text);
  });
});

describe('nixErrorLines', () => {
  it.each([
    ['', ''],
    ['copying path x\nerror: it broke\n       because', ':\nerror: it broke\n       because'],
    ['warning: a\nwarning: b', ':\nwarning: a\nwarning: b'],
  ])('%j', (stderr, lines) => {
    expect(nixErrorLines(stderr)).toBe(lines);
  });
});

describe('isTransientNixLog', () => {
  it.each<[string, string, boolean]>([
    ['S3 throttling', "error: AWS error uploading 'nar/1.nar.zst': Please reduce your request rate.", true],
    ["Nix's own retry log of SlowDown", "AWS error 'SlowDown' (Please reduce your request rate.), will retry in 400 ms", true],
    ['an S3 server error', "error: AWS error uploading 'x.narinfo': We encountered an internal error. Please try again.", true],
    ['an HTTP cache answering 503', "error: unable to upload 'https://cache/x.narinfo': HTTP error 503", true],
    ['a reset connection', 'error: AWS error: curlCode: 56, Failure when receiving data from the peer; Connection reset by peer', true],
    ['access denied', "error: AWS error uploading 'nar/1.nar.zst': Access Denied", false],
    ['a missing bucket', "error: AWS error fetching 'nix-cache-info': The specified bucket does not exist", false],
    ['a bad key file', "error: opening file '/tmp/key': No such file or directory", false],
  ])('%s: %s', (_case, stderr, transient) => {
    expect(isTransientNixLog(stderr)).toBe(transient);
  });
});

describe('stepOutputs', () => {
  const WEB = '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-web';
  const WORKER = '/nix/store/1c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-worker';
  const item = (installable: string, storePath: string) => ({
    installable, storePath, closurePaths: 3, closureBytes: 3072, uploaded: 2, uploadedBytes: 2048, skipped: 1, buildMs: 1500, pushMs: 250,
  });
  const PUSHED: RunReport = {
    installables: [item('.#web', WEB), item('.#worker', WORKER)],
    closureBytes: 5 * 1024 * 1024,
    pushed: 4,
    skipped: 1,
    push: { storeUri: 's3://cache?region=eu-west-1', compression: 'zstd', keyName: 'cache-1' },
  };

  it.each<[string, boolean, object]>([
    ['a finished run: every output of action.yml', true, { 'pushed-paths': 4, 'skipped-paths': 1 }],
    ['a push that did not finish: what the build knows, no push counts', false, { 'pushed-paths': undefined, 'skipped-paths': undefined }],
  ])('%s', (_case, pushFinished, counts) => {
    expect(stepOutputs(PUSHED, pushFinished)).toEqual({
      'store-path': WEB,
      'store-paths': [WEB, WORKER],
      'closure-size': 5 * 1024 * 1024,
      ...counts,
    });
  });
});

describe('firstLine', () => {
  it.each<[string, string, string]>([
    ['one line', 'The run was cancelled (SIGINT)', 'The run was cancelled (SIGINT)'],
    [
      "a line that only introduces Nix's error: with Nix's first error line",
      "nix build failed (exit code 1):\nerror: builder for '/nix/store/x-broken.drv' failed with exit code 3;\n       last 1 log lines:",
      "nix build failed (exit code 1): error: builder for '/nix/store/x-broken.drv' failed with exit code 3;",
    ],
    [
      'a line followed by a log tail, not an error line: the line, without its colon',
      "The builds did not finish within 'build-timeout' (3 s): stopped nix build .#slow:\nslow> slow build started",
      "The builds did not finish within 'build-timeout' (3 s): stopped nix build .#slow",
    ],
    ['surrounding blank lines', '\n  Could not read the key\n\n', 'Could not read the key'],
  ])('%s', (_case, message, line) => {
    expect(firstLine(message)).toBe(line);
  });
});
