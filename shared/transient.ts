/**
 * Whether a failed AWS call may succeed if simply made again later. The SDK has already retried such errors
 * (`aws-clients.ts`); this decides whether a wait keeps going across polls or fails at once. The lists follow the
 * SDK's own classification (@smithy/core service-error-classification), which is not a dependency of ours.
 */

const THROTTLING = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

const TIMEOUTS = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

/** Connections refused, reset or timed out, and DNS hiccups. */
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

interface ErrorShape {
  name?: string;
  code?: string;
  cause?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

export function isTransientError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as ErrorShape;
  if (e.name === 'AbortError') return false;
  const status = e.$metadata?.httpStatusCode ?? 0;
  return (
    e.$retryable !== undefined ||
    status === 429 ||
    (status >= 500 && status <= 599) ||
    THROTTLING.has(e.name ?? '') ||
    TIMEOUTS.has(e.name ?? '') ||
    NETWORK.has(e.code ?? '') ||
    (depth < 5 && e.cause !== undefined && isTransientError(e.cause, depth + 1))
  );
}
