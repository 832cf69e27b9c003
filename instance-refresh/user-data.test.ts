/**
 * The user data script, run for real: bash, curl against a fake IMDSv2 server on 127.0.0.1, and real Nix (as root,
 * single-user, the machine's /nix/store) fetching a signed stand-in system closure from a local file:// binary
 * cache. The closure's switch-to-configuration, and stand-ins for systemctl, poweroff, kexec and reboot first on
 * PATH, write each call to a file instead of touching this machine.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { STORE_PATH } from '../shared/store-path.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SCRIPT = join(HERE, 'user-data.sh');
// No build users: a fresh machine (CI's) has Debian's nix-bin without the nixbld group.
const NIX_CONFIG = 'experimental-features = nix-command\nsandbox = false\nsubstituters =\nbuild-users-group =\n';
const run = promisify(execFile);
const nix = async (command: string, ...args: string[]) =>
  (await run(command, args, { env: { ...process.env, NIX_CONFIG } })).stdout.trim();

/** IMDSv2 as EC2 serves it: a token from PUT first, then tag reads that carry it. */
class FakeImds {
  tags: Record<string, string> = {};
  requests: Array<{ method: string; path: string; token?: string }> = [];
  private readonly token = randomUUID();
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const token = req.headers['x-aws-ec2-metadata-token'] as string | undefined;
      this.requests.push({ method: req.method ?? '', path: req.url ?? '', token });
      if (req.method === 'PUT' && req.url === '/latest/api/token') {
        const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
        if (!(ttl >= 1 && ttl <= 21600)) return void res.writeHead(400).end();
        return void res.writeHead(200, { 'content-type': 'text/plain' }).end(this.token);
      }
      if (token !== this.token) return void res.writeHead(401).end();
      const prefix = '/latest/meta-data/tags/instance/';
      const key = req.url?.startsWith(prefix) ? decodeURIComponent(req.url.slice(prefix.length)) : undefined;
      if (req.method !== 'GET' || key === undefined || !Object.hasOwn(this.tags, key)) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/plain' }).end(this.tags[key]);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const imds = new FakeImds();
let imdsUrl: string;
let dir: string;
let publicKey: string;
/** In `cache`, signed with the key whose public half is `publicKey`. */
let signed: string;
/** In `unsigned-cache`, without any signature. */
let unsigned: string;

async function standIn(bin: string, name: string): Promise<void> {
  await writeFile(join(bin, name), `#!/bin/sh\necho "${name} $*" >>"$NIXOS_AWS_TEST_CALLS"\n`);
  await chmod(join(bin, name), 0o755);
}

/** Builds a fresh closure (so that it is not in the store from an earlier run), puts it in a cache, drops it. */
async function closureIn(cache: string, secretKey?: string): Promise<string> {
  const nonce = randomBytes(8).toString('hex');
  const path = await nix('nix-build', '--no-out-link', '--argstr', 'nonce', nonce, join(HERE, 'fixtures/stand-in-system.nix'));
  await nix('nix', 'copy', '--to', `file://${join(dir, cache)}${secretKey ? `?secret-key=${secretKey}` : ''}`, path);
  await nix('nix-store', '--delete', path);
  return path;
}

function convertToPublic(secretKey: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('nix', ['key', 'convert-secret-to-public'], { env: { ...process.env, NIX_CONFIG } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`nix key exited ${code}`))));
    child.stdin.end(secretKey);
  });
}

const isValid = (path: string) => nix('nix-store', '--check-validity', path).then(() => true, () => false);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nixos-aws-user-data-'));
  imdsUrl = await imds.start();
  const secretKey = join(dir, 'secret-key');
  await writeFile(secretKey, await nix('nix', 'key', 'generate-secret', '--key-name', 'nixos-aws-test-1'), { mode: 0o600 });
  publicKey = await convertToPublic(await readFile(secretKey, 'utf8'));
  signed = await closureIn('cache', secretKey);
  unsigned = await closureIn('unsigned-cache');
  const bin = join(dir, 'bin');
  await mkdir(bin);
  for (const name of ['systemctl', 'poweroff', 'kexec', 'reboot']) await standIn(bin, name);
}, 60_000);

afterAll(async () => {
  await imds.stop();
  await rm(dir, { recursive: true, force: true });
  // The profile links went with `dir`, so nothing roots the closures any more.
  for (const path of [signed, unsigned]) await nix('nix-store', '--delete', path).catch(() => undefined);
});

let caseDir: string;
beforeEach(async () => {
  caseDir = join(dir, randomUUID());
  await mkdir(join(caseDir, 'profiles'), { recursive: true });
  await writeFile(join(caseDir, 'calls'), '');
  imds.requests = [];
});

interface Outcome {
  code: number | null;
  stderr: string;
  calls: string[];
}

async function runScript(tags: Record<string, string>, env: Record<string, string> = {}): Promise<Outcome> {
  imds.tags = tags;
  const child = spawn('bash', [SCRIPT], {
    env: {
      PATH: `${join(dir, 'bin')}:/usr/bin:/bin`,
      NIX_CONFIG,
      NIXOS_AWS_IMDS: imdsUrl,
      NIXOS_AWS_IMDS_WAIT_SECONDS: '2',
      NIXOS_AWS_SYSTEM_PROFILE: join(caseDir, 'profiles/system'),
      NIXOS_AWS_CURRENT_SYSTEM: join(caseDir, 'current-system'),
      NIXOS_AWS_TEST_CALLS: join(caseDir, 'calls'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const calls = (await readFile(join(caseDir, 'calls'), 'utf8')).split('\n').filter((line) => line !== '');
  return { code, stderr, calls };
}

const trusted = () => ({
  NixStorePath: signed,
  Substituters: `file://${join(dir, 'cache')}`,
  TrustedPublicKeys: publicKey,
});

describe('user-data.sh', () => {
  it('checks store paths with the pattern the action uses', () => {
    const line = /^STORE_PATH_PATTERN='(.*)'$/m.exec(readFileSync(SCRIPT, 'utf8'));
    expect(line?.[1]).toBe(STORE_PATH.source.replace(/\\\//g, '/'));
  });

  it.each<[string, Record<string, string>, (path: string) => string[]]>([
    [
      'kexec',
      {},
      (path) => [
        'switch-to-configuration boot',
        `kexec --load ${path}/kernel --initrd=${path}/initrd --command-line=init=${path}/init console=ttyS0 loglevel=4`,
        'systemctl kexec',
      ],
    ],
    ['reboot', { NIXOS_AWS_BOOT: 'reboot' }, () => ['switch-to-configuration boot', 'systemctl reboot']],
  ])('fetches the signed system, makes it the profile and boots it with %s', async (_case, env, expected) => {
    const outcome = await runScript(trusted(), env);
    expect(outcome.stderr).not.toContain('FAILED');
    expect(outcome.code).toBe(0);
    expect(outcome.calls).toEqual(expected(signed));
    expect(await isValid(signed)).toBe(true);
    const profile = join(caseDir, 'profiles/system');
    expect(await readlink(join(caseDir, 'profiles', await readlink(profile)))).toBe(signed);
    // Token first, then every read with it.
    expect(imds.requests[0]).toMatchObject({ method: 'PUT', path: '/latest/api/token' });
    expect(imds.requests.slice(1).every((r) => r.method === 'GET' && r.token !== undefined)).toBe(true);
  });

  it('does nothing when the instance already runs that system', async () => {
    await symlink(signed, join(caseDir, 'current-system'));
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
      ['a substituter that skips signatures', () => ({ ...trusted(), NixStorePath: unsigned, Substituters: `file://${join(dir, 'unsigned-cache')}?trusted=1` }), /substituter this script does not use/],
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
});
