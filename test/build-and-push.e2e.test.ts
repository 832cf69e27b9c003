/**
 * build-and-push end to end: the bundle, run as the runner runs it, with real Nix (Debian's 2.8, without S3
 * support) on a temporary store, pushing to `file://` binary caches and to a real HTTP binary cache on 127.0.0.1,
 * and the sandbox's STS and SSM for the role and the key parameter. A `nix` shim first on PATH records each Nix call
 * (and which secret-bearing variables it was given) and, for `nix copy`, can play S3's throttling or hang;
 * everything else is the real Nix. Every step's output is scanned for the keys at the end.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Sandbox, STATIC_CREDENTIALS } from '../sandbox/server.js';
import { githubTrustPolicy } from '../sandbox/services/sts/sts.js';
import { startHttpCache, type HttpCache } from '../build-and-push/fixtures/http-cache.js';
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
  secrets.add(STATIC_CREDENTIALS.secretAccessKey).add(sandbox.oidc.requestToken).add('hunter22');
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

/** How the summary shows a time (`formatDuration`). */
const DURATION = /^\d+(?:\.\d)? (?:ms|s)$|^\d+ min \d+ s$/;

/** The cells of the summary's last table, one row per installable, the header left out; code and links as their text. */
function summaryRows(result: StepResult): string[][] {
  const tables = result.summary.split('<table>');
  const rows = [...tables[tables.length - 1].matchAll(/<tr>(.*?)<\/tr>/gs)].map((row) => row[1]);
  return rows
    .filter((row) => !row.startsWith('<th'))
    .map((row) => [...row.matchAll(/<td>(.*?)<\/td>/gs)].map((cell) => cell[1].replace(/<[^>]+>/g, '').trim()));
}

async function step(
  inputs: Record<string, string>,
  options: { env?: Record<string, string>; copy?: string; signal?: { afterLine: RegExp }; timeoutMs?: number } = {},
): Promise<StepResult> {
  const result = await runAction('build-and-push', {
    env: { ...sandbox.env(), NIX_CONFIG: nix.nixConfig, ...shim.env(options.copy), ...options.env },
    inputs,
    signal: options.signal,
    timeoutMs: options.timeoutMs,
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
    // The durations chart: both builds, then both uploads, each a bar of its own.
    expect(result.summary).toMatch(/```mermaid\ngantt\n[^`]*section Build\n {2}1\. web :0, \d+ms\n {2}2\. worker :\d+ms\n {2}section Push\n {2}1\. web :\d+ms\n {2}2\. worker :\d+ms\n```/);
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

  it("gives the role's credentials to the nix processes that talk to the cache only, after the build", async () => {
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
    const roleKeys = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];
    expect(calls.map((call) => [call.command, call.awsAccessKeyId, call.secretVariables])).toEqual([
      ['--version', undefined, []],
      ['store ping', undefined, []],
      ['build', undefined, []],
      ['path-info', undefined, []],
      // (No `store sign`: an earlier test signed this closure with the same key.)
      ['path-info', issued.accessKeyId, roleKeys],
      ['copy', issued.accessKeyId, roleKeys],
    ]);
    expect(result.exportedEnv).toEqual({});
    expect(result.masks).toEqual(expect.arrayContaining([issued.accessKeyId, issued.secretAccessKey, issued.sessionToken]));
  });

  it('fails before building when this Nix cannot open an s3:// cache', async () => {
    const result = await step({ installable: `${flake}#web`, 'store-uri': 's3://nix-cache?region=eu-central-1', 'signing-key': key.secret });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining('cannot open the binary cache s3://nix-cache?region=eu-central-1: it was built without S3 support')]);
    expect(await commands()).toEqual(['--version', 'store ping']);
    expect(result.state).toEqual({});
    // No outputs; the summary says why nothing was built, and lists what was to be.
    expect(result.outputs).toEqual({});
    expect(result.summary).toContain('<h2>Nix closures not built</h2>');
    expect(result.summary).toContain('<p>Nothing was built or pushed: nix (Nix) 2.');
    expect(result.summary).toContain('cannot open the binary cache s3://nix-cache?region=eu-central-1: it was built without S3 support');
    expect(summaryRows(result)).toEqual([[`${flake}#web`, '', '', 'not started']]);
  });

  it.each<[string, boolean, string[]]>([
    ['pushing', true, ['--version', 'store ping', 'build', 'build']],
    ['push: false', false, ['--version', 'build', 'build']],
  ])('fails with the builder error when a build fails, %s: no outputs, a summary of what built and what failed, nothing pushed', async (_case, push, expected) => {
    const target: Record<string, string> = push ? { 'store-uri': await cacheUri(), 'signing-key': key.secret } : { push: 'false' };
    const result = await step({ installable: `${flake}#web\n${flake}#broken\n${flake}#worker`, ...target });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringMatching(/nix build failed \(exit code 1\):\nerror: builder for .*broken\.drv' failed with exit code 3/)]);
    expect(result.logLines).toContain('broken> the build of broken fails');
    expect(await commands()).toEqual(expected);
    expect(result.outputs).toEqual({});
    const failed = /^nix build failed \(exit code 1\): error: builder for &#39;\/nix\/store\/[a-z0-9]{32}-broken\.drv&#39; failed with exit code 3;?$/;
    expect(result.summary).toContain('<h2>Nix builds failed</h2>');
    expect(result.summary).toMatch(/<p>Built 1 of 3 installables; nothing was pushed: nix build failed \(exit code 1\): error: builder for &#39;[^<]*-broken\.drv&#39; failed with exit code 3;?<\/p>/);
    expect(summaryRows(result)).toEqual([
      [`${flake}#web`, await storePathOf('web'), expect.stringMatching(DURATION), 'built'],
      [`${flake}#broken`, '', expect.stringMatching(DURATION), expect.stringMatching(new RegExp(`^failed: ${failed.source.slice(1)}`))],
      [`${flake}#worker`, '', '', 'not started'],
    ]);
    // The picture: web's bar, then broken's, marked crit.
    expect(result.summary).toMatch(/```mermaid\ngantt\n[^`]*section Build\n {2}1\. web :0, \d+ms\n {2}2\. broken :crit, \d+ms\n```/);
  });

  it('stops a build that runs past build-timeout, and pushes nothing', async () => {
    const result = await step({ installable: `${flake}#slow`, 'store-uri': await cacheUri(), 'signing-key': key.secret, 'build-timeout': '3s' });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringMatching(/^The builds did not finish within 'build-timeout' \(3 s\): stopped nix build path:.*#slow(:\n|$)/)]);
    expect(await commands()).toEqual(['--version', 'store ping', 'build']);
    expect(running('slow build started')).toBe(false);
    expect(result.state).toEqual({});
    expect(result.outputs).toEqual({});
    expect(result.summary).toContain('<h2>Nix builds stopped</h2>');
    expect(result.summary).toMatch(/<p>Built 0 of 1 installable; nothing was pushed: The builds did not finish within &#39;build-timeout&#39; \(3 s\): stopped nix build path:[^<]*#slow/);
    expect(summaryRows(result)).toEqual([
      [`${flake}#slow`, '', expect.stringMatching(DURATION), expect.stringMatching(/^stopped: The builds did not finish within &#39;build-timeout&#39; \(3 s\): stopped nix build path:.*#slow/)],
    ]);
    expect(result.summary).toMatch(/ {2}1\. slow :crit, 0, \d+ms\n```/);
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
    ['during the second build: Nix stops it', /slow build started/, undefined, ['--version', 'store ping', 'build', 'build']],
    ['during the upload: the key file is removed', /copying 1 paths/, 'hang', ['--version', 'store ping', 'build', 'path-info', 'store sign', 'path-info', 'copy']],
  ])('stops on SIGINT %s', async (_case, afterLine, copy, expected) => {
    const result = await step(
      { installable: copy ? `${flake}#tool` : `${flake}#lib\n${flake}#slow`, 'store-uri': await cacheUri(), 'signing-key': key.secret },
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
    // A cancelled push still reports what was built; a cancelled build no output, and a summary of how far it got.
    expect(result.outputs).toEqual(copy ? { 'store-path': await storePathOf('tool'), 'store-paths': JSON.stringify([await storePathOf('tool')]), 'closure-size': expect.any(String) } : {});
    if (copy) {
      expect(result.summary).toContain('Nix closures built, push failed');
      expect(result.summary).toContain('did not finish, so the cache may hold only part of the closures: The run was cancelled (SIGINT)');
    } else {
      expect(result.summary).toContain('<h2>Nix builds stopped</h2>');
      expect(result.summary).toContain('<p>Built 1 of 2 installables; nothing was pushed: The run was cancelled (SIGINT)</p>');
      expect(summaryRows(result)).toEqual([
        [`${flake}#lib`, await storePathOf('lib'), expect.stringMatching(DURATION), 'built'],
        [`${flake}#slow`, '', expect.stringMatching(DURATION), 'stopped: The run was cancelled (SIGINT)'],
      ]);
      expect(result.summary).toMatch(/ {2}1\. lib :0, \d+ms\n {2}2\. slow :crit, \d+ms\n```/);
    }
  });
});

/** The variables hostile build code looks for, and one it may see (proof that the probes can see anything). */
const PROBED = [
  'INPUT_SIGNING-KEY',
  'INPUT_SIGNING-KEY-PARAMETER',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_URL',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_RUNTIME_TOKEN',
  'GITHUB_TOKEN',
  'GITHUB_ENV',
  'PROBE_CONTROL',
];
const nixList = (names: string[]) => `[ ${names.map((name) => JSON.stringify(name)).join(' ')} ]`;
const reversed = (text: string) => [...text].reverse().join('');

/**
 * A flake of two probes, named with `tag` so that each test builds them anew: a fixed-output derivation that asks
 * for every probed variable with `impureEnvVars` and prints the names of those it finds (with their values
 * reversed, as an attacker dodging the runner's masking would), and a derivation whose evaluation reads every probed
 * variable with `builtins.getEnv` (which finds them only when evaluation is impure) and writes `NAME=value` of
 * those it finds into its output.
 */
async function probeFlake(tag: string): Promise<string> {
  const probeOut = 'probe\n';
  return writeFlake(await nix.folder(`probe-${tag}`), await currentSystem(nix), [
    {
      name: `fod-probe-${tag}`,
      // From /proc, not the shell's variables: sh drops names it cannot hold (`INPUT_SIGNING-KEY`).
      script:
        'for v in $probed; do x="$(tr \'\\000\' \'\\n\' < /proc/$$/environ | sed -n "s/^$v=//p")"; ' +
        'if [ -n "$x" ]; then echo "saw $v $(echo "$x" | rev)"; fi; done; printf "probe\\n" > $out',
      attrs: `probed = ${nixList(PROBED)}; impureEnvVars = ${nixList(PROBED)}; outputHashMode = "flat"; outputHashAlgo = "sha256"; outputHash = "${createHash('sha256').update(probeOut).digest('hex')}";`,
    },
    {
      name: `impure-probe-${tag}`,
      script: 'echo "seen: $seen" > $out',
      attrs: 'inherit seen;',
      wrap: (derivation) =>
        `let seen = builtins.concatStringsSep " " (builtins.filter (s: s != "") (map (n: let v = builtins.getEnv n; in if v == "" then "" else n + "=" + v) ${nixList(PROBED)})); in ${derivation}`,
    },
  ]);
}

/** Every file the cache holds, NARs as Nix unpacks them (`nix store dump-path` from the cache): what readers get. */
async function pushedFiles(cache: HttpCache): Promise<Array<[string, string]>> {
  const files: Array<[string, string]> = [...cache.objects].map(([name, body]) => [name, body.toString('latin1')]);
  for (const [name, body] of cache.objects) {
    const path = /^StorePath: (\S+)$/m.exec(body.toString('utf8'))?.[1];
    if (!name.endsWith('.narinfo') || !path) continue;
    const nar = await nix.nix(['store', 'dump-path', ...FRESH, '--store', cache.url, path]);
    files.push([`NAR of ${path}`, nar]);
  }
  return files;
}

/** For the test's own Nix: ask the cache, not Nix's memory of it. */
const FRESH = ['--option', 'narinfo-cache-positive-ttl', '0', '--option', 'narinfo-cache-negative-ttl', '0'];

describe('build-and-push and hostile build code', () => {
  let cache: HttpCache;
  beforeEach(async () => {
    cache = await startHttpCache();
  });
  afterEach(() => cache.stop());

  /** The secrets of a step: its key, the sandbox's static credentials, the runner's tokens; then the role's. */
  const tokens = () => ({ ACTIONS_RUNTIME_TOKEN: `runtime-${randomBytes(12).toString('hex')}`, GITHUB_TOKEN: `ghs_${randomBytes(18).toString('hex')}` });

  async function probe(tag: string, inputs: Record<string, string>, env: Record<string, string>) {
    for (const value of Object.values(env)) secrets.add(value);
    const probes = await probeFlake(tag);
    const result = await step(
      { installable: `${probes}#fod-probe-${tag}\n${probes}#impure-probe-${tag}`, 'store-uri': cache.url, ...inputs },
      { env: { ...env, PROBE_CONTROL: 'visible' } },
    );
    expect(errors(result)).toEqual([]);
    const stepSecrets = [...secrets, ...Object.values(env), ...sandbox.sts.issuedSecrets()];
    // The probes work: each saw the one variable meant for it, and nothing else.
    expect(result.logLines.filter((line) => /> saw /.test(line))).toEqual([expect.stringMatching(new RegExp(`^fod-probe-${tag}> saw PROBE_CONTROL elbisiv$`))]);
    const impure = JSON.parse(result.outputs['store-paths'])[1] as string;
    // Evaluation is pure: getEnv finds nothing, not even the variable meant for the builder.
    expect(await nix.nix(['store', 'cat', ...FRESH, '--store', cache.url, `${impure}`])).toBe('seen: \n');
    // Nor does anything the cache holds, signed and pushed, carry a secret, as it is or reversed.
    const files = await pushedFiles(cache);
    expect(files.filter(([name]) => name.startsWith('NAR of'))).toHaveLength(2);
    const leaks = files.flatMap(([name, text]) =>
      stepSecrets.filter((secret) => text.includes(secret) || text.includes(reversed(secret))).map((secret) => `${name}: ${secret.slice(0, 4)}...`),
    );
    expect(leaks).toEqual([]);
    for (const line of result.logLines) for (const secret of stepSecrets) expect(line).not.toContain(reversed(secret));
    // No Nix process that builds or reads the local store was given a secret-bearing variable.
    const calls = await shim.calls();
    expect(calls.filter((call) => ['build', 'store sign', '--version'].includes(call.command)).flatMap((call) => call.secretVariables)).toEqual([]);
    return { result, calls };
  }

  it('a signing-key input, the step’s AWS credentials and the runner’s tokens: the builds find none of them', async () => {
    const env = tokens();
    const { calls } = await probe('input', { 'signing-key': key.secret }, env);
    // The cache-side commands get the step's own AWS variables, and nothing else of its secrets.
    for (const call of calls.filter((c) => c.command === 'copy' || c.args.includes('--store'))) {
      expect(call.secretVariables.every((name) => name.startsWith('AWS_'))).toBe(true);
    }
    expect(calls.filter((c) => c.command === 'copy').map((c) => c.awsAccessKeyId)).toEqual([STATIC_CREDENTIALS.accessKeyId, STATIC_CREDENTIALS.accessKeyId]);
  });

  it('role-to-assume and signing-key-parameter: neither is read before the last build has ended', async () => {
    const roleArn = sandbox.sts.addRole({
      name: 'nix-cache-writer',
      trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/octo-repo:ref:refs/heads/main' }),
    });
    sandbox.ssm.putParameter({ name: '/nix/cache-key', value: otherKey.secret, type: 'SecureString' });
    // At each AWS call, the Nix commands started so far.
    const nixSoFar: Array<[string, string[]]> = [];
    const add = sandbox.calls.add.bind(sandbox.calls);
    sandbox.calls.add = (record) => {
      nixSoFar.push([record.operation, shim.callsSync().map((call) => call.command)]);
      return add(record);
    };
    try {
      await probe('role', { 'signing-key-parameter': '/nix/cache-key', 'role-to-assume': roleArn }, tokens());
    } finally {
      sandbox.calls.add = add;
    }
    // Both builds, and the query of their closure, which starts only once the last build has ended.
    const afterBuilds = ['--version', 'store ping', 'build', 'build', 'path-info'];
    expect(nixSoFar).toEqual([
      ['AssumeRoleWithWebIdentity', afterBuilds],
      ['GetParameter', afterBuilds],
    ]);
  });
});

/**
 * The reviewer's flake: its evaluation reads the parent's PID from /proc/self/status, then the parent's environment,
 * `/proc/<ppid>/environ` (the step's process, with the key input and the runner's tokens), into the store, and its
 * build writes it out NUL-free. Only pure evaluation stops it: the evaluating Nix is the runner's user, unsandboxed.
 */
async function environFlake(tag: string): Promise<string> {
  return writeFlake(await nix.folder(`environ-${tag}`), await currentSystem(nix), [
    {
      name: `environ-${tag}`,
      script: "tr '\\000' '\\n' < $envfile > $out",
      attrs: 'inherit envfile;',
      wrap: (derivation) =>
        `let st = builtins.replaceStrings ["\\n"] [" "] (builtins.readFile "/proc/self/status"); ` +
        `ppid = builtins.head (builtins.match ".*PPid:\\t([0-9]+).*" st); ` +
        `envfile = builtins.fetchurl "file:///proc/\${ppid}/environ"; in ${derivation}`,
    },
  ]);
}

describe('build-and-push and a flake that reads the step process’s environment', () => {
  let cache: HttpCache;
  beforeEach(async () => {
    cache = await startHttpCache();
  });
  afterEach(() => cache.stop());

  it('reads a parent’s environment when evaluated impurely (the test’s own Nix: the attack works)', async () => {
    const environ = await environFlake('control');
    const [built] = JSON.parse(await nix.nix(['build', '--impure', '--no-link', '--json', `${environ}#environ-control`])) as Array<{ outputs: { out: string } }>;
    expect(await nix.nix(['store', 'cat', built.outputs.out])).toMatch(/^PATH=/m);
  });

  it('build-args --impure is refused before any Nix runs, and so are its siblings', async () => {
    const environ = await environFlake('refused');
    for (const args of ['--impure', '-L\n--impure', '--file\ndefault.nix', '--expr 1', '--option sandbox false', '--accept-flake-config', '--no-sandbox', '--extra-sandbox-paths /proc']) {
      const result = await step({ installable: `${environ}#environ-refused`, 'store-uri': cache.url, 'signing-key': key.secret, 'build-args': args });
      expect(result.exitCode).toBe(1);
      expect(errors(result)).toEqual([expect.stringMatching(/^Input 'build-args' refuses "-/)]);
    }
    expect(await shim.calls()).toEqual([]);
    expect(cache.requests).toEqual([]);
  });

  it.each<[string, string]>([
    ['evaluated purely', ''],
    ['with a NIX_CONFIG in the step that turns pure evaluation off and flake config and unsafe builtins on', '\npure-eval = false\naccept-flake-config = true\nallow-unsafe-native-code-during-evaluation = true'],
  ])('%s: it cannot read /proc, fails, and nothing is pushed', async (_case, extraConfig) => {
    const env = { ACTIONS_RUNTIME_TOKEN: `runtime-${randomBytes(12).toString('hex')}`, GITHUB_TOKEN: `ghs_${randomBytes(18).toString('hex')}` };
    for (const value of Object.values(env)) secrets.add(value);
    const tag = extraConfig ? 'config' : 'pure';
    const environ = await environFlake(tag);
    const result = await step(
      { installable: `${environ}#environ-${tag}`, 'store-uri': cache.url, 'signing-key': key.secret },
      { env: { ...env, NIX_CONFIG: nix.nixConfig + extraConfig } },
    );
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining("access to absolute path '/proc/self/status' is forbidden in pure eval mode")]);
    expect(await commands()).toEqual(['--version', 'store ping', 'build']);
    expect([...cache.objects.keys()].filter((name) => name !== 'nix-cache-info')).toEqual([]);
    expect(cache.requests.filter((request) => request.startsWith('PUT') && !request.endsWith('nix-cache-info'))).toEqual([]);
  });

  it.each<[string, boolean, RegExp]>([
    ['not in flake.lock: Nix would fetch it', false, /requires lock file changes but they're not allowed due to '--no-update-lock-file'/],
    ['locked with a guessed narHash', true, /NAR hash mismatch in input 'path:/],
  ])('a flake input path: to a folder of the runner user, %s, is refused; nothing is pushed', async (_case, locked, message) => {
    const secret = `aws_secret_access_key = ${randomBytes(20).toString('hex')}`;
    secrets.add(secret);
    const folder = await nix.folder('dot-aws');
    await writeFile(join(folder, 'credentials'), `${secret}\n`);
    const system = await currentSystem(nix);
    const source = await nix.folder('input-flake');
    await writeFile(
      join(source, 'flake.nix'),
      `{ inputs.aws = { url = "path:${folder}"; flake = false; };
  outputs = { self, aws }: { packages."${system}".leak = builtins.derivation {
    name = "leak"; system = "${system}"; builder = "/bin/sh"; PATH = "/usr/bin:/bin";
    args = [ "-c" "cat \${aws}/credentials > $out" ]; }; }; }
`,
    );
    if (locked) {
      const node = { type: 'path', path: folder, narHash: `sha256-${Buffer.alloc(32).toString('base64')}`, lastModified: 1 };
      const lock = { nodes: { aws: { flake: false, locked: node, original: { type: 'path', path: folder } }, root: { inputs: { aws: 'aws' } } }, root: 'root', version: 7 };
      await writeFile(join(source, 'flake.lock'), JSON.stringify(lock));
    }
    const result = await step({ installable: `path:${source}#leak`, 'store-uri': cache.url, 'signing-key': key.secret });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringMatching(message)]);
    expect(await commands()).toEqual(['--version', 'store ping', 'build']);
    expect([...cache.objects.keys()].filter((name) => name !== 'nix-cache-info')).toEqual([]);
    if (!locked) {
      // The attack works where Nix may lock the input itself (the test's own Nix, as nix build does by default).
      const [built] = JSON.parse(await nix.nix(['build', '--no-link', '--json', '--no-write-lock-file', `path:${source}#leak`])) as Array<{ outputs: { out: string } }>;
      expect(await nix.nix(['store', 'cat', built.outputs.out])).toBe(`${secret}\n`);
    }
  });

  it.each<[string, (folder: string) => string, RegExp]>([
    ['builtins.fetchTree of a path', (folder) => `builtins.fetchTree { type = "path"; path = "${folder}"; }`, /in pure evaluation mode, 'fetchTree' requires a locked input/],
    ['builtins.getFlake of a path', (folder) => `(builtins.getFlake "path:${folder}").outPath`, /cannot call 'getFlake' on unlocked flake reference/],
    ['builtins.path', (folder) => `builtins.path { path = ${folder}; }`, /access to absolute path '.*' is forbidden in pure eval mode/],
  ])('%s of a folder of the runner user is refused in pure evaluation; nothing is pushed', async (name, expression, message) => {
    const folder = await nix.folder('dot-aws');
    await writeFile(join(folder, 'flake.nix'), '{ outputs = { self }: { }; }\n');
    const tag = `fetch-${name.replace(/\W+/g, '-')}`;
    const source = await writeFlake(await nix.folder(tag), await currentSystem(nix), [
      { name: tag, script: 'cat $leak/flake.nix > $out', attrs: 'inherit leak;', wrap: (derivation) => `let leak = ${expression(folder)}; in ${derivation}` },
    ]);
    const result = await step({ installable: `${source}#${tag}`, 'store-uri': cache.url, 'signing-key': key.secret });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringMatching(message)]);
    expect([...cache.objects.keys()].filter((name) => name !== 'nix-cache-info')).toEqual([]);
  });

  it('an allowed set of build-args still builds and pushes', async () => {
    const environ = await probeFlake('allowed');
    const result = await step({
      installable: `${environ}#impure-probe-allowed`,
      'store-uri': cache.url,
      'signing-key': key.secret,
      'build-args': '-L\n--keep-going\n--max-jobs 2\n--cores 1\n--show-trace\n--no-write-lock-file\n--fallback',
    });
    expect(errors(result)).toEqual([]);
    expect(result.outputs['pushed-paths']).toBe('1');
    const build = (await shim.calls()).find((call) => call.command === 'build');
    expect(build?.args).toEqual(expect.arrayContaining(['--keep-going', '--max-jobs', '2', '--cores', '1', '--no-write-lock-file']));
  });
});

describe('build-and-push against an HTTP binary cache', () => {
  let cache: HttpCache;
  beforeEach(async () => {
    cache = await startHttpCache();
  });
  afterEach(() => cache.stop());

  it('asks the cache itself: after the cache was emptied, a second run on the same HOME pushes everything again', async () => {
    const job = new Job({ env: { ...sandbox.env(), NIX_CONFIG: nix.nixConfig, ...shim.env() } });
    try {
      const inputs = { installable: `${flake}#web`, 'store-uri': cache.url, 'signing-key': key.secret };
      const first = await job.step('build-and-push', { inputs });
      results.push(first);
      expect(first.outputs).toMatchObject({ 'pushed-paths': '3', 'skipped-paths': '0' });
      const again = await job.step('build-and-push', { inputs });
      results.push(again);
      expect(again.outputs).toMatchObject({ 'pushed-paths': '0', 'skipped-paths': '3' });

      cache.empty();
      await shim.clear();
      const afterEmptied = await job.step('build-and-push', { inputs });
      results.push(afterEmptied);
      expect(errors(afterEmptied)).toEqual([]);
      expect(afterEmptied.outputs).toMatchObject({ 'pushed-paths': '3', 'skipped-paths': '0' });
      expect(await commands()).toEqual(['--version', 'store ping', 'build', 'path-info', 'path-info', 'copy']);
      // Each run keeps Nix's memory of caches in a folder of its own, gone after the step.
      const folders = (await shim.calls()).filter((call) => call.xdgCacheHome).map((call) => call.xdgCacheHome);
      expect(new Set(folders).size).toBe(1);
      expect(existsSync(folders[0]!)).toBe(false);
      // The cache is whole again: its nix-cache-info too, which a client needs before anything else.
      expect(cache.objects.has('nix-cache-info')).toBe(true);
      const web = await storePathOf('web');
      await expect(substitute(cache.url, web, key.public)).resolves.toBeUndefined();
    } finally {
      await job.cleanup();
    }
  });

  it('a cache that accepts connections and never answers: the step ends after 3 attempts of cache-timeout, naming the call', async () => {
    cache.hang('all');
    const result = await step(
      { installable: `${flake}#web`, 'store-uri': cache.url, 'signing-key': key.secret, 'cache-timeout': '3s' },
      { timeoutMs: 120_000 },
    );
    expect(result.timedOut).toBe(false);
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringMatching(/^Nix could not open the binary cache http:\/\/127\.0\.0\.1:\d+: nix store ping --store http:\/\/127\.0\.0\.1:\d+ did not finish within 3 s: stopped it/)]);
    expect(warnings(result)).toEqual([1, 2].map((n) => expect.stringContaining(`nix store ping failed with a transient error (attempt ${n} of 3)`)));
    expect(await commands()).toEqual(['--version', 'store ping', 'store ping', 'store ping']);
    expect(result.durationMs).toBeGreaterThanOrEqual(3 * 3_000);
    expect(result.state).toEqual({});
    expect(result.outputs).toEqual({});
    expect(result.summary).toMatch(/<p>Nothing was built or pushed: Nix could not open the binary cache http:\/\/127\.0\.0\.1:\d+: nix store ping --store http:\/\/127\.0\.0\.1:\d+ did not finish within 3 s: stopped it/);
  });

  it('a cache that hangs on uploads: each nix copy attempt is stopped at its bound and retried, 4 in all', async () => {
    cache.objects.set('nix-cache-info', Buffer.from('StoreDir: /nix/store\n'));
    cache.hang('put');
    const result = await step(
      { installable: `${flake}#lib`, 'store-uri': cache.url, 'signing-key': key.secret, 'cache-timeout': '2s' },
      { timeoutMs: 120_000 },
    );
    expect(result.timedOut).toBe(false);
    expect(result.exitCode).toBe(1);
    // 2 s, and 1 s for the NAR of under 1 MiB it uploads.
    expect(errors(result)).toEqual([expect.stringContaining(`nix copy --to ${cache.url} did not finish within 3 s: stopped it`)]);
    expect((await commands()).filter((command) => command === 'copy')).toHaveLength(4);
    expect(cache.requests.filter((request) => request.startsWith('PUT')).length).toBeGreaterThanOrEqual(4);
    expect(existsSync(result.state['signing-key-file'])).toBe(false);
    // What was built is still reported: in the summary, and as the outputs the build alone knows.
    expect(result.summary).toContain('Nix closures built, push failed');
    expect(result.summary).toContain(await storePathOf('lib'));
    expect(result.outputs).toEqual({ 'store-path': await storePathOf('lib'), 'store-paths': JSON.stringify([await storePathOf('lib')]), 'closure-size': expect.stringMatching(/^[1-9]\d*$/) });
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
    [{ 'store-uri': 'file:///tmp/nix-cache?trusted=1' }, 'store-uri'],
    [{ 'store-uri': 's3://nix-cache?region=eu-west-1&priority=1' }, 'store-uri'],
    [{ 'store-uri': '/srv/nix-store' }, 'store-uri'],
    [{ 'build-timeout': 'forever' }, 'build-timeout'],
    [{ 'cache-timeout': '0' }, 'cache-timeout'],
    [{ push: 'yes' }, 'push'],
    [{ sign: 'no' }, 'sign'],
    [{ 'signing-key': '' }, 'signing-key'],
    [{ 'signing-key': 'cache-1:c2hvcnQ=' }, 'signing-key'],
    [{ 'signing-key-parameter': '/nix/key', 'aws-region': 'eu-west-1' }, 'signing-key'],
    [{ 'signing-key': '', 'signing-key-parameter': 'a parameter' }, 'signing-key-parameter'],
    [{ 'signing-key': '', 'signing-key-parameter': '/nix/key', 'aws-region': 'Frankfurt' }, 'aws-region'],
    [{ 'role-to-assume': 'nix-cache-writer' }, 'role-to-assume'],
    [{ compression: 'lzma' }, 'compression'],
    [{ 'build-args': '--impure' }, 'build-args'],
    [{ 'build-args': '--expr\nimport ./default.nix' }, 'build-args'],
    [{ 'build-args': '--max-jobs' }, 'build-args'],
    [{ 'store-uri': 'https://writer:hunter22@cache.example.org' }, 'store-uri'],
  ])('%j fails naming %s, before any AWS call or Nix', async (changes, input) => {
    const result = await step({ ...VALID, ...changes });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining(`'${input}'`)]);
    expect(sandbox.calls.all()).toEqual([]);
    expect(await shim.calls()).toEqual([]);
  });

  it('fails after building, pushing nothing, when the key parameter does not exist (it is read only then)', async () => {
    const result = await step({ ...VALID, installable: `${flake}#web`, 'store-uri': await cacheUri(), 'signing-key': '', 'signing-key-parameter': '/nix/missing' });
    expect(errors(result)).toEqual([expect.stringContaining('Could not read the signing key from the SSM parameter /nix/missing: ParameterNotFound')]);
    expect(await commands()).toEqual(['--version', 'store ping', 'build', 'path-info']);
    expect(result.state).toEqual({});
    expect(result.summary).toContain('Nix closures built, push failed');
    expect(result.outputs['store-path']).toBe(await storePathOf('web'));
    expect(result.outputs['pushed-paths']).toBeUndefined();
  });
});
