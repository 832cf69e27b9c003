import { describe, expect, it } from '@jest/globals';
import { explainStoreFailure, isSupported, parseNixVersion, storeInfoCommand, storeScheme, type NixVersion } from './preflight.js';

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
