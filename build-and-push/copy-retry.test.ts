import { describe, expect, it } from '@jest/globals';
import { isTransientCacheFailure } from './copy-retry.js';
import { NixError, NixTimeoutError } from './nix-process.js';

describe('isTransientCacheFailure', () => {
  it.each<[string, string, boolean]>([
    ['S3 throttling', "error: AWS error uploading 'nar/1.nar.zst': Please reduce your request rate.", true],
    ["Nix's own retry log of SlowDown", "AWS error 'SlowDown' (Please reduce your request rate.), will retry in 400 ms", true],
    ['an S3 server error', "error: AWS error uploading 'x.narinfo': We encountered an internal error. Please try again.", true],
    ['an HTTP cache answering 503', "error: unable to upload 'https://cache/x.narinfo': HTTP error 503", true],
    ['a reset connection', 'error: AWS error: curlCode: 56, Failure when receiving data from the peer; Connection reset by peer', true],
    ['access denied', "error: AWS error uploading 'nar/1.nar.zst': Access Denied", false],
    ['a missing bucket', "error: AWS error fetching 'nix-cache-info': The specified bucket does not exist", false],
    ['a bad key file', "error: opening file '/tmp/key': No such file or directory", false],
  ])('%s: %s', (_case, stderr, transient) => {
    expect(isTransientCacheFailure(new NixError('copy', 1, stderr))).toBe(transient);
  });

  it('holds for an attempt stopped at its bound', () => {
    expect(isTransientCacheFailure(new NixTimeoutError('copy --to http://cache', 30_000, ''))).toBe(true);
  });

  it('holds only for a failed nix command', () => {
    expect(isTransientCacheFailure(new Error('SlowDown'))).toBe(false);
  });
});
