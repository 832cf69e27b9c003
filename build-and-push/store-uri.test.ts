import { describe, expect, it } from '@jest/globals';
import { isBinaryCache, pushUri } from './store-uri.js';

describe('pushUri', () => {
  it.each<[string, { compression: string; keyFile?: string }, string]>([
    ['s3://cache', { compression: 'zstd' }, 's3://cache?compression=zstd'],
    ['s3://cache?region=eu-central-1', { compression: 'zstd', keyFile: '/tmp/k' }, 's3://cache?region=eu-central-1&compression=zstd&secret-key=%2Ftmp%2Fk'],
    ['s3://cache?compression=xz&region=eu-west-1', { compression: 'zstd' }, 's3://cache?compression=xz&region=eu-west-1'],
    ['file:///srv/cache?', { compression: 'none', keyFile: '/run/a b/k' }, 'file:///srv/cache?compression=none&secret-key=%2Frun%2Fa%20b%2Fk'],
    ['https://cache.example.org', { compression: 'zstd' }, 'https://cache.example.org?compression=zstd'],
    ['ssh-ng://builder', { compression: 'zstd', keyFile: '/tmp/k' }, 'ssh-ng://builder'],
    ['/srv/nix-store', { compression: 'zstd', keyFile: '/tmp/k' }, '/srv/nix-store'],
  ])('%s with %j is %s', (uri, options, expected) => {
    expect(pushUri(uri, options)).toBe(expected);
  });

  it.each([
    ['s3://bucket', true],
    ['file:///tmp/cache', true],
    ['http://localhost:8080', true],
    ['ssh://builder', false],
    ['local?root=/tmp/x', false],
    ['daemon', false],
  ])('%s is a binary cache: %s', (uri, expected) => {
    expect(isBinaryCache(uri)).toBe(expected);
  });
});
