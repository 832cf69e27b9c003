import { describe, expect, it } from '@jest/globals';
import { errorMessage, foreignAnswerMessage, quoteForeign } from './errors.js';

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

/** An error as the SDK throws it when an answer is not AWS's XML or JSON, with what the client factory adds. */
function deserializationFailure(fields: { status?: number; body?: string; xmlBody?: string; operation?: string; message?: string }): Error {
  const error = new Error(fields.message ?? 'Unexpected token \'<\', "<html>..." is not valid JSON');
  Object.defineProperty(error, '$response', {
    value: { statusCode: fields.status, body: {}, ...(fields.body === undefined ? {} : { $foreignBodyText: fields.body }) },
  });
  if (fields.status !== undefined) Object.assign(error, { $metadata: { httpStatusCode: fields.status } });
  if (fields.xmlBody !== undefined) Object.defineProperty(error, '$responseBodyText', { value: fields.xmlBody });
  if (fields.operation) Object.defineProperties(error, { $operation: { value: fields.operation }, $service: { value: 'SSM' } });
  return error;
}

const PAGE = '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n';

describe('foreignAnswerMessage', () => {
  it.each<[string, unknown, string | undefined]>([
    [
      'names the operation, the status and the start of the body, on one line',
      deserializationFailure({ status: 502, body: PAGE, operation: 'SendCommand' }),
      'SendCommand (SSM) got HTTP 502 with a body that is not AWS\'s XML or JSON: ' +
        '"<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> </body> </html>"',
    ],
    [
      'takes the body the SDK kept for XML protocols',
      deserializationFailure({ status: 503, xmlBody: '<h1>down</h1>' }),
      'An AWS call got HTTP 503 with a body that is not AWS\'s XML or JSON: "<h1>down</h1>"',
    ],
    [
      'quotes at most 200 characters',
      deserializationFailure({ status: 502, body: 'x'.repeat(500) }),
      `An AWS call got HTTP 502 with a body that is not AWS's XML or JSON: "${'x'.repeat(200)}..."`,
    ],
    [
      'breaks up workflow commands in the body',
      deserializationFailure({ status: 502, body: '\n::add-mask::x\r::error::y ##[warning]z' }),
      'An AWS call got HTTP 502 with a body that is not AWS\'s XML or JSON: "\u200b::add-mask::x ::error::y ##\u200b[warning]z"',
    ],
    [
      'without a body, the SDK message',
      deserializationFailure({ status: 502, message: 'XML parse error' }),
      'An AWS call got HTTP 502 with a body that is not AWS\'s XML or JSON (XML parse error)',
    ],
    ['not for an AWS error answer, which has $fault', Object.assign(deserializationFailure({ status: 400 }), { $fault: 'client' }), undefined],
    ['not for a plain error', new Error('boom'), undefined],
  ])('%s', (_case, error, expected) => {
    expect(foreignAnswerMessage(error)).toBe(expected);
    if (expected) expect(errorMessage(error)).toBe(expected);
  });

  it('quoteForeign leaves no line break and no command start', () => {
    const quoted = quoteForeign('a\r\n::set-output name=x::y\n##[group]z');
    expect(quoted).not.toMatch(/[\r\n]|^\s*::|##\[/);
  });
});
