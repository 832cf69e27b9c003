/**
 * When a failed `nix copy`, or a question to the cache, is worth running again; and the copy's retry policy.
 * A hung attempt, stopped at its bound, is worth another: a connection that hangs is usually a connection that
 * broke (a proxy, a NAT table) and the next one works.
 *
 * A failed `nix copy`: Nix's S3 client already retries each request a few times, so a
 * copy that still fails on throttling or a 5xx met a burst longer than those retries; a later copy skips what the
 * first one uploaded. Bounded by attempts, not by time: one copy can upload for many minutes before it fails, and
 * the next skips what it uploaded; a cache that stays down fails the step after the last attempt, with at most
 * 1 + 2 + 4 s of waiting between them.
 */
import { NixError, NixTimeoutError } from './nix-process.js';

/** In Nix's log: S3's throttling and server errors, and the network failures of curl and the AWS SDK. */
const TRANSIENT = [
  /\bSlowDown\b/,
  /reduce your request rate/i,
  /\b(?:Throttling|ThrottlingException|RequestLimitExceeded|TooManyRequests)\b/,
  /\b(?:InternalError|ServiceUnavailable|RequestTimeout)\b/,
  /We encountered an internal error/i,
  /HTTP error (?:429|5\d\d)\b/,
  /\b(?:503 Service Unavailable|500 Internal Server Error|502 Bad Gateway|504 Gateway Time-?out)\b/i,
  /Connection reset|Connection refused|Couldn't connect to server|Timeout was reached|Operation timed out|connection timed out/i,
  /Couldn't resolve host/i,
];

export const COPY_RETRY = { maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 4_000, budgetMs: Number.POSITIVE_INFINITY };

export function isTransientCacheFailure(error: unknown): boolean {
  if (error instanceof NixTimeoutError) return true;
  return error instanceof NixError && TRANSIENT.some((pattern) => pattern.test(error.stderr));
}
