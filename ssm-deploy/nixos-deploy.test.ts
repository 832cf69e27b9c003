/**
 * The NixOS-Deploy document's script, taken from the shipped document and run by bash as the SSM agent runs it,
 * against a stand-in instance with real Nix (see fixtures/stand-in-instance.ts). Needs root: real Nix in
 * single-user mode writes /nix/store, and each run mounts the instance's paths in a private mount namespace.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { StandInInstance } from './fixtures/stand-in-instance.js';

const run = promisify(execFile);
let instance: StandInInstance;
let next: string;
let health: Server;
let healthStatus = 200;
let healthUrl = '';

beforeAll(async () => {
  health = createServer((_req, res) => res.writeHead(healthStatus).end('health\n'));
  await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
  healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/health?deep=1`;
});
afterAll(async () => {
  await new Promise((resolve) => health.close(resolve));
  await instance?.cleanup();
});

/** Every test starts from the previous system in the profile, and deploys a new system fetched from the cache. */
beforeEach(async () => {
  await instance?.cleanup();
  instance = await StandInInstance.create();
  next = await instance.addSystem('web');
  healthStatus = 200;
});

const fetchFromCache = () => ({ substituters: instance.cacheUri, trustedPublicKeys: instance.publicKey });

describe('NixOS-Deploy', () => {
  it('switches: fetches the signed closure, sets the profile, switches under systemd-run, checks health', async () => {
    await instance.setUnit('nginx.service', 'active');
    await instance.setUnit('postgresql.service', 'active');
    const result = await instance.run({
      storePath: next,
      ...fetchFromCache(),
      healthCheckUnits: 'nginx.service postgresql.service',
      healthCheckUrl: healthUrl,
    });

    expect(result).toMatchObject({ code: 0, stderr: expect.not.stringContaining('nixos-deploy:') });
    expect(result.stdout).toContain(`nixos-deploy: Switched to ${next}`);
    expect(instance.profile()).toBe(next);
    expect(instance.generation()).toBe('system-2-link');
    expect(await instance.switches()).toEqual([`${next} switch`]);
    const [systemdRun] = await instance.systemdRuns();
    expect(systemdRun).toMatch(/^--collect --wait .*--unit=nixos-deploy-switch .*-- \S+\/bin\/switch-to-configuration switch$/);
    expect(await instance.systemctlCalls()).toEqual(['is-active --quiet -- nginx.service', 'is-active --quiet -- postgresql.service']);
  });

  it('runs with only the store path given, every other parameter at its default (no set -u trap)', async () => {
    const result = await instance.run({ storePath: next, ...fetchFromCache() });
    expect(result.code).toBe(0);
    expect(instance.profile()).toBe(next);
  });

  it('boot: makes the system the next boot default without activating it or checking health', async () => {
    await instance.setUnit('nginx.service', 'failed');
    const result = await instance.run({ storePath: next, action: 'boot', healthCheckUnits: 'nginx.service', ...fetchFromCache() });
    expect(result.code).toBe(0);
    expect(instance.profile()).toBe(next);
    expect(await instance.switches()).toEqual([`${next} boot`]);
    expect(await instance.systemctlCalls()).toEqual([]);
  });

  it('dry-activate: shows what would change and changes nothing', async () => {
    const result = await instance.run({ storePath: next, action: 'dry-activate', ...fetchFromCache() });
    expect(result.code).toBe(0);
    expect(instance.profile()).toBe(instance.previous);
    expect(await instance.switches()).toEqual([`${next} dry-activate`]);
  });

  it('reboot: boots into the system, exits 194, and the run after the reboot checks health and finishes', async () => {
    await instance.setUnit('nginx.service', 'active');
    const parameters = { storePath: next, action: 'reboot', healthCheckUnits: 'nginx.service', ...fetchFromCache() };
    const first = await instance.run(parameters);
    expect(first.code).toBe(194);
    expect(await instance.switches()).toEqual([`${next} boot`]);
    expect(await instance.rebootPending()).toBe(`${next}\n`);
    expect(await instance.systemctlCalls()).toEqual([]);

    const second = await instance.run(parameters, { booted: next });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`Rebooted into ${next}`);
    expect(await instance.rebootPending()).toBeUndefined();
    expect(await instance.switches()).toEqual([`${next} boot`]);
    expect(await instance.systemctlCalls()).toEqual(['is-active --quiet -- nginx.service']);
  });

  it('reboot: a run after a reboot that came up on the old system rolls back', async () => {
    const parameters = { storePath: next, action: 'reboot', ...fetchFromCache() };
    expect((await instance.run(parameters)).code).toBe(194);
    const second = await instance.run(parameters, { booted: instance.previous });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`The instance rebooted into ${instance.previous}, not ${next}.`);
    expect(instance.profile()).toBe(instance.previous);
  });

  it('reboot: an instance already booted into the system only checks health', async () => {
    const result = await instance.run({ storePath: next, action: 'reboot', ...fetchFromCache() }, { booted: next });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('no reboot needed');
    expect(await instance.switches()).toEqual([]);
  });

  it.each<[string, () => Promise<void>, () => Record<string, string>, string]>([
    ['the switch exits 4 (some units failed)', () => instance.failSwitch(next, 4), () => ({}), 'exited 4: some units failed'],
    ['the switch fails', () => instance.failSwitch(next, 1), () => ({}), 'switch-to-configuration switch exited 1.'],
    [
      'a unit is not active',
      () => instance.setUnit('nginx.service', 'failed'),
      () => ({ healthCheckUnits: 'nginx.service', healthCheckTimeoutSeconds: '1' }),
      'The health check failed.',
    ],
    [
      'the health URL answers 500',
      async () => {
        healthStatus = 500;
      },
      () => ({ healthCheckUrl: healthUrl, healthCheckTimeoutSeconds: '1' }),
      'The health check failed.',
    ],
    [
      'nothing listens at the health URL',
      async () => undefined,
      () => ({ healthCheckUrl: 'http://localhost:1/health', healthCheckTimeoutSeconds: '1' }),
      'The health check failed.',
    ],
  ])('rolls back when %s (exit 2)', async (_case, breakIt, parameters, reason) => {
    await breakIt();
    const result = await instance.run({ storePath: next, ...fetchFromCache(), ...parameters() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(reason);
    expect(result.stderr).toContain(`Rolled back to ${instance.previous}.`);
    expect(instance.profile()).toBe(instance.previous);
    expect(await instance.switches()).toEqual([`${next} switch`, `${instance.previous} switch`]);
  });

  it('goes on when the switch asks for a reboot to finish (exit 100), and passes the health check', async () => {
    await instance.failSwitch(next, 100);
    const result = await instance.run({ storePath: next, ...fetchFromCache() });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('switch-to-configuration asks for a reboot to finish the switch');
    expect(instance.profile()).toBe(next);
  });

  it('with rollbackOnFailure false, leaves the failed system in place (exit 3)', async () => {
    await instance.failSwitch(next, 4);
    const result = await instance.run({ storePath: next, rollbackOnFailure: 'false', ...fetchFromCache() });
    expect(result.code).toBe(3);
    expect(instance.profile()).toBe(next);
    expect(await instance.switches()).toEqual([`${next} switch`]);
  });

  it.each<['none' | 'untrusted']>([['none'], ['untrusted']])(
    'rejects a closure with signature %s, before changing anything (exit 1)',
    async (signing) => {
      const unsigned = await instance.addSystem('unsigned', { signing });
      const result = await instance.run({ storePath: unsigned, ...fetchFromCache() });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`Could not fetch ${unsigned} with a valid signature.`);
      expect(existsSync(unsigned)).toBe(false);
      expect(instance.profile()).toBe(instance.previous);
      expect(await instance.switches()).toEqual([]);
    },
  );

  describe('boots only a system signed by a trusted key, fetched or already in the store', () => {
    it.each<['none' | 'untrusted']>([['none'], ['untrusted']])(
      'refuses a system already in the store with signature %s, before changing anything (exit 1)',
      async (signing) => {
        const present = await instance.addSystem('present', { signing: 'none', keepLocal: true });
        if (signing !== 'none') await instance.signLocally(present, signing);
        const result = await instance.run({ storePath: present, ...fetchFromCache() });
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(`${present} has no valid signature by a trusted key`);
        expect(instance.profile()).toBe(instance.previous);
        expect(await instance.switches()).toEqual([]);
      },
    );

    describe('refuses a content-addressed path, which Nix takes with no signature: a NixOS system is input-addressed', () => {
      it.each<[string, () => Promise<{ storePath: string; parameters: Record<string, string> }>]>([
        [
          'fetched unsigned from a cache, with no keys',
          async () => ({ storePath: await instance.addContentAddressedSystem('ca'), parameters: { substituters: instance.cacheUri } }),
        ],
        [
          'fetched unsigned from a cache, with a trusted key',
          async () => ({ storePath: await instance.addContentAddressedSystem('ca'), parameters: fetchFromCache() }),
        ],
        [
          'fetched from a cache that signed it with a trusted key',
          async () => ({ storePath: await instance.addContentAddressedSystem('ca', { signing: 'trusted' }), parameters: fetchFromCache() }),
        ],
        [
          'already in the store, with no cache',
          async () => ({ storePath: await instance.addContentAddressedSystem('ca', { keepLocal: true }), parameters: {} }),
        ],
        [
          'already in the store, signed by a trusted key',
          async () => {
            const storePath = await instance.addContentAddressedSystem('ca', { keepLocal: true });
            await instance.signLocally(storePath, 'trusted');
            return { storePath, parameters: { trustedPublicKeys: instance.publicKey } };
          },
        ],
      ])('%s, before changing anything (exit 1)', async (_case, given) => {
        const { storePath, parameters } = await given();
        for (const action of ['switch', 'dry-activate', 'reboot']) {
          const result = await instance.run({ storePath, action, ...parameters });
          expect(result.code).toBe(1);
          expect(result.stderr).toContain(`${storePath} is content-addressed`);
          expect(instance.profile()).toBe(instance.previous);
          expect(await instance.switches()).toEqual([]);
          expect(await instance.rebootPending()).toBeUndefined();
        }
      });
    });

    it('refuses a system in the store signed by another key under a trusted key\'s name (exit 1)', async () => {
      const present = await instance.addSystem('present', { signing: 'none', keepLocal: true });
      await instance.signLocally(present, 'forged');
      const result = await instance.run({ storePath: present, trustedPublicKeys: instance.publicKey });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${present} has no valid signature by a trusted key`);
      expect(instance.profile()).toBe(instance.previous);
      expect(await instance.switches()).toEqual([]);
    });

    it('switches to a system already in the store that a trusted key signed', async () => {
      const present = await instance.addSystem('present', { signing: 'none', keepLocal: true });
      await instance.signLocally(present, 'trusted');
      const result = await instance.run({ storePath: present, trustedPublicKeys: instance.publicKey });
      expect(result.code).toBe(0);
      expect(instance.profile()).toBe(present);
    });
  });

  it('bounds the fetch: a cache that accepts connections and never answers ends the run, named (exit 1)', async () => {
    const sockets: Socket[] = [];
    const silent = createNetServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const cache = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      // 4 s to run, 1 s of health check: the fetch gets half of the 4 s.
      const parameters = { storePath: next, substituters: cache, healthCheckTimeoutSeconds: '1', executionTimeout: '4' };
      const result = await instance.run(parameters);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`Fetching ${next} from ${cache} and the instance's own substituters did not finish within 2 s.`);
      expect(sockets.length).toBeGreaterThan(0);
      expect(instance.profile()).toBe(instance.previous);
      expect(await instance.switches()).toEqual([]);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  describe('takes substituters with no store settings but the allowed ones', () => {
    it.each([['?trusted=1'], ['?secret-key=/etc/nix/key.sec'], ['?require-sigs=false'], ['?want-mass-query=true'], ['?%74rusted=1'], ['?priority=1&trusted=1']])(
      'refuses %s before anything runs, even past the API check (exit 1)',
      async (query) => {
        const unsigned = await instance.addSystem('unsigned', { signing: 'none' });
        const result = await instance.run({ storePath: unsigned, substituters: `${instance.cacheUri}${query}`, trustedPublicKeys: instance.publicKey });
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('Parameter substituters does not match its allowedPattern');
        expect(existsSync(unsigned)).toBe(false);
        expect(await instance.switches()).toEqual([]);
      },
    );

    it.each([['?priority=30'], ['?region=eu-central-1&endpoint=minio.internal:9000&scheme=https&profile=deploy']])(
      'fetches with %s',
      async (query) => {
        const result = await instance.run({ storePath: next, substituters: `${instance.cacheUri}${query}`, trustedPublicKeys: instance.publicKey });
        expect(result.code).toBe(0);
        expect(instance.profile()).toBe(next);
      },
    );
  });

  it.each(['timeout', 'nix', 'systemd-run'])('without %s: stops at once naming it, before anything changes (exit 1)', async (missing) => {
    const tools = join(instance.root, 'tools');
    await mkdir(tools);
    const needed = ['bash', 'nix', 'nix-store', 'nix-env', 'timeout', 'readlink', 'cat', 'rm', 'mkdir', 'sleep'];
    for (const tool of needed.filter((name) => name !== missing)) {
      await symlink((await run('/bin/sh', ['-c', `command -v ${tool}`])).stdout.trim(), join(tools, tool));
    }
    for (const tool of ['systemd-run', 'systemctl'].filter((name) => name !== missing)) {
      await symlink(join(instance.binDir, tool), join(tools, tool));
    }
    const result = await instance.run({ storePath: next, ...fetchFromCache() }, { path: tools });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`nixos-deploy: ${missing} is not installed`);
    expect(instance.profile()).toBe(instance.previous);
    expect(await instance.switches()).toEqual([]);
  });

  it.each(['nix (Nix) 2.3.16', 'nix (Nix) 2.7.0'])('with a Nix that says %j: stops at once naming the version it needs (exit 1)', async (says) => {
    const tools = join(instance.root, 'tools');
    await mkdir(tools);
    for (const tool of ['bash', 'nix-store', 'nix-env', 'timeout', 'readlink', 'cat', 'rm', 'mkdir', 'sleep']) {
      await symlink((await run('/bin/sh', ['-c', `command -v ${tool}`])).stdout.trim(), join(tools, tool));
    }
    for (const tool of ['systemd-run', 'systemctl']) await symlink(join(instance.binDir, tool), join(tools, tool));
    await writeFile(join(tools, 'nix'), `#!/bin/sh\n[ "$1" = --version ] && echo '${says}' && exit 0\nexit 1\n`, { mode: 0o755 });
    const result = await instance.run({ storePath: next, ...fetchFromCache() }, { path: tools });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('This document needs Nix 2.8 or later');
    expect(instance.profile()).toBe(instance.previous);
    expect(await instance.switches()).toEqual([]);
  });

  it('refuses to run on an agent that does not pass parameters as environment variables', async () => {
    const result = await instance.run({ storePath: next }, { noParameters: true });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('needs SSM Agent 3.3.2746.0 or later');
  });
});

// Values the document's patterns refuse (see document-patterns.test.ts), given here as if that check were bypassed:
// the script must treat each as data.
describe('NixOS-Deploy never runs a parameter as code', () => {
  it.each<[string, Record<string, string>]>([
    ['a store path with a command after it', { storePath: `/nix/store/${'a'.repeat(32)}-x; touch PWNED` }],
    ['a store path with a command substitution', { storePath: `/nix/store/${'a'.repeat(32)}-$(touch PWNED)` }],
    ['a store path, a newline and a command', { storePath: `/nix/store/${'a'.repeat(32)}-x\ntouch PWNED` }],
    ['an action with a command', { action: 'switch; touch PWNED' }],
    ['a timeout with an arithmetic expansion', { healthCheckTimeoutSeconds: 'a[$(touch PWNED)]' }],
    // Nix would open a local path given as a substituter as a store, creating it.
    ['a substituter with a path after it', { substituters: 'file:///x PWNED' }],
    ['a key with a command substitution', { trustedPublicKeys: 'k:$(touch PWNED)' }],
    ['a unit with a command substitution', { healthCheckUnits: '$(touch PWNED).service' }],
    ['a unit with backticks', { healthCheckUnits: '`touch PWNED`.service' }],
    ['a URL that closes a quote', { healthCheckUrl: "http://localhost/'; touch PWNED; '" }],
    ['a URL with a trailing newline', { healthCheckUrl: 'http://localhost/\n' }],
  ])('%s: refused before anything runs', async (_case, payload) => {
    const pwned = join(instance.root, 'pwned');
    const given = Object.fromEntries(Object.entries(payload).map(([name, value]) => [name, value.replace('PWNED', pwned)]));
    const result = await instance.run({ storePath: next, ...fetchFromCache(), ...given });
    expect(existsSync(pwned)).toBe(false);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/does not match its allowedPattern|not printable|Unknown action/);
    expect(instance.profile()).toBe(instance.previous);
    expect(await instance.switches()).toEqual([]);
  });
});
