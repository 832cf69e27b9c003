import { describe, expect, it } from '@jest/globals';
import { pushUri } from './store-uri.js';

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
