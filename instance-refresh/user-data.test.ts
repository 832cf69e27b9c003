/**
 * The user data script, run for real: bash, curl against a fake IMDSv2 server on 127.0.0.1, and real Nix (as root,
 * single-user, the machine's /nix/store) fetching a signed stand-in system closure from a local file:// binary
 * cache. The closure's switch-to-configuration, and stand-ins for systemctl, poweroff, halt, kexec and reboot first on
 * PATH, write each call to a file instead of touching this machine; the sysrq trigger is a file of the test case.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { CreateLaunchTemplateVersionCommand, EC2Client } from '@aws-sdk/client-ec2';
import { Sandbox, STATIC_CREDENTIALS } from '../sandbox/server.js';
import { checkGate, GROUP_NAME_TAG, LIFECYCLE_HOOK_TAG, putHookCommand } from './plan.js';
import { STORE_PATH } from '../shared/store-path.js';
import { runAction } from '../test/harness/runner.js';
import { allows, type PermissionPolicy } from '../test/iam-policy.js';
import { PUBLIC_KEY_SOURCE, SUBSTITUTER_SOURCE } from '../shared/store-uri.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SCRIPT = join(HERE, 'user-data.sh');
/** What users put in the launch template: SCRIPT packed by `npm run build` (scripts/user-data.mjs). */
const PACKED = join(HERE, 'user-data.packed.sh');
// No build users: a fresh machine (CI's) has Debian's nix-bin without the nixbld group.
const NIX_CONFIG = 'experimental-features = nix-command\nsandbox = false\nsubstituters =\nbuild-users-group =\n';
const run = promisify(execFile);
const nix = async (command: string, ...args: string[]) =>
  (await run(command, args, { env: { ...process.env, NIX_CONFIG } })).stdout.trim();

/** How the fake IMDS answers one read before it answers properly: an HTTP status, a closed connection, or none. */
type ImdsFault = 401 | 404 | 500 | 503 | 'close' | 'hang';

/** IMDSv2 as EC2 serves it: a token from PUT first, then reads that carry it; early in boot, faults. */
class FakeImds {
  tags: Record<string, string> = {};
  /** Other items under /latest/meta-data/ by path (`instance-id`, `iam/security-credentials/`...). */
  items: Record<string, string> = {};
  requests: Array<{ method: string; path: string; token?: string }> = [];
  /** Answers to the next reads, in order, each used once; `always` then answers every read after them. */
  faults: ImdsFault[] = [];
  always?: ImdsFault;
  private readonly tokens = new Set<string>();
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const token = req.headers['x-aws-ec2-metadata-token'] as string | undefined;
      this.requests.push({ method: req.method ?? '', path: req.url ?? '', token });
      if (req.method === 'PUT' && req.url === '/latest/api/token') {
        const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
        if (!(ttl >= 1 && ttl <= 21600)) return void res.writeHead(400).end();
        const fresh = randomUUID();
        this.tokens.add(fresh);
        return void res.writeHead(200, { 'content-type': 'text/plain' }).end(fresh);
      }
      if (token === undefined || !this.tokens.has(token)) return void res.writeHead(401).end();
      const fault = this.faults.shift() ?? this.always;
      if (fault === 'hang') return;
      if (fault === 'close') return void req.socket.destroy();
      if (fault !== undefined) return void res.writeHead(fault).end();
      const prefix = '/latest/meta-data/';
      const path = req.url?.startsWith(prefix) ? decodeURIComponent(req.url.slice(prefix.length)) : undefined;
      const [from, key] = path?.startsWith('tags/instance/') ? [this.tags, path.slice('tags/instance/'.length)] : [this.items, path];
      if (req.method !== 'GET' || key === undefined || !Object.hasOwn(from, key)) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/plain' }).end(from[key]);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const imds = new FakeImds();
let imdsUrl: string;
let dir: string;
let secretKey: string;
let publicKey: string;
/** In `cache`, signed with the key whose public half is `publicKey`. */
let signed: string;
/** In `unsigned-cache`, without any signature. */
let unsigned: string;
/** Every closure a test made, deleted at the end. */
const made: string[] = [];

/** A stand-in that records its call in $NIXOS_AWS_TEST_CALLS and exits with `code`. */
async function standIn(bin: string, name: string, code = 0): Promise<void> {
  await writeFile(join(bin, name), `#!/bin/sh\necho "${name} $*" >>"$NIXOS_AWS_TEST_CALLS"\nexit ${code}\n`);
  await chmod(join(bin, name), 0o755);
}

/** Builds a fresh closure (so that it is not in the store from an earlier run), puts it in a cache, drops it. */
async function closureIn(cache: string, key?: string): Promise<string> {
  const path = await closureHere();
  await nix('nix', 'copy', '--to', `file://${join(dir, cache)}${key ? `?secret-key=${key}` : ''}`, path);
  await nix('nix-store', '--delete', path);
  return path;
}

/** Builds a fresh closure and keeps it in the store, as an image holds its systems: built here, signed by no one. */
async function closureHere(): Promise<string> {
  const nonce = randomBytes(8).toString('hex');
  const path = await nix('nix-build', '--no-out-link', '--argstr', 'nonce', nonce, join(HERE, 'fixtures/stand-in-system.nix'));
  made.push(path);
  return path;
}

function convertToPublic(key: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('nix', ['key', 'convert-secret-to-public'], { env: { ...process.env, NIX_CONFIG } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`nix key exited ${code}`))));
    child.stdin.end(key);
  });
}

/**
 * A stand-in system as `nix-store --add` makes one from a folder: content-addressed (a `ca` in its path info), which
 * Nix fetches with no signature even with require-sigs, and which `nix store verify --sigs-needed 1` passes. Put in
 * `cache` (signed with `key` when given) and dropped from the store, or kept in the store when there is no `cache`.
 * Its switch-to-configuration records its calls as the built stand-in's does.
 */
async function contentAddressed(cache?: string, key?: string): Promise<string> {
  const folder = join(dir, `ca-${randomUUID()}`, 'nixos-system-stand-in');
  await mkdir(join(folder, 'bin'), { recursive: true });
  const record = '#!/bin/sh\necho "switch-to-configuration $*" >>"$NIXOS_AWS_TEST_CALLS"\n';
  await writeFile(join(folder, 'bin/switch-to-configuration'), record, { mode: 0o755 });
  await writeFile(join(folder, 'init'), '#!/bin/sh\n', { mode: 0o755 });
  await writeFile(join(folder, 'kernel'), `stand-in kernel ${randomUUID()}\n`);
  await writeFile(join(folder, 'initrd'), 'stand-in initrd\n');
  await writeFile(join(folder, 'kernel-params'), 'console=ttyS0 loglevel=4\n');
  const path = await nix('nix-store', '--add', folder);
  made.push(path);
  if (cache !== undefined) {
    await nix('nix', 'copy', '--to', `file://${join(dir, cache)}${key ? `?secret-key=${key}` : ''}`, path);
    await nix('nix-store', '--delete', path);
  }
  return path;
}

const isValid = (path: string) => nix('nix-store', '--check-validity', path).then(() => true, () => false);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nixos-aws-user-data-'));
  imdsUrl = await imds.start();
  secretKey = join(dir, 'secret-key');
  await writeFile(secretKey, await nix('nix', 'key', 'generate-secret', '--key-name', 'nixos-aws-test-1'), { mode: 0o600 });
  publicKey = await convertToPublic(await readFile(secretKey, 'utf8'));
  await writeFile(join(dir, 'other-key'), await nix('nix', 'key', 'generate-secret', '--key-name', 'someone-else-1'), { mode: 0o600 });
  // Another secret key under the trusted key's name: its signatures carry a trusted name and are not valid.
  await writeFile(join(dir, 'forged-key'), await nix('nix', 'key', 'generate-secret', '--key-name', 'nixos-aws-test-1'), { mode: 0o600 });
  signed = await closureIn('cache', secretKey);
  unsigned = await closureIn('unsigned-cache');
  const bin = join(dir, 'bin');
  await mkdir(bin);
  for (const name of ['systemctl', 'poweroff', 'halt', 'kexec', 'reboot']) await standIn(bin, name);
}, 60_000);

afterAll(async () => {
  await imds.stop();
  await rm(dir, { recursive: true, force: true });
  // The profile links went with `dir`, so nothing roots the closures any more.
  for (const path of made) await nix('nix-store', '--delete', path).catch(() => undefined);
});

let caseDir: string;
/** A fresh case: its own folder (profiles, state, stand-ins, calls), and instance metadata as new. */
async function newCase(): Promise<void> {
  caseDir = join(dir, randomUUID());
  await mkdir(join(caseDir, 'profiles'), { recursive: true });
  await mkdir(join(caseDir, 'bin'));
  await writeFile(join(caseDir, 'calls'), '');
  imds.requests = [];
  imds.items = {};
  imds.faults = [];
  imds.always = undefined;
}
beforeEach(newCase);

interface Outcome {
  code: number | null;
  stderr: string;
  calls: string[];
}

/**
 * Runs `script` (the source unless told) as amazon-init would, with this case's own profile, current system, state and stand-ins. `PATH`
 * in `env` replaces the whole search path; the case's `bin` (stand-ins a test makes fail) comes first otherwise.
 * The sysrq trigger is always a file of the case: never this machine's.
 */
async function runScript(tags: Record<string, string>, env: Record<string, string> = {}, script = SCRIPT): Promise<Outcome> {
  imds.tags = tags;
  const child = spawn('/bin/bash', [script], {
    env: {
      PATH: `${join(caseDir, 'bin')}:${join(dir, 'bin')}:/usr/bin:/bin`,
      NIX_CONFIG,
      NIXOS_AWS_IMDS: imdsUrl,
      NIXOS_AWS_IMDS_WAIT_SECONDS: '2',
      NIXOS_AWS_SYSTEM_PROFILE: join(caseDir, 'profiles/system'),
      NIXOS_AWS_CURRENT_SYSTEM: join(caseDir, 'current-system'),
      NIXOS_AWS_STATE_DIR: join(caseDir, 'state'),
      NIXOS_AWS_SYSRQ_WAIT_SECONDS: '0',
      NIXOS_AWS_TEST_CALLS: join(caseDir, 'calls'),
      ...env,
      NIXOS_AWS_SYSRQ_TRIGGER: join(caseDir, 'sysrq-trigger'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const calls = (await readFile(join(caseDir, 'calls'), 'utf8')).split('\n').filter((line) => line !== '');
  await writeFile(join(caseDir, 'calls'), '');
  return { code, stderr, calls };
}

const trusted = (path = signed) => ({
  NixStorePath: path,
  Substituters: `file://${join(dir, 'cache')}`,
  TrustedPublicKeys: publicKey,
});
const bootCalls = (path: string) => [
  'switch-to-configuration boot',
  `kexec --load ${path}/kernel --initrd=${path}/initrd --command-line=init=${path}/init console=ttyS0 loglevel=4`,
  'systemctl kexec',
];
const profile = async () => readlink(join(caseDir, 'profiles', await readlink(join(caseDir, 'profiles/system'))));
/** What /run/current-system points at after the boot a test stands in for. */
async function bootedInto(path: string): Promise<void> {
  await rm(join(caseDir, 'current-system'), { force: true });
  await symlink(path, join(caseDir, 'current-system'));
}

describe('user-data.sh', () => {
  it('checks store paths with the pattern the action uses', () => {
    const line = /^STORE_PATH_PATTERN='(.*)'$/m.exec(readFileSync(SCRIPT, 'utf8'));
    expect(line?.[1]).toBe(STORE_PATH.source.replace(/\\\//g, '/'));
  });

  it('checks substituters with the rule of every store URI input (shared/store-uri.ts)', () => {
    const line = /^SUBSTITUTER_PATTERN='(.*)'$/m.exec(readFileSync(SCRIPT, 'utf8'));
    expect(line?.[1]).toBe(`^${SUBSTITUTER_SOURCE}$`);
  });

  it('checks public keys with the rule of every public key input (shared/store-uri.ts)', () => {
    const line = /^PUBLIC_KEY_PATTERN='(.*)'$/m.exec(readFileSync(SCRIPT, 'utf8'));
    expect(line?.[1]).toBe(`^${PUBLIC_KEY_SOURCE}$`);
  });

  it.each<[string, Record<string, string>, (path: string) => string[]]>([
    ['kexec', {}, bootCalls],
    ['reboot', { NIXOS_AWS_BOOT: 'reboot' }, () => ['switch-to-configuration boot', 'systemctl reboot']],
  ])('fetches the signed system, makes it the profile and boots it with %s', async (_case, env, expected) => {
    const outcome = await runScript(trusted(), env);
    expect(outcome.stderr).not.toContain('FAILED');
    expect(outcome.code).toBe(0);
    expect(outcome.calls).toEqual(expected(signed));
    expect(await isValid(signed)).toBe(true);
    expect(await profile()).toBe(signed);
    // Token first, then every read with it.
    expect(imds.requests[0]).toMatchObject({ method: 'PUT', path: '/latest/api/token' });
    expect(imds.requests.slice(1).every((r) => r.method === 'GET' && r.token !== undefined)).toBe(true);
  });

  it('does nothing when the instance already runs that system', async () => {
    await bootedInto(signed);
    const outcome = await runScript(trusted());
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toContain(`running ${signed} already: nothing to do`);
    expect(outcome.calls).toEqual([]);
    expect(existsSync(join(caseDir, 'profiles/system'))).toBe(false);
  });

  it.each<[string, () => Record<string, string>, Record<string, string>, RegExp, string[]]>([
    [
      'an unsigned closure',
      () => ({ ...trusted(), NixStorePath: unsigned, Substituters: `file://${join(dir, 'unsigned-cache')}` }),
      {},
      /could not fetch \S+ with a valid signature/,
      ['systemctl poweroff'],
    ],
    ['no store path tag', () => ({ Substituters: `file://${join(dir, 'cache')}` }), {}, /the instance has no NixStorePath tag/, ['systemctl poweroff']],
    ['a store path tag under another name', () => ({ System: signed }), { NIXOS_AWS_STORE_PATH_TAG: 'Other' }, /has no Other tag/, ['systemctl poweroff']],
    ['a failure, told to stay', () => ({}), { NIXOS_AWS_ON_FAILURE: 'stay' }, /leaving the instance running/, []],
    ['no instance metadata', () => trusted(), { NIXOS_AWS_IMDS: 'http://127.0.0.1:9', NIXOS_AWS_IMDS_WAIT_SECONDS: '0' }, /no instance metadata token/, ['systemctl poweroff']],
  ])('fails on %s, powering off unless told to stay', async (_case, tags, env, message, calls) => {
    const outcome = await runScript(tags(), env);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(message);
    expect(outcome.calls).toEqual(calls);
    expect(await isValid(unsigned)).toBe(false);
  });

  describe('never runs a tag value', () => {
    const mark = () => join(caseDir, 'pwned');
    const hash = () => signed.slice('/nix/store/'.length, '/nix/store/'.length + 32);
    it.each<[string, () => Record<string, string>, RegExp]>([
      ['a command substitution as store path', () => ({ ...trusted(), NixStorePath: `$(touch ${mark()})` }), /NixStorePath tag is not a store path/],
      ['a command after the store path', () => ({ ...trusted(), NixStorePath: `${signed}; touch ${mark()}` }), /NixStorePath tag is not a store path/],
      ['backticks in the name', () => ({ ...trusted(), NixStorePath: `/nix/store/${hash()}-\`touch ${mark()}\`` }), /NixStorePath tag is not a store path/],
      ['a second line', () => ({ ...trusted(), NixStorePath: `${signed}\ntouch ${mark()}` }), /NixStorePath tag has control characters/],
      ['a path out of the store', () => ({ ...trusted(), NixStorePath: `/nix/store/${hash()}-x/../../../etc` }), /NixStorePath tag is not a store path/],
      ['options in the substituters', () => ({ ...trusted(), Substituters: '--option require-sigs false' }), /substituter this script does not use/],
      ['a command among the substituters', () => ({ ...trusted(), Substituters: `file:///x $(touch ${mark()})` }), /substituter this script does not use/],
      ['a command as public key', () => ({ ...trusted(), TrustedPublicKeys: `k:$(touch ${mark()})` }), /not a public key/],
    ])('%s', async (_case, tags, message) => {
      const outcome = await runScript(tags());
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toMatch(message);
      expect(outcome.calls).toEqual(['systemctl poweroff']);
      expect(existsSync(mark())).toBe(false);
    });
  });

  describe('takes substituters with no store settings but the allowed ones', () => {
    it.each<[string]>([
      ['?trusted=1'],
      ['?secret-key=/etc/nix/key.sec'],
      ['?require-sigs=false'],
      ['?want-mass-query=true'],
      ['?%74rusted=1'],
      ['?priority=10&trusted=true'],
      ['?trusted'],
      ['#trusted=1'],
    ])('refuses %s, fetching nothing', async (query) => {
      const outcome = await runScript({ ...trusted(), NixStorePath: unsigned, Substituters: `file://${join(dir, 'unsigned-cache')}${query}` });
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toMatch(/substituter this script does not use/);
      expect(outcome.calls).toEqual(['systemctl poweroff']);
      expect(await isValid(unsigned)).toBe(false);
    });

    it.each<[string]>([['?priority=30'], ['?region=eu-central-1&scheme=https&endpoint=minio.internal:9000&profile=deploy'], ['']])(
      'fetches with %j',
      async (query) => {
        const fresh = await closureIn('cache', secretKey);
        const outcome = await runScript({ ...trusted(fresh), Substituters: `file://${join(dir, 'cache')}${query}` });
        expect(outcome.stderr).not.toContain('FAILED');
        expect(outcome.calls).toEqual(bootCalls(fresh));
        expect(await isValid(fresh)).toBe(true);
      },
    );
  });

  describe('boots only a system signed by a trusted key, fetched or already in the store', () => {
    it.each<[string, (path: string) => Promise<unknown>]>([
      ['signed by no one (built here, as the image holds its systems)', async () => undefined],
      ['signed by a key the instance does not trust', (path) => nix('nix', 'store', 'sign', '--key-file', join(dir, 'other-key'), path)],
      ["signed by another key under a trusted key's name", (path) => nix('nix', 'store', 'sign', '--key-file', join(dir, 'forged-key'), path)],
    ])('refuses a system in the store %s', async (_case, sign) => {
      const present = await closureHere();
      await sign(present);
      const outcome = await runScript(trusted(present));
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toContain(`${present} has no valid signature by a trusted key`);
      expect(outcome.calls).toEqual(['systemctl poweroff']);
      expect(existsSync(join(caseDir, 'profiles/system'))).toBe(false);
    });

    describe('refuses a content-addressed path, which Nix takes with no signature: a NixOS system is input-addressed', () => {
      const caCache = () => `file://${join(dir, 'ca-cache')}`;
      it.each<[string, () => Promise<Record<string, string>>]>([
        ['fetched unsigned from a cache, with no keys', async () => ({ NixStorePath: await contentAddressed('ca-cache'), Substituters: caCache() })],
        ['fetched unsigned from a cache, with a trusted key', async () => ({ ...trusted(await contentAddressed('ca-cache')), Substituters: caCache() })],
        ['fetched from a cache that signed it with a trusted key', async () => trusted(await contentAddressed('cache', secretKey))],
        ['already in the store, with no cache (a downgrade to any such path the image holds)', async () => ({ NixStorePath: await contentAddressed() })],
        [
          'already in the store, signed by a trusted key',
          async () => {
            const present = await contentAddressed();
            await nix('nix', 'store', 'sign', '--key-file', secretKey, present);
            return { NixStorePath: present, TrustedPublicKeys: publicKey };
          },
        ],
      ])('%s', async (_case, tags) => {
        const given = await tags();
        const outcome = await runScript(given);
        expect(outcome.code).toBe(1);
        expect(outcome.stderr).toContain(`FAILED: ${given.NixStorePath} is content-addressed`);
        expect(outcome.calls).toEqual(['systemctl poweroff']);
        expect(existsSync(join(caseDir, 'profiles/system'))).toBe(false);
        expect(existsSync(join(caseDir, 'state/booting-store-path'))).toBe(false);
      });
    });

    it('takes a key whose name has @, as every public key input does (shared/store-uri.ts)', async () => {
      const key = join(dir, `at-key-${randomUUID()}`);
      await writeFile(key, await nix('nix', 'key', 'generate-secret', '--key-name', 'deploy@nixos-aws-test-2'), { mode: 0o600 });
      const fetched = await closureIn('at-cache', key);
      const outcome = await runScript({
        NixStorePath: fetched,
        Substituters: `file://${join(dir, 'at-cache')}`,
        TrustedPublicKeys: await convertToPublic(await readFile(key, 'utf8')),
      });
      expect(outcome.stderr).not.toContain('FAILED');
      expect(outcome.calls).toEqual(bootCalls(fetched));
    });

    it('boots a system in the store that a trusted key signed, with no cache to fetch from', async () => {
      const present = await closureHere();
      await nix('nix', 'store', 'sign', '--key-file', secretKey, present);
      const outcome = await runScript({ NixStorePath: present, TrustedPublicKeys: publicKey });
      expect(outcome.stderr).not.toContain('FAILED');
      expect(outcome.calls).toEqual(bootCalls(present));
      expect(await profile()).toBe(present);
    });
  });

  it('bounds the fetch: a cache that accepts connections and never answers powers the instance off, named', async () => {
    const sockets: Socket[] = [];
    const silent = createNetServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const cache = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const outcome = await runScript(
        { ...trusted(unsigned), Substituters: cache },
        { NIXOS_AWS_FETCH_TIMEOUT_SECONDS: '2' },
      );
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toContain(`FAILED: fetching ${unsigned} from ${cache} and the image's own substituters did not finish within 2 s`);
      expect(outcome.calls).toEqual(['systemctl poweroff']);
      expect(sockets.length).toBeGreaterThan(0);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  describe('retries instance metadata within its window', () => {
    it.each<[string, ImdsFault[]]>([
      ['401 to tag reads with a fresh token, as early in boot', [401, 401, 401]],
      ['5xx', [500, 503]],
      ['a closed connection, then no answer', ['close', 'hang']],
    ])('%s, then boots', async (_case, faults) => {
      imds.faults = [...faults];
      const outcome = await runScript(trusted(), { NIXOS_AWS_IMDS_WAIT_SECONDS: '60' });
      expect(outcome.stderr).not.toContain('FAILED');
      expect(outcome.calls).toEqual(bootCalls(signed));
      expect(imds.faults).toEqual([]);
      // A new token after each failed read.
      expect(imds.requests.filter((r) => r.method === 'PUT').length).toBe(faults.length + 1);
    });

    it.each<[string, ImdsFault, RegExp]>([
      ['keeps answering 503', 503, /instance metadata answered HTTP 503 for the tag NixStorePath until the end of its 2 s window/],
      ['keeps answering 401', 401, /instance metadata answered HTTP 401 for the tag NixStorePath until the end/],
      ['keeps closing the connection', 'close', /instance metadata answered nothing for the tag NixStorePath until the end/],
    ])('fails when it %s', async (_case, fault, message) => {
      imds.always = fault;
      const outcome = await runScript(trusted());
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toMatch(message);
      expect(outcome.calls).toEqual(['systemctl poweroff']);
    });

    it('takes only a 404 as no such tag', async () => {
      imds.faults = [404];
      const outcome = await runScript(trusted());
      expect(outcome.stderr).toMatch(/the instance has no NixStorePath tag/);
    });
  });

  describe('checks its tools first', () => {
    const TOOLS = ['curl', 'nix', 'nix-store', 'nix-env', 'timeout', 'readlink', 'mkdir', 'mv', 'sleep'];
    it.each(['curl', 'nix-store', 'timeout'])('without %s: fails at once naming it, before asking instance metadata', async (missing) => {
      const bin = join(caseDir, 'tools');
      await mkdir(bin);
      for (const tool of TOOLS.filter((name) => name !== missing)) {
        await symlink((await run('/bin/sh', ['-c', `command -v ${tool}`])).stdout.trim(), join(bin, tool));
      }
      for (const name of ['systemctl', 'halt']) await standIn(bin, name);
      const outcome = await runScript(trusted(), { PATH: bin });
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toContain(`FAILED: ${missing} is not installed`);
      expect(imds.requests).toEqual([]);
      expect(outcome.calls).toEqual(['systemctl poweroff']);
    });

    it.each(['nix (Nix) 2.3.16', 'nix (Nix) 2.7.0', 'not a version'])(
      'with a Nix that says %j: fails at once naming the version it needs, before asking instance metadata',
      async (says) => {
        const bin = join(caseDir, 'tools');
        await mkdir(bin);
        for (const tool of TOOLS.filter((name) => name !== 'nix')) {
          await symlink((await run('/bin/sh', ['-c', `command -v ${tool}`])).stdout.trim(), join(bin, tool));
        }
        await writeFile(join(bin, 'nix'), `#!/bin/sh\n[ "$1" = --version ] && echo '${says}' && exit 0\nexit 1\n`, { mode: 0o755 });
        for (const name of ['systemctl', 'halt']) await standIn(bin, name);
        const outcome = await runScript(trusted(), { PATH: bin });
        expect(outcome.code).toBe(1);
        expect(outcome.stderr).toContain('FAILED: this script needs Nix 2.8 or later');
        expect(imds.requests).toEqual([]);
      },
    );
  });

  describe('powers off by a way that cannot be refused', () => {
    it('forces the power off, then asks the kernel, then halts, when systemctl fails', async () => {
      await standIn(join(caseDir, 'bin'), 'systemctl', 1);
      const outcome = await runScript({});
      expect(outcome.code).toBe(1);
      expect(outcome.calls).toEqual(['systemctl poweroff', 'systemctl poweroff --force --force', 'halt --force --force']);
      expect(await readFile(join(caseDir, 'sysrq-trigger'), 'utf8')).toBe('o');
    });

    it('reaches the last resort when every way fails, and says so', async () => {
      for (const name of ['systemctl', 'halt']) await standIn(join(caseDir, 'bin'), name, 1);
      await mkdir(join(caseDir, 'sysrq-trigger'));
      const outcome = await runScript({});
      expect(outcome.code).toBe(1);
      expect(outcome.calls).toEqual(['systemctl poweroff', 'systemctl poweroff --force --force', 'halt --force --force']);
      expect(outcome.stderr).toContain('asking the kernel (sysrq o)');
      expect(outcome.stderr).toContain('EVERY WAY TO POWER OFF FAILED');
    });
  });

  describe('applies a tag value once', () => {
    it('boots it, records it once running it, keeps a later in-place switch across reboots, applies a new value', async () => {
      const first = await runScript(trusted());
      expect(first.calls).toEqual(bootCalls(signed));

      await bootedInto(signed);
      const booted = await runScript(trusted());
      expect(booted).toMatchObject({ code: 0, calls: [] });
      expect(await readFile(join(caseDir, 'state/applied-store-path'), 'utf8')).toBe(`${signed}\n`);

      // ssm-deploy (or someone by hand) switches the instance in place to another system; then it reboots.
      const inPlace = await closureHere();
      await bootedInto(inPlace);
      const rebooted = await runScript(trusted());
      expect(rebooted).toMatchObject({ code: 0, calls: [] });
      expect(rebooted.stderr).toContain(`still names ${signed}, applied at an earlier boot: nothing to do`);
      expect(await profile()).toBe(signed);

      const next = await closureIn('cache', secretKey);
      const changed = await runScript(trusted(next));
      expect(changed.stderr).not.toContain('FAILED');
      expect(changed.calls).toEqual(bootCalls(next));
      expect(await profile()).toBe(next);
    });

    it('powers off, rather than booting it again, when the boot came up on another system', async () => {
      expect((await runScript(trusted())).calls).toEqual(bootCalls(signed));
      await bootedInto(unsigned);
      const outcome = await runScript(trusted());
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toContain(`this instance was booted into ${signed} but came up on ${unsigned}`);
      expect(outcome.calls).toEqual(['systemctl poweroff']);
    });
  });
});

/**
 * What two runs did, with what differs between any two runs taken out: each case's folder, the closure each
 * fetched, the instance, and the metadata tokens (only which path was asked, how, and whether with a token).
 */
function comparable(outcome: Outcome, names: Record<string, string>) {
  const plain = (text: string) =>
    Object.entries({ ...names, [caseDir]: '<case>' }).reduce((out, [from, to]) => out.split(from).join(to), text);
  return {
    code: outcome.code,
    log: plain(outcome.stderr).split('\n'),
    calls: outcome.calls.map(plain),
    imds: imds.requests.map((r) => `${r.method} ${plain(r.path)}${r.token === undefined ? '' : ' (token)'}`),
  };
}

describe('user-data.packed.sh, what users put in the launch template', () => {
  const packed = () => readFileSync(PACKED, 'utf8');
  const sandbox = new Sandbox();
  beforeAll(() => sandbox.start());
  afterAll(() => sandbox.stop());

  it("fits EC2's limit on user data, 16,384 bytes raw, with room for the source to grow", () => {
    const size = Buffer.byteLength(packed());
    expect(size).toBeLessThanOrEqual(16_384);
    // The source itself does not fit: which is why users get the packed file.
    expect(readFileSync(SCRIPT).length).toBeGreaterThan(16_384);
    // 12,050 bytes when measured; a growing source should meet this before it meets EC2.
    expect(size).toBeLessThan(14_000);
  });

  /** Each case's tags and settings, made anew for each run (a closure of its own, where the case fetches one). */
  it.each<[string, () => Promise<{ tags: Record<string, string>; env?: Record<string, string>; path?: string }>, number]>([
    ['a boot into a signed system (kexec)', async () => {
      const path = await closureIn('cache', secretKey);
      return { tags: trusted(path), path };
    }, 0],
    ['a boot with reboot, told in the environment', async () => {
      const path = await closureIn('cache', secretKey);
      return { tags: trusted(path), env: { NIXOS_AWS_BOOT: 'reboot' }, path };
    }, 0],
    ['an unsigned closure', async () => {
      const path = await closureIn('unsigned-cache');
      return { tags: { ...trusted(), NixStorePath: path, Substituters: `file://${join(dir, 'unsigned-cache')}` }, path };
    }, 1],
    ['no store path tag', async () => ({ tags: { Substituters: `file://${join(dir, 'cache')}` } }), 1],
    ['a command substitution as store path', async () => ({ tags: { ...trusted(), NixStorePath: `$(touch ${join(caseDir, 'pwned')})` } }), 1],
    ['a failure, told to stay', async () => ({ tags: {}, env: { NIXOS_AWS_ON_FAILURE: 'stay' } }), 1],
    // The ERR trap names the line that failed: the packed script keeps the source's line numbers.
    ['a kexec that cannot load the kernel', async () => {
      const path = await closureIn('cache', secretKey);
      await standIn(join(caseDir, 'bin'), 'kexec', 1);
      return { tags: trusted(path), path };
    }, 1],
    ['a nix-env that fails', async () => {
      const path = await closureIn('cache', secretKey);
      await standIn(join(caseDir, 'bin'), 'nix-env', 3);
      return { tags: trusted(path), path };
    }, 1],
  ])('does what the source does on %s: exit code, log, calls, instance metadata reads', async (_case, setup, code) => {
    const runs = [];
    for (const script of [SCRIPT, PACKED]) {
      await newCase();
      const { tags, env, path } = await setup();
      const outcome = await runScript(tags, env, script);
      runs.push(comparable(outcome, path ? { [path]: '<system>' } : {}));
      expect(existsSync(join(caseDir, 'pwned'))).toBe(false);
    }
    expect(runs[0].code).toBe(code);
    expect(runs[0].imds.length).toBeGreaterThan(0);
    expect(runs[1]).toEqual(runs[0]);
  }, 120_000);

  it('passes a setting edited in its header on to the script', async () => {
    const edited = join(caseDir, 'user-data.sh');
    const header = 'export NIXOS_AWS_STORE_PATH_TAG="${NIXOS_AWS_STORE_PATH_TAG:-NixStorePath}"';
    expect(packed()).toContain(header);
    await writeFile(edited, packed().replace(header, header.replace(':-NixStorePath', ':-System')));
    const { NixStorePath, ...rest } = trusted();
    const outcome = await runScript({ ...rest, System: NixStorePath }, {}, edited);
    expect(outcome.stderr).not.toContain('FAILED');
    expect(outcome.code).toBe(0);
    expect(outcome.calls).toEqual(bootCalls(signed));
  });

  it('passes a setting edited in its header as a plain NAME=value line on to the script', async () => {
    const edited = join(caseDir, 'user-data.sh');
    const header = 'export NIXOS_AWS_STORE_PATH_TAG="${NIXOS_AWS_STORE_PATH_TAG:-NixStorePath}"';
    await writeFile(edited, packed().replace(header, 'NIXOS_AWS_STORE_PATH_TAG=System'));
    const { NixStorePath, ...rest } = trusted();
    const outcome = await runScript({ ...rest, System: NixStorePath }, {}, edited);
    expect(outcome.stderr).not.toContain('FAILED');
    expect(outcome.code).toBe(0);
    expect(outcome.calls).toEqual(bootCalls(signed));
  });

  it.each<[string, Record<string, string>, string[]]>([
    ['powers off', {}, ['systemctl poweroff']],
    ['stays when told to', { NIXOS_AWS_ON_FAILURE: 'stay' }, []],
  ])('when its payload does not decode, says so and %s', async (_case, env, calls) => {
    const broken = join(caseDir, 'user-data.sh');
    await writeFile(broken, packed().replace(/^packed='H4sI/m, "packed='H4sX"));
    const outcome = await runScript(trusted(), env, broken);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('nixos-aws: the packed user data does not decode');
    expect(outcome.calls).toEqual(calls);
    expect(imds.requests).toEqual([]);
  });

  it.each<[string, () => string, string | undefined]>([
    ['the packed file', () => packed(), undefined],
    ['the source, which is over the limit', () => readFileSync(SCRIPT, 'utf8'), 'User data is limited to 16384 bytes.'],
  ])('as the base64 UserData of a launch template version (Terraform filebase64): %s', async (_case, text, refusal) => {
    sandbox.reset();
    const template = sandbox.ec2.createLaunchTemplate({ name: 'web', data: { ImageId: 'ami-0123456789abcdef0' } });
    const userData = Buffer.from(text()).toString('base64');
    const ec2 = new EC2Client({ region: sandbox.region, endpoint: sandbox.url, credentials: STATIC_CREDENTIALS, maxAttempts: 1 });
    const create = ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: template.id, LaunchTemplateData: { UserData: userData } }));
    if (refusal === undefined) {
      await expect(create).resolves.toMatchObject({ LaunchTemplateVersion: { VersionNumber: 2 } });
      expect(sandbox.ec2.resolveVersion({ LaunchTemplateId: template.id, Version: '2' }).version.data.UserData).toBe(userData);
      expect(sandbox.ec2.createLaunchTemplate({ name: 'seeded', data: { UserData: userData } }).versions).toHaveLength(1);
    } else {
      await expect(create).rejects.toMatchObject({ name: 'InvalidUserData.Malformed', message: refusal });
      expect(template.versions).toHaveLength(1);
      expect(() => sandbox.ec2.createLaunchTemplate({ name: 'seeded', data: { UserData: userData } })).toThrow(refusal);
    }
  });
});

describe('the readiness gate', () => {
  const DEPLOY = join(HERE, '../ssm-deploy/nixos-deploy.sh');
  /** A function's whole text, `name() {` to the `}` that closes it at the start of a line. */
  const functionText = (file: string, name: string) => new RegExp(`^${name}\\(\\) \\{\\n[\\s\\S]*?\\n\\}$`, 'm').exec(readFileSync(file, 'utf8'))?.[0];

  it.each(['health_check', 'http_ok'])("runs %s word for word as ssm-deploy's document does", (name) => {
    expect(functionText(SCRIPT, name)).toBeDefined();
    expect(functionText(SCRIPT, name)).toBe(functionText(DEPLOY, name));
  });

  it.each([
    ['UNITS_PATTERN', 'healthCheckUnits'],
    ['URL_PATTERN', 'healthCheckUrl'],
    ['TIMEOUT_PATTERN', 'healthCheckTimeoutSeconds'],
  ])("checks the health check's settings with the document's patterns: %s is %s's", (variable, parameter) => {
    const parameters = JSON.parse(readFileSync(join(HERE, '../ssm-deploy/nixos-deploy.parameters.json'), 'utf8')) as Record<string, { allowedPattern: string }>;
    const line = new RegExp(`^${variable}='(.*)'$`, 'm').exec(readFileSync(SCRIPT, 'utf8'));
    expect(line?.[1]).toBe(parameters[parameter].allowedPattern);
  });

  it('reads the tags the action sets, by default', () => {
    const text = readFileSync(SCRIPT, 'utf8');
    expect(/^: "\$\{NIXOS_AWS_GROUP_TAG:=(.*)\}"$/m.exec(text)?.[1]).toBe(GROUP_NAME_TAG);
    expect(/^: "\$\{NIXOS_AWS_HOOK_TAG:=(.*)\}"$/m.exec(text)?.[1]).toBe(LIFECYCLE_HOOK_TAG);
  });

  it.each([
    ['instance-refresh/README.md', join(HERE, 'README.md')],
    ['docs/instance-setup.md', join(HERE, '../docs/instance-setup.md')],
  ])('%s shows the hook the action asks for, one the action takes', (_name, file) => {
    const shown = /^\s*(aws autoscaling put-lifecycle-hook .*\\\n.*)$/m.exec(readFileSync(file, 'utf8'))?.[1].replace(/\s*\\\n\s*/, ' ');
    expect(shown).toBe(putHookCommand('web'));
    const hook = { LifecycleHookName: 'nixos-ready', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 3600, DefaultResult: 'ABANDON' };
    expect(checkGate('web', [hook], '')).toEqual({ hook: 'nixos-ready', warning: undefined });
  });

  const GROUP = 'web-staging';
  const HOOK = 'nixos-ready';
  const ROLE = 'web-instance';
  const sandbox = new Sandbox();
  let health: Server;
  let healthUrl: string;
  /** What the health URL answers. */
  let healthStatus = 204;

  beforeAll(async () => {
    await sandbox.start();
    health = createServer((_req, res) => void res.writeHead(healthStatus).end());
    await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
    healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/healthz`;
  });

  afterAll(async () => {
    await sandbox.stop();
    health.closeAllConnections();
    await new Promise((resolve) => health.close(resolve));
  });

  const operation = (name: string, params: Record<string, unknown>) =>
    sandbox.autoscaling.operations[name](params, { caller: 'test', requestId: 'test', sandbox }) as Record<string, unknown>;
  const groupInstances = () =>
    ((operation('DescribeAutoScalingGroups', { AutoScalingGroupNames: [GROUP] }).AutoScalingGroups as Array<Record<string, unknown>>)[0]
      .Instances ?? []) as Array<{ InstanceId: string; LifecycleState: string }>;

  const refresh = () =>
    (operation('DescribeInstanceRefreshes', { AutoScalingGroupName: GROUP }).InstanceRefreshes as Array<Record<string, unknown>>)[0];

  /**
   * A group with a launching hook and a refresh under way whose replacement waits in Pending:Wait; the sandbox's clock
   * stands still from then on (the hook's timeout cannot end it while the script runs). Instance metadata serves that
   * instance's ID, region and instance profile credentials. Returns the instance ID.
   */
  async function waitingInstance(): Promise<string> {
    sandbox.reset();
    sandbox.clock.setSpeed(0);
    const id = sandbox.ec2.createLaunchTemplate({
      name: 'web',
      data: { ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.small', MetadataOptions: { HttpTokens: 'required', InstanceMetadataTags: 'enabled' } },
    }).id;
    sandbox.autoscaling.createGroup({ name: GROUP, launchTemplate: { id, version: '1' }, desiredCapacity: 1 });
    operation('PutLifecycleHook', {
      AutoScalingGroupName: GROUP,
      LifecycleHookName: HOOK,
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      HeartbeatTimeout: 900,
      DefaultResult: 'ABANDON',
    });
    operation('StartInstanceRefresh', { AutoScalingGroupName: GROUP, Preferences: { MinHealthyPercentage: '0', InstanceWarmup: '60' } });
    for (let step = 0; step < 600; step++) {
      const waiting = groupInstances().find((instance) => instance.LifecycleState === 'Pending:Wait');
      if (waiting) {
        serveInstance(waiting.InstanceId);
        return waiting.InstanceId;
      }
      sandbox.clock.advance(1000);
    }
    throw new Error('no instance of the refresh reached Pending:Wait');
  }

  function serveInstance(instanceId: string, credentials = sandbox.instanceProfileCredentials(instanceId, ROLE)): void {
    imds.items = {
      'instance-id': instanceId,
      'placement/region': sandbox.region,
      'iam/security-credentials/': ROLE,
      [`iam/security-credentials/${ROLE}`]: JSON.stringify(credentials, null, 2),
    };
  }

  const gated = (path = signed) => ({ ...trusted(path), AutoScalingGroupName: GROUP, LifecycleHookName: HOOK });
  const gateEnv = (env: Record<string, string> = {}) => ({ NIXOS_AWS_AUTOSCALING_ENDPOINT: sandbox.url, ...env });
  /** Every CompleteLifecycleAction the sandbox got: how it answered, and what it was asked. */
  const completions = () =>
    sandbox.calls.of('CompleteLifecycleAction').map((call) => ({
      status: call.status,
      ...(call.errorCode ? { errorCode: call.errorCode } : {}),
      caller: call.caller,
      params: call.params,
    }));
  const completed = (instanceId: string, result: 'CONTINUE' | 'ABANDON') => ({
    status: 200,
    caller: `arn:aws:sts::${sandbox.accountId}:assumed-role/${ROLE}/${instanceId}`,
    params: { AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, InstanceId: instanceId, LifecycleActionResult: result },
  });
  const secrets = () => {
    const document = JSON.parse(imds.items[`iam/security-credentials/${ROLE}`]) as Record<string, string>;
    return [document.SecretAccessKey, document.Token];
  };

  /** A systemctl that says every unit is inactive, and records its calls like the others. */
  async function unitsDown(): Promise<void> {
    const script = '#!/bin/sh\necho "systemctl $*" >>"$NIXOS_AWS_TEST_CALLS"\ncase $1 in is-active) [ "$2" = --quiet ] || echo inactive; exit 3 ;; esac\nexit 0\n';
    await writeFile(join(caseDir, 'bin/systemctl'), script, { mode: 0o755 });
  }

  it('boots the system, then on the booted system checks it and completes with CONTINUE, once; the refresh goes on', async () => {
    const instanceId = await waitingInstance();
    const first = await runScript(gated(), gateEnv());
    expect(first.stderr).not.toContain('FAILED');
    expect(first.calls).toEqual(bootCalls(signed));
    expect(completions()).toEqual([]);

    await bootedInto(signed);
    // curl as the script runs it, its command lines kept: where other processes of the instance could read them.
    const curl = (await run('/bin/sh', ['-c', 'command -v curl'])).stdout.trim();
    const argv = join(caseDir, 'curl-argv');
    await writeFile(join(caseDir, 'bin/curl'), `#!/bin/sh\nprintf '%s\\n' "$*" >>'${argv}'\nexec ${curl} "$@"\n`, { mode: 0o755 });
    const env = gateEnv({ NIXOS_AWS_HEALTH_CHECK_UNITS: 'web.service nginx.service', NIXOS_AWS_HEALTH_CHECK_URL: healthUrl });
    const booted = await runScript(gated(), env);
    expect(booted.stderr).not.toContain('FAILED');
    expect(booted.code).toBe(0);
    expect(booted.calls).toEqual(['systemctl is-active --quiet -- web.service', 'systemctl is-active --quiet -- nginx.service']);
    expect(booted.stderr).toContain(`${healthUrl} answers 2xx`);
    expect(completions()).toEqual([completed(instanceId, 'CONTINUE')]);
    // The secret key and the session token reach curl on a pipe: in no command line, and not in the log.
    const commandLines = await readFile(argv, 'utf8');
    expect(commandLines).toContain(`--aws-sigv4 aws:amz:${sandbox.region}:autoscaling`);
    for (const secret of secrets()) {
      expect(booted.stderr).not.toContain(secret);
      expect(commandLines).not.toContain(secret);
    }

    // A later boot (or amazon-init run again) does not complete it twice.
    const again = await runScript(gated(), env);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('the lifecycle action was completed before (CONTINUE');
    expect(completions()).toHaveLength(1);

    sandbox.clock.advance(120_000);
    expect(groupInstances().find((instance) => instance.InstanceId === instanceId)?.LifecycleState).toBe('InService');
    expect(refresh()).toMatchObject({ Status: 'Successful' });
    // iam/web-instance allows what the script did, on this group's ARN as the example account names it.
    const policy = JSON.parse(readFileSync(join(HERE, '../iam/web-instance/permission-policy.json'), 'utf8')) as PermissionPolicy;
    const group = (operation('DescribeAutoScalingGroups', { AutoScalingGroupNames: [GROUP] }).AutoScalingGroups as Array<{ AutoScalingGroupARN: string }>)[0];
    const arn = group.AutoScalingGroupARN.replace(/^arn:aws:autoscaling:[^:]+:\d+:/, 'arn:aws:autoscaling:eu-central-1:123456789012:');
    expect(arn).toMatch(/:autoScalingGroup:[0-9a-f-]+:autoScalingGroupName\/web-staging$/);
    expect(allows(policy, 'autoscaling:CompleteLifecycleAction', arn)).toBe(true);
  });

  it('completes with CONTINUE from the packed user data as from the source: same log, calls, reads and request', async () => {
    const runs = [];
    for (const script of [SCRIPT, PACKED]) {
      await newCase();
      const instanceId = await waitingInstance();
      await bootedInto(signed);
      const outcome = await runScript(gated(), gateEnv({ NIXOS_AWS_HEALTH_CHECK_URL: healthUrl }), script);
      runs.push({ ...comparable(outcome, { [instanceId]: '<instance>' }), completions: completions().map((c) => ({ ...c, caller: c.caller.replace(instanceId, '<instance>'), params: { ...c.params, InstanceId: '<instance>' } })) });
    }
    expect(runs[0]).toMatchObject({ code: 0, completions: [{ status: 200, params: { LifecycleActionResult: 'CONTINUE' } }] });
    expect(runs[1]).toEqual(runs[0]);
  });

  it('reports at a later boot too, when the boot that applied the tag value went down before reporting', async () => {
    const instanceId = await waitingInstance();
    await bootedInto(signed);
    await mkdir(join(caseDir, 'state'));
    await writeFile(join(caseDir, 'state/applied-store-path'), `${signed}\n`);
    const outcome = await runScript(gated(), gateEnv());
    expect(outcome.code).toBe(0);
    expect(completions()).toEqual([completed(instanceId, 'CONTINUE')]);
    expect(outcome.stderr).toContain('applied at an earlier boot: nothing to do');
  });

  describe('abandons the lifecycle action, with the reason in the log, and powers off', () => {
    it.each<[string, () => Promise<{ tags: Record<string, string>; env?: Record<string, string> }>, RegExp]>([
      ['when the fetch fails (an unsigned closure)', async () => ({ tags: { ...gated(unsigned), Substituters: `file://${join(dir, 'unsigned-cache')}` } }), /could not fetch \S+ with a valid signature/],
      ['when the store path tag is not a store path', async () => ({ tags: { ...gated(), NixStorePath: '/nix/store/nothing' } }), /NixStorePath tag is not a store path/],
      [
        'when the running system is not the tagged path',
        async () => {
          await runScript(gated(), gateEnv());
          await bootedInto(unsigned);
          return { tags: gated() };
        },
        /this instance was booted into \S+ but came up on \S+/,
      ],
      [
        'when a unit of the health check is not active',
        async () => {
          await bootedInto(signed);
          await unitsDown();
          return { tags: gated(), env: { NIXOS_AWS_HEALTH_CHECK_UNITS: 'web.service', NIXOS_AWS_HEALTH_CHECK_TIMEOUT_SECONDS: '1' } };
        },
        /Unit web.service is inactive after 1 s[\s\S]*FAILED: the health check of \S+ did not pass within 1 s/,
      ],
      [
        'when the health URL answers 500',
        async () => {
          await bootedInto(signed);
          healthStatus = 500;
          return { tags: gated(), env: { NIXOS_AWS_HEALTH_CHECK_URL: healthUrl, NIXOS_AWS_HEALTH_CHECK_TIMEOUT_SECONDS: '1' } };
        },
        /did not answer 2xx within 1 s[\s\S]*FAILED: the health check/,
      ],
    ])('%s', async (_case, given, reason) => {
      const instanceId = await waitingInstance();
      healthStatus = 204;
      const { tags, env } = await given();
      await writeFile(join(caseDir, 'calls'), '');
      const outcome = await runScript(tags, gateEnv(env));
      healthStatus = 204;
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toMatch(reason);
      expect(outcome.stderr).toContain(`abandoning the lifecycle action of hook ${HOOK} (group ${GROUP})`);
      expect(completions()).toEqual([completed(instanceId, 'ABANDON')]);
      expect(outcome.calls.at(-1)).toBe('systemctl poweroff');
      // AWS terminates the instance and the refresh fails at once, not after warmups and health checks.
      sandbox.clock.advance(1000);
      expect(refresh()).toMatchObject({ Status: 'Failed', StatusReason: expect.stringContaining(instanceId) });
      // Should the instance come up again, it does not complete a second time.
      const again = await runScript(tags, gateEnv(env));
      expect(again.stderr).toContain('the lifecycle action was completed before (ABANDON');
      expect(completions()).toHaveLength(1);
    });
  });

  describe('never runs or sends a hostile tag value: refused before any call', () => {
    const mark = () => join(caseDir, 'pwned');
    it.each<[string, string, () => string, RegExp]>([
      ['a command substitution as group', 'AutoScalingGroupName', () => `$(touch ${mark()})`, /AutoScalingGroupName tag is not an Auto Scaling group name/],
      ['backticks as hook', 'LifecycleHookName', () => `\`touch ${mark()}\``, /LifecycleHookName tag is not a lifecycle hook name/],
      ['a command after the hook', 'LifecycleHookName', () => `${HOOK}; touch ${mark()}`, /LifecycleHookName tag is not a lifecycle hook name/],
      ['a second line in the group', 'AutoScalingGroupName', () => `${GROUP}\ntouch ${mark()}`, /AutoScalingGroupName tag has control characters/],
      ['a workflow command as group', 'AutoScalingGroupName', () => '::error::pwned', /AutoScalingGroupName tag is not an Auto Scaling group name/],
      ['another parameter in the hook', 'LifecycleHookName', () => `${HOOK}&LifecycleActionResult=CONTINUE`, /LifecycleHookName tag is not a lifecycle hook name/],
      ['a dot in the hook (the API refuses it)', 'LifecycleHookName', () => 'nixos.ready', /LifecycleHookName tag is not a lifecycle hook name/],
      ['a group name of 256 characters', 'AutoScalingGroupName', () => 'g'.repeat(256), /AutoScalingGroupName tag is not an Auto Scaling group name/],
    ])('%s', async (_case, tag, value, message) => {
      sandbox.reset();
      const outcome = await runScript({ ...gated(), [tag]: value() }, gateEnv());
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toMatch(message);
      expect(outcome.stderr).not.toContain('abandoning');
      expect(outcome.calls).toEqual(['systemctl poweroff']);
      expect(existsSync(mark())).toBe(false);
      expect(sandbox.calls.all()).toEqual([]);
      // Not even instance metadata was asked for the instance or its credentials.
      expect(imds.requests.filter((r) => !r.path.includes('/tags/instance/') && r.method === 'GET')).toEqual([]);
    });

    it('refuses one gate tag without the other', async () => {
      sandbox.reset();
      const { AutoScalingGroupName: _group, ...tags } = gated();
      const outcome = await runScript(tags, gateEnv());
      expect(outcome.code).toBe(1);
      expect(outcome.stderr).toContain('the readiness gate needs both the AutoScalingGroupName and the LifecycleHookName tag');
      expect(sandbox.calls.all()).toEqual([]);
    });
  });

  it("signs as the sandbox checks it: a request signed with another secret key is refused (403), and named", async () => {
    const instanceId = await waitingInstance();
    const credentials = sandbox.instanceProfileCredentials(instanceId, ROLE);
    serveInstance(instanceId, { ...credentials, SecretAccessKey: `${credentials.SecretAccessKey.slice(0, -4)}AAAA` });
    await bootedInto(signed);
    const outcome = await runScript(gated(), gateEnv());
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(/could not complete the lifecycle action with CONTINUE: Auto Scaling answered HTTP 403 SignatureDoesNotMatch/);
    expect(outcome.stderr).toMatch(/could not complete the lifecycle action with ABANDON: Auto Scaling answered HTTP 403 SignatureDoesNotMatch/);
    // Refused, not retried: one CONTINUE, one ABANDON.
    expect(completions().map((c) => [c.status, c.errorCode, c.params.LifecycleActionResult])).toEqual([
      [403, 'SignatureDoesNotMatch', 'CONTINUE'],
      [403, 'SignatureDoesNotMatch', 'ABANDON'],
    ]);
    expect(outcome.calls).toEqual(['systemctl poweroff']);
  });

  it('retries no answer, a 5xx and throttling, each attempt bounded, then completes', async () => {
    const instanceId = await waitingInstance();
    // One after the other: each lets the calls before it through.
    (['throttle', 'server-error', 'drop', 'hang'] as const).forEach((kind, after) =>
      sandbox.faults.add({ kind, service: 'autoscaling', operation: 'CompleteLifecycleAction', count: 1, after }),
    );
    await bootedInto(signed);
    const outcome = await runScript(gated(), gateEnv({ NIXOS_AWS_COMPLETE_TIMEOUT_SECONDS: '2' }));
    expect(outcome.stderr).not.toContain('FAILED');
    expect(outcome.stderr).toMatch(/Auto Scaling answered HTTP 400 Throttling: Rate exceeded: retrying/);
    expect(outcome.stderr).toMatch(/Auto Scaling answered HTTP 500 InternalFailure.*: retrying/);
    expect(outcome.stderr).toMatch(/Auto Scaling answered nothing: retrying/);
    expect(completions().map((c) => c.errorCode ?? c.status)).toEqual(['Throttling', 'InternalFailure', 'ConnectionDropped', 'Hung', 200]);
    expect(completions().at(-1)).toEqual(completed(instanceId, 'CONTINUE'));
  });

  it('gives up after NIXOS_AWS_COMPLETE_ATTEMPTS, abandons (also unanswered) and powers off', async () => {
    await waitingInstance();
    sandbox.faults.add({ kind: 'server-error', service: 'autoscaling', operation: 'CompleteLifecycleAction', count: 4 });
    await bootedInto(signed);
    const outcome = await runScript(gated(), gateEnv({ NIXOS_AWS_COMPLETE_ATTEMPTS: '2' }));
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(/could not complete the lifecycle action with CONTINUE: Auto Scaling answered HTTP 500 InternalFailure.* \(2 attempts\)/);
    expect(outcome.stderr).toMatch(/could not complete the lifecycle action with ABANDON: .*\(2 attempts\) \(the hook's heartbeat timeout ends it\)/);
    expect(completions()).toHaveLength(4);
    expect(outcome.calls).toEqual(['systemctl poweroff']);
  });

  it('takes "no active lifecycle action" (the action ended already) as done, once', async () => {
    await waitingInstance();
    serveInstance('i-0123456789abcdef0');
    await bootedInto(signed);
    const outcome = await runScript(gated(), gateEnv());
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toContain('Auto Scaling has no lifecycle action waiting for i-0123456789abcdef0 (it ended already)');
    expect(completions().map((c) => c.errorCode)).toEqual(['ValidationError']);
    const again = await runScript(gated(), gateEnv());
    expect(again.stderr).toContain('the lifecycle action was completed before (none waiting');
    expect(completions()).toHaveLength(1);
  });

  /** The credentials document instance metadata serves, changed. */
  const credentialsWith = (change: Record<string, string>) => () => {
    const key = `iam/security-credentials/${ROLE}`;
    imds.items[key] = JSON.stringify({ ...(JSON.parse(imds.items[key]) as Record<string, string>), ...change });
  };
  const notOfTheForm = /the credentials of the role web-instance in instance metadata are not of the expected form/;
  it.each<[string, () => void, RegExp]>([
    ['no instance profile', () => delete imds.items['iam/security-credentials/'], /instance metadata has no instance profile role \(404\)/],
    ['an instance ID of another form', () => (imds.items['instance-id'] = 'i-$(reboot)'), /instance metadata's instance ID does not match/],
    ['a region of another form', () => (imds.items['placement/region'] = 'us-east-1.attacker.example'), /instance metadata's region does not match/],
    ['credentials whose Code is not Success', credentialsWith({ Code: 'AssumeRoleUnauthorizedAccess' }), /no usable credentials for the role web-instance/],
    ["a secret key that would end curl's configuration value", credentialsWith({ SecretAccessKey: 'abcdefghijklmnop"\nurl = "http://127.0.0.1:9/' }), notOfTheForm],
    ['a session token of 8193 characters', credentialsWith({ Token: 'A'.repeat(8193) }), notOfTheForm],
  ])('with %s: neither result can be sent; says why and powers off, asking Auto Scaling nothing', async (_case, change, message) => {
    await waitingInstance();
    change();
    await bootedInto(signed);
    const outcome = await runScript(gated(), gateEnv());
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(message);
    expect(outcome.calls).toEqual(['systemctl poweroff']);
    expect(sandbox.calls.all()).toEqual([]);
  });

  describe('through the instance-refresh bundle (readiness: lifecycle-hook): the instance runs this script with the tags the action set', () => {
    /**
     * Runs the bundle against a group with a launching hook; when the refresh's new instance waits in Pending:Wait,
     * serves it the instance tags of the launch template version it was launched from, and runs the user data as its
     * two boots would (`booted`: what the first boot came up on). The sandbox's clock runs 10x: the hook's 3600 s are
     * 6 real minutes, far more than the script needs.
     */
    async function refreshWithInstance(storePath: string, booted: (path: string) => string | undefined) {
      sandbox.reset();
      sandbox.clock.setSpeed(10);
      const id = sandbox.ec2.createLaunchTemplate({
        name: 'web',
        data: { ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.small', MetadataOptions: { HttpTokens: 'required', InstanceMetadataTags: 'enabled' } },
      }).id;
      sandbox.autoscaling.createGroup({ name: GROUP, launchTemplate: { id, version: '1' }, desiredCapacity: 1 });
      operation('PutLifecycleHook', {
        AutoScalingGroupName: GROUP,
        LifecycleHookName: HOOK,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        HeartbeatTimeout: 3600,
        DefaultResult: 'ABANDON',
      });
      const step = runAction('instance-refresh', {
        env: sandbox.env(),
        inputs: {
          'auto-scaling-group-name': GROUP,
          'store-path': storePath,
          tags: `Substituters=file://${join(dir, 'cache')}\nTrustedPublicKeys=${publicKey}`,
          readiness: 'lifecycle-hook',
          // A first gated deploy: version 1 lacks the gate tags, so a rollback could not pass the hook.
          'auto-rollback': 'false',
          'instance-warmup': '60',
          'poll-interval-seconds': '1',
          'timeout-minutes': '5',
        },
      });
      let ended = false;
      void step.finally(() => (ended = true));
      let waiting: { InstanceId: string; LaunchTemplate: { Version: string } } | undefined;
      while (!ended && !waiting) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        waiting = (groupInstances() as Array<{ InstanceId: string; LifecycleState: string; LaunchTemplate: { Version: string } }>).find(
          (instance) => instance.LifecycleState === 'Pending:Wait',
        );
      }
      if (!waiting) throw new Error(`the refresh never launched an instance: ${(await step).stderr}`);
      const { version } = sandbox.ec2.resolveVersion({ LaunchTemplateId: id, Version: waiting.LaunchTemplate.Version });
      const specs = (version.data as { TagSpecifications?: Array<{ ResourceType?: string; Tags?: Array<{ Key: string; Value: string }> }> }).TagSpecifications;
      const tags = Object.fromEntries((specs?.find((spec) => spec.ResourceType === 'instance')?.Tags ?? []).map((tag) => [tag.Key, tag.Value]));
      serveInstance(waiting.InstanceId);
      const first = await runScript(tags, gateEnv());
      const cameUp = booted(storePath);
      let second: Outcome | undefined;
      if (first.code === 0 && cameUp) {
        await bootedInto(cameUp);
        second = await runScript(tags, gateEnv());
      }
      return { instanceId: waiting.InstanceId, tags, first, second, result: await step };
    }

    it('a good boot: CONTINUE, and the refresh succeeds', async () => {
      const { instanceId, tags, first, second, result } = await refreshWithInstance(signed, (path) => path);
      expect(tags).toMatchObject({ NixStorePath: signed, AutoScalingGroupName: GROUP, LifecycleHookName: HOOK });
      expect(first.calls).toEqual(bootCalls(signed));
      expect(second?.stderr).not.toContain('FAILED');
      expect(completions()).toEqual([completed(instanceId, 'CONTINUE')]);
      expect({ exitCode: result.exitCode, status: result.outputs.status }).toEqual({ exitCode: 0, status: 'Successful' });
    }, 240_000);

    it('a boot that comes up on another system: ABANDON, and the refresh fails at once, naming the instance', async () => {
      const other = await closureHere();
      const { instanceId, second, result } = await refreshWithInstance(signed, () => other);
      expect(second?.stderr).toContain(`FAILED: this instance was booted into ${signed} but came up on ${other}`);
      expect(completions()).toEqual([completed(instanceId, 'ABANDON')]);
      expect(result.exitCode).toBe(1);
      expect(result.outputs['abandoned-instances']).toBe(instanceId);
    }, 240_000);
  });

  it('without the gate tags, asks instance metadata for nothing of the gate and Auto Scaling for nothing', async () => {
    await waitingInstance();
    await bootedInto(signed);
    const outcome = await runScript(trusted(), gateEnv());
    expect(outcome.code).toBe(0);
    expect(imds.requests.map((r) => r.path).filter((path) => !path.includes('/tags/instance/') && path !== '/latest/api/token')).toEqual([]);
    expect(sandbox.calls.all()).toEqual([]);
  });
});
