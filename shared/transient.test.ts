import { describe, expect, it } from '@jest/globals';
import { isTransientError } from './transient.js';

/** An error shaped as the SDK throws it. */
function awsError(name: string, status: number, extra: object = {}): Error {
  return Object.assign(new Error('x'), { name, $metadata: { httpStatusCode: status }, ...extra });
}

function nodeError(code: string): Error {
  return Object.assign(new Error(code), { code });
}

describe('isTransientError', () => {
  it.each<[string, unknown, boolean]>([
    ['Auto Scaling throttling', awsError('Throttling', 400), true],
    ['SSM throttling', awsError('ThrottlingException', 400), true],
    ['EC2 throttling', awsError('RequestLimitExceeded', 503), true],
    ['S3 slow down', awsError('SlowDown', 503), true],
    ['any 429', awsError('Whatever', 429), true],
    ['InternalFailure', awsError('InternalFailure', 500), true],
    ['ServiceUnavailable', awsError('ServiceUnavailable', 503), true],
    ['a modelled retryable error', awsError('IDPCommunicationError', 400, { $retryable: {} }), true],
    ['a connection reset', nodeError('ECONNRESET'), true],
    ['a DNS hiccup', nodeError('EAI_AGAIN'), true],
    ['a request timeout', Object.assign(new Error('t'), { name: 'TimeoutError' }), true],
    ['a reset wrapped as the cause', new Error('wrapped', { cause: nodeError('ECONNRESET') }), true],
    ['AccessDenied', awsError('AccessDenied', 403), false],
    ['ValidationError', awsError('ValidationError', 400), false],
    ['Auto Scaling LimitExceeded (a quota, not a rate)', awsError('LimitExceeded', 400), false],
    ['ActiveInstanceRefreshNotFound', awsError('ActiveInstanceRefreshNotFound', 400), false],
    ['an unknown host (a wrong endpoint)', nodeError('ENOTFOUND'), false],
    ['an abort', Object.assign(new Error('aborted'), { name: 'AbortError' }), false],
    ['a plain bug', new TypeError('x is undefined'), false],
    ['a string', 'boom', false],
    ['undefined', undefined, false],
  ])('%s', (_case, error, expected) => {
    expect(isTransientError(error)).toBe(expected);
  });
});
