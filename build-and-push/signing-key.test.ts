import { describe, expect, it } from '@jest/globals';
import { sandboxInEnv } from '../test/sandbox-env.js';
import type { ParameterType } from '../sandbox/services/ssm/parameter-store.js';
import { clientFactory } from '../shared/aws-clients.js';
import { captureStdout } from '../shared/fixtures/stdout.js';
import { readKeyParameter } from './signing-key.js';

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
