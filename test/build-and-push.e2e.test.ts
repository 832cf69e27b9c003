/**
 * build-and-push end to end: the bundle, run as the runner runs it, with real Nix (Debian's 2.8, without S3
 * support) on a temporary store, pushing to `file://` binary caches, and the sandbox's STS and SSM for the role and
 * the key parameter. A `nix` shim first on PATH records each Nix call and, for `nix copy`, can play S3's
 * throttling or hang; everything else is the real Nix. Every step's output is scanned for the keys at the end.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Sandbox } from '../sandbox/server.js';
import { githubTrustPolicy } from '../sandbox/services/sts.js';
import { nixShim, type NixShim } from '../build-and-push/fixtures/nix-shim.js';
import { currentSystem, generateKey, tempNix, writeFlake, type SigningKey, type TempNix } from '../build-and-push/fixtures/temp-nix.js';
import { Job, runAction, type StepResult } from './harness/runner.js';
import { assertNoSecrets } from './harness/secrets.js';

const sandbox = new Sandbox();
const results: StepResult[] = [];
const secrets = new Set<string>();
let nix: TempNix;
let shim: NixShim;
let flake: string;
let key: SigningKey;
let otherKey: SigningKey;

beforeAll(async () => {
  await sandbox.start();
  nix = await tempNix();
  shim = await nixShim(await nix.folder('bin'), execFileSync('sh', ['-c', 'command -v nix']).toString().trim());
  flake = await writeFlake(await nix.folder('flake'), await currentSystem(nix), [
    { name: 'lib' },
    { name: 'config', deps: ['lib'] },
    { name: 'web', deps: ['lib', 'config'] },
    { name: 'worker', deps: ['lib'] },
    { name: 'tool', deps: ['lib'] },
    { name: 'broken', script: 'echo "the build of broken fails"; exit 3' },
    { name: 'slow', script: 'echo "slow build started"; sleep 60; echo > $out' },
  ]);
  key = await generateKey(nix, 'cache.example.org-1');
  otherKey = await generateKey(nix, 'cache.example.org-2');
  for (const k of [key, otherKey]) secrets.add(k.secret).add(k.secret.split(':')[1]);
});

afterAll(async () => {
  for (const secret of sandbox.sts.issuedSecrets()) secrets.add(secret);
  assertNoSecrets(results, secrets);
  await sandbox.stop();
  await nix.remove();
});

beforeEach(async () => {
  for (const secret of sandbox.sts.issuedSecrets()) secrets.add(secret);
  sandbox.reset();
  await shim.clear();
});

const errors = (result: StepResult) => result.annotations.filter((a) => a.level === 'error').map((a) => a.message);
const warnings = (result: StepResult) => result.annotations.filter((a) => a.level === 'warning').map((a) => a.message);
const commands = async () => (await shim.calls()).map((call) => call.command);

async function step(
  inputs: Record<string, string>,
  options: { env?: Record<string, string>; copy?: string; signal?: { afterLine: RegExp } } = {},
): Promise<StepResult> {
  const result = await runAction('build-and-push', {
    env: { ...sandbox.env(), NIX_CONFIG: nix.nixConfig, ...shim.env(options.copy), ...options.env },
    inputs,
    signal: options.signal,
  });
  results.push(result);
  return result;
}

const running = (commandLine: string) => spawnSync('pgrep', ['-f', commandLine]).status === 0;
const cacheUri = async () => `file://${await nix.folder('cache')}`;
const storePathOf = async (name: string) =>
  (JSON.parse(await nix.nix(['build', '--no-link', '--json', `${flake}#${name}`])) as Array<{ outputs: { out: string } }>)[0].outputs.out;

/** What the cache holds of the closure of `path`, with signatures. */
async function cached(uri: string, path: string): Promise<Array<{ path: string; signatures?: string[] }>> {
  return JSON.parse(await nix.nix(['path-info', '--json', '--recursive', '--store', uri, path]));
}

/** Substitutes `path` into a new, empty store that trusts only `publicKey` and requires signatures. */
async function substitute(uri: string, path: string, publicKey: string): Promise<void> {
  const store = await nix.folder('client-store');
  await nix.nix([
    'build', '--no-link', '--store', store, '--option', 'substituters', uri,
    '--option', 'trusted-public-keys', publicKey, '--option', 'require-sigs', 'true', path,
  ]);
}

describe('build-and-push with real Nix', () => {
  it('builds, signs every closure path and pushes it; a store trusting only that key substitutes it', async () => {
    const uri = await cacheUri();
    const result = await step({ installable: `${flake}#web\n${flake}#worker`, 'store-uri': uri, 'signing-key': key.secret });
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);

    const [web, worker] = [await storePathOf('web'), await storePathOf('worker')];
    const local = JSON.parse(await nix.nix(['path-info', '--json', '--recursive', web, worker])) as Array<{ narSize: number }>;
    expect(local).toHaveLength(4);
    expect(result.outputs).toEqual({
      'store-path': web,
      'store-paths': JSON.stringify([web, worker]),
      'closure-size': String(local.reduce((sum, info) => sum + info.narSize, 0)),
      'pushed-paths': '4',
      'skipped-paths': '0',
    });
    for (const path of [web, worker]) {
      for (const info of await cached(uri, path)) expect(info.signatures).toContainEqual(expect.stringMatching(/^cache\.example\.org-1:/));
    }
    await expect(substitute(uri, web, key.public)).resolves.toBeUndefined();
    await expect(substitute(uri, web, otherKey.public)).rejects.toThrow(/not signed by any of the keys/);

    expect(await commands()).toEqual(['--version', 'store ping', 'build', 'build', 'path-info', 'store sign', 'path-info', 'copy', 'copy']);
    // The key file existed, readable by the runner user only, while Nix uploaded; it is gone after the step.
    const copies = (await shim.calls()).filter((call) => call.command === 'copy');
    expect(copies.map((call) => call.keyFile)).toEqual([1, 2].map(() => ({ path: result.state['signing-key-file'], existed: true, mode: '600' })));
    expect(existsSync(result.state['signing-key-file'])).toBe(false);
    expect(result.masks).toEqual(expect.arrayContaining([key.secret, key.secret.split(':')[1]]));
    expect(result.exportedEnv).toEqual({});
    expect(result.summary).toContain(web);
    expect(result.summary).toContain('Nix closures built and pushed');
    expect(result.logLines).toContainEqual(expect.stringMatching(/^::group::Building path:.*#web$/));
  });

  it('a second push uploads nothing and skips every path', async () => {
    const uri = await cacheUri();
    const inputs = { installable: `${flake}#web`, 'store-uri': uri, 'signing-key': key.secret };
    expect((await step(inputs)).outputs['pushed-paths']).toBe('3');
    await shim.clear();
    const again = await step(inputs);
    expect(again.exitCode).toBe(0);
    expect(again.outputs).toMatchObject({ 'pushed-paths': '0', 'skipped-paths': '3' });
    // Already signed and already in the cache: neither `nix store sign` nor `nix copy` runs.
    expect(await commands()).toEqual(['--version', 'store ping', 'build', 'path-info', 'path-info']);
  });

  it('push: false builds and outputs the store path, needing no key and touching no cache', async () => {
    const result = await step({ installable: `${flake}#worker`, push: 'false' });
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toMatchObject({ 'store-path': await storePathOf('worker'), 'pushed-paths': '0', 'skipped-paths': '0' });
    expect(await commands()).toEqual(['--version', 'build', 'path-info']);
    expect(result.summary).toContain('Nix closures built');
    expect(result.state).toEqual({});
  });

  it('reads the key from an SSM SecureString, and masks it', async () => {
    sandbox.ssm.putParameter({ name: '/nix/cache-key', value: otherKey.secret, type: 'SecureString' });
    const uri = await cacheUri();
    const result = await step({ installable: `${flake}#worker`, 'store-uri': uri, 'signing-key-parameter': '/nix/cache-key' });
    expect(errors(result)).toEqual([]);
    expect(sandbox.calls.of('GetParameter').map((call) => call.params)).toEqual([{ Name: '/nix/cache-key', WithDecryption: true }]);
    expect(result.masks).toEqual(expect.arrayContaining([otherKey.secret, otherKey.secret.split(':')[1]]));
    await expect(substitute(uri, await storePathOf('worker'), otherKey.public)).resolves.toBeUndefined();
  });

  it('gives the credentials of role-to-assume to the nix processes only', async () => {
    const roleArn = sandbox.sts.addRole({
      name: 'nix-cache-writer',
      trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/octo-repo:ref:refs/heads/main' }),
    });
    sandbox.ssm.putParameter({ name: '/nix/cache-key', value: key.secret, type: 'SecureString' });
    const result = await step({
      installable: `${flake}#worker`,
      'store-uri': await cacheUri(),
      'signing-key-parameter': '/nix/cache-key',
      'role-to-assume': roleArn,
    });
    expect(errors(result)).toEqual([]);
    const [issued] = [...sandbox.sts.issued.values()];
    expect(sandbox.calls.of('GetParameter').map((call) => call.caller)).toEqual([issued.assumedRoleArn]);
    const calls = await shim.calls();
    expect(calls.filter((call) => call.command !== '--version').map((call) => call.awsAccessKeyId)).toEqual(
      calls.slice(1).map(() => issued.accessKeyId),
    );
    expect(result.exportedEnv).toEqual({});
    expect(result.masks).toEqual(expect.arrayContaining([issued.accessKeyId, issued.secretAccessKey, issued.sessionToken]));
  });

  it('fails before building when this Nix cannot open an s3:// cache', async () => {
    const result = await step({ installable: `${flake}#web`, 'store-uri': 's3://nix-cache?region=eu-central-1', 'signing-key': key.secret });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining('cannot open the binary cache s3://nix-cache?region=eu-central-1: it was built without S3 support')]);
    expect(await commands()).toEqual(['--version', 'store ping']);
    expect(result.state).toEqual({});
  });

  it('fails with the builder error when a build fails, and pushes nothing', async () => {
    const result = await step({ installable: `${flake}#web\n${flake}#broken`, 'store-uri': await cacheUri(), 'signing-key': key.secret });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringMatching(/nix build failed \(exit code 1\):\nerror: builder for .*broken\.drv' failed with exit code 3/)]);
    expect(result.logLines).toContain('broken> the build of broken fails');
    expect(await commands()).toEqual(['--version', 'store ping', 'build', 'build']);
  });

  it('retries nix copy through S3 throttling, a bounded number of times', async () => {
    const inputs = { installable: `${flake}#config`, 'store-uri': await cacheUri(), 'signing-key': key.secret };
    const recovered = await step(inputs, { copy: 'slowdown:2' });
    expect(errors(recovered)).toEqual([]);
    expect(warnings(recovered)).toEqual([1, 2].map((n) => expect.stringContaining(`nix copy failed with a transient error (attempt ${n} of 4)`)));
    expect((await commands()).filter((command) => command === 'copy')).toHaveLength(3);

    await shim.clear();
    const throttled = await step({ ...inputs, 'store-uri': await cacheUri() }, { copy: 'slowdown:99' });
    expect(errors(throttled)).toEqual([expect.stringContaining('Please reduce your request rate.')]);
    expect((await commands()).filter((command) => command === 'copy')).toHaveLength(4);
    expect(existsSync(throttled.state['signing-key-file'])).toBe(false);
  });

  it.each<[string, RegExp, string | undefined, string[]]>([
    ['during the build: Nix stops it', /slow build started/, undefined, ['--version', 'store ping', 'build']],
    ['during the upload: the key file is removed', /copying 1 paths/, 'hang', ['--version', 'store ping', 'build', 'path-info', 'store sign', 'path-info', 'copy']],
  ])('stops on SIGINT %s', async (_case, afterLine, copy, expected) => {
    const result = await step(
      { installable: `${flake}#${copy ? 'tool' : 'slow'}`, 'store-uri': await cacheUri(), 'signing-key': key.secret },
      { copy, signal: { afterLine } },
    );
    expect(result.signals.map((s) => s.name)).toEqual(['SIGINT']);
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual(['The run was cancelled (SIGINT)']);
    expect(await commands()).toEqual(expected);
    const keyFile = (await shim.calls()).find((call) => call.keyFile)?.keyFile;
    if (copy) expect(keyFile).toEqual({ path: result.state['signing-key-file'], existed: true, mode: '600' });
    for (const file of [keyFile?.path, result.state['signing-key-file']]) if (file) expect(existsSync(file)).toBe(false);
    // Nothing of it still runs: not the build, not the upload.
    expect(running(copy ? 'sleep 3600' : 'slow build started')).toBe(false);
  });
});

describe('build-and-push killed', () => {
  it('leaves the key file to the post step, which removes it', async () => {
    const job = new Job({ env: { ...sandbox.env(), NIX_CONFIG: nix.nixConfig, ...shim.env('hang') } });
    try {
      const inputs = { installable: `${flake}#tool`, 'store-uri': await cacheUri(), 'signing-key': key.secret };
      // Killed once the upload has started (the hanging copy's first line), however long the build took to get there.
      const main = await job.step('build-and-push', { inputs, signal: { name: 'SIGKILL', afterLine: /copying 1 paths/ } });
      const copy = (await shim.calls()).find((call) => call.command === 'copy');
      // SIGKILL ends the step, not the upload it started: the runner kills the process tree, here the test does.
      if (copy) process.kill(copy.pid, 'SIGKILL');
      expect(main.signals.map((s) => s.name)).toEqual(['SIGKILL']);
      expect(main).toMatchObject({ exitSignal: 'SIGKILL', timedOut: false });
      const keyFile = main.state['signing-key-file'];
      expect(copy?.keyFile).toEqual({ path: keyFile, existed: true, mode: '600' });
      expect(existsSync(keyFile)).toBe(true);

      const post = await job.post('build-and-push');
      results.push(main, post);
      expect(post.exitCode).toBe(0);
      expect(post.logLines).toContain('Removed the signing key file.');
      expect(existsSync(keyFile)).toBe(false);
    } finally {
      await job.cleanup();
    }
  });
});

describe('build-and-push with bad inputs', () => {
  const VALID = { installable: '.#web', 'store-uri': 'file:///tmp/nix-cache', 'signing-key': `cache-1:${'A'.repeat(86)}==` };
  it.each<[Record<string, string>, string]>([
    [{ installable: '' }, 'installable'],
    [{ installable: '.#web\n--impure' }, 'installable'],
    [{ 'store-uri': '' }, 'store-uri'],
    [{ 'store-uri': 'nix-cache' }, 'store-uri'],
    [{ 'store-uri': 'file:///tmp/nix-cache?secret-key=/tmp/key' }, 'store-uri'],
    [{ push: 'yes' }, 'push'],
    [{ sign: 'no' }, 'sign'],
    [{ 'signing-key': '' }, 'signing-key'],
    [{ 'signing-key': 'cache-1:c2hvcnQ=' }, 'signing-key'],
    [{ 'signing-key-parameter': '/nix/key', 'aws-region': 'eu-west-1' }, 'signing-key'],
    [{ 'signing-key': '', 'signing-key-parameter': 'a parameter' }, 'signing-key-parameter'],
    [{ 'signing-key': '', 'signing-key-parameter': '/nix/key', 'aws-region': 'Frankfurt' }, 'aws-region'],
    [{ 'role-to-assume': 'nix-cache-writer' }, 'role-to-assume'],
    [{ compression: 'lzma' }, 'compression'],
  ])('%j fails naming %s, before any AWS call or Nix', async (changes, input) => {
    const result = await step({ ...VALID, ...changes });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining(`'${input}'`)]);
    expect(sandbox.calls.all()).toEqual([]);
    expect(await shim.calls()).toEqual([]);
  });

  it('fails before building when the key parameter does not exist', async () => {
    const result = await step({ ...VALID, installable: `${flake}#web`, 'store-uri': await cacheUri(), 'signing-key': '', 'signing-key-parameter': '/nix/missing' });
    expect(errors(result)).toEqual([expect.stringContaining('Could not read the signing key from the SSM parameter /nix/missing: ParameterNotFound')]);
    expect(await commands()).toEqual(['--version', 'store ping']);
  });
});
