import { describe, expect, it } from '@jest/globals';
import { sandboxInEnv } from '../test/sandbox-env.js';
import type { ParameterType } from '../sandbox/services/ssm/parameter-store.js';
import { clientFactory } from '../shared/aws-clients.js';
import { captureStdout } from '../shared/fixtures/stdout.js';
import { readKeyParameter, report, type State } from './main.js';
import { byPath, type Builds } from './plan.js';

const KEY = `cache.example.org-1:${'Ab+/'.repeat(21)}Ab==`;

describe('readKeyParameter', () => {
  const sandbox = sandboxInEnv();

  const read = async (name: string): Promise<{ key?: string; error?: string; log: string[] }> => {
    const outcome: { key?: string; error?: string } = {};
    const log = await captureStdout(async () => {
      try {
        outcome.key = await readKeyParameter(clientFactory({ region: sandbox.region }), name);
      } catch (error) {
        outcome.error = (error as Error).message;
      }
    });
    return { ...outcome, log };
  };

  it('reads a SecureString decrypted, masking the key and its base64 half at once', async () => {
    sandbox.ssm.putParameter({ name: '/nix/key', value: `${KEY}\n`, type: 'SecureString' });
    const { key, log } = await read('/nix/key');
    expect(key).toBe(KEY);
    expect(log).toEqual([`::add-mask::${KEY}`, `::add-mask::${KEY.split(':')[1]}`]);
    expect(sandbox.calls.of('GetParameter')[0].params).toEqual({ Name: '/nix/key', WithDecryption: true });
  });

  it('warns when the key is stored unencrypted', async () => {
    sandbox.ssm.putParameter({ name: '/nix/key', value: KEY, type: 'String' });
    const { key, log } = await read('/nix/key');
    expect(key).toBe(KEY);
    expect(log).toContainEqual(expect.stringMatching(/^::warning::The SSM parameter \/nix\/key is a String, not a SecureString/));
  });

  it.each<[string, string, ParameterType, string]>([
    ['a public key', `cache.example.org-1:${'A'.repeat(43)}=`, 'SecureString', 'The SSM parameter /nix/key must hold a Nix secret key name:base64, as nix key generate-secret writes it; it holds a value of 64 characters'],
    ['a list', 'a,b', 'StringList', 'it holds a value of 3 characters'],
  ])('refuses %s without showing it', async (_case, value, type, message) => {
    sandbox.ssm.putParameter({ name: '/nix/key', value, type });
    const { error, log } = await read('/nix/key');
    expect(error).toContain(message);
    expect(error).not.toContain(value);
    expect(log).toContain(`::add-mask::${value}`);
  });

  it('names the parameter and the AWS error when it cannot be read', async () => {
    const { error } = await read('/nix/missing');
    expect(error).toBe('Could not read the signing key from the SSM parameter /nix/missing: ParameterNotFound: Parameter /nix/missing not found.');
  });
});

describe('report', () => {
  const WEB = '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-web';
  const LIB = '/nix/store/1c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-lib';
  const builds: Builds = {
    results: [{ installable: '.#web', built: { storePath: WEB, outputs: [WEB] }, closure: [WEB, LIB], buildMs: 2_000 }],
    infos: byPath([
      { path: WEB, narSize: 300, references: [LIB], signatures: [] },
      { path: LIB, narSize: 700, references: [], signatures: [] },
    ]),
  };
  const built = { 'store-path': WEB, 'store-paths': [WEB], 'closure-size': 1000 };
  const pushed = {
    installables: [{ installable: '.#web', storePath: WEB, closurePaths: 2, closureBytes: 1000, uploaded: 1, uploadedBytes: 300, skipped: 1, buildMs: 2_000, pushMs: 40 }],
    closureBytes: 1000,
    pushed: 1,
    skipped: 1,
    push: { storeUri: 'file:///c', compression: 'zstd', keyName: 'cache-1' },
  };

  const start = { installables: ['.#web'], attempts: [] };
  const two = { installables: ['.#web', '.#broken'] };
  const webBuilt = { installable: '.#web', outcome: 'built', storePath: WEB, buildMs: 2_000 } as const;
  const brokenFailed = { installable: '.#broken', outcome: 'failed', reason: 'nix build failed (exit code 1): error: builder failed', buildMs: 900 } as const;
  const cancelled = new Error('The run was cancelled (SIGINT)');

  it.each<[string, State, unknown, object, string | undefined, string | undefined]>([
    ['nothing done, and no error: nothing to report', { ...start, storeUri: 'file:///c' }, undefined, {}, undefined, undefined],
    [
      'the cache could not be opened: nothing built or pushed, and why',
      { ...start, storeUri: 'file:///c' },
      new Error('Nix could not open the binary cache file:///c:\nerror: cannot open'),
      {},
      'Nix closures not built',
      'Nothing was built or pushed: Nix could not open the binary cache file:///c: error: cannot open',
    ],
    [
      'a build failed after another finished: no outputs, what was built and what failed',
      { ...two, attempts: [webBuilt, brokenFailed], storeUri: 'file:///c' },
      new Error('nix build failed (exit code 1):\nerror: builder failed\nmore'),
      {},
      'Nix builds failed',
      'Built 1 of 2 installables; nothing was pushed: nix build failed (exit code 1): error: builder failed',
    ],
    [
      'a build cancelled: stopped',
      { ...start, attempts: [{ installable: '.#web', outcome: 'stopped', reason: cancelled.message, buildMs: 5 }] },
      cancelled,
      {},
      'Nix builds stopped',
      'Built 0 of 1 installable; nothing was pushed: The run was cancelled (SIGINT)',
    ],
    ['a build alone', { ...start, attempts: [webBuilt], builds }, undefined, { ...built, 'pushed-paths': 0, 'skipped-paths': 0 }, 'Nix closures built', 'Built 1 installable; nothing pushed.'],
    [
      'built, the push not finished: no push counts, and why',
      { ...start, attempts: [webBuilt], storeUri: 'file:///c', builds },
      cancelled,
      built,
      'Nix closures built, push failed',
      'Built 1 installable; the push to file:///c did not finish, so the cache may hold only part of the closures: The run was cancelled (SIGINT)',
    ],
    ['built and pushed', { ...start, attempts: [webBuilt], storeUri: 'file:///c', builds, pushed }, undefined, { ...built, 'pushed-paths': 1, 'skipped-paths': 1 }, 'Nix closures built and pushed', undefined],
  ])('%s', (_case, state, error, outputs, title, text) => {
    const made = report(state, error);
    expect(Object.fromEntries(Object.entries(made.outputs).filter(([, value]) => value !== undefined))).toEqual(outputs);
    expect(made.summary?.title).toBe(title);
    if (text) expect(made.summary?.text).toBe(text);
    expect(made.failure).toBeUndefined();
  });
});
