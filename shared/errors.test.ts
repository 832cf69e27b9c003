import { describe, expect, it } from '@jest/globals';
import { errorMessage } from './errors.js';

class FakeServiceError extends Error {
  readonly $metadata = { httpStatusCode: 403 };
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

describe('errorMessage', () => {
  it.each<[string, unknown, string]>([
    ['a plain Error', new Error('boom'), 'boom'],
    ['a string', '  boom  ', 'boom'],
    ['undefined', undefined, 'unknown error'],
    ['null', null, 'unknown error'],
    ['an empty string', '', 'unknown error'],
    ['an object', { code: 7 }, '{"code":7}'],
    ['an AWS error: the code leads', new FakeServiceError('AccessDenied', 'Not authorized'), 'AccessDenied: Not authorized'],
    ['an AWS error already naming its code', new FakeServiceError('Throttling', 'Throttling: slow down'), 'Throttling: slow down'],
    ['an AWS error without a message', new FakeServiceError('InternalFailure', ''), 'InternalFailure'],
  ])('%s', (_case, input, expected) => {
    expect(errorMessage(input)).toBe(expected);
  });
});
