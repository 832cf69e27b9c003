import { describe, expect, it } from '@jest/globals';
import { validateWebIdentityRequest } from './sts-request.js';

const errorOf = (params: Record<string, unknown>): { code?: string; message?: string } => {
  try {
    validateWebIdentityRequest(params);
    return {};
  } catch (error) {
    return error as { code: string; message: string };
  }
};
const valid = { RoleArn: 'arn:aws:iam::123456789012:role/deploy', RoleSessionName: 'gha', WebIdentityToken: 'secret.jwt.value' };

describe('validateWebIdentityRequest', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['defaults', valid, { roleArn: valid.RoleArn, roleSessionName: 'gha', durationSeconds: 3600, packedPolicySize: undefined }],
    ['a role path', { ...valid, RoleArn: 'arn:aws:iam::123456789012:role/ci/github/deploy' }, { roleArn: 'arn:aws:iam::123456789012:role/ci/github/deploy' }],
    ['a duration from the query string', { ...valid, DurationSeconds: '900' }, { durationSeconds: 900 }],
    ['a session policy', { ...valid, Policy: '{"Statement":[]}' }, { packedPolicySize: expect.any(Number) }],
    ['ten managed policies', { ...valid, PolicyArns: Array.from({ length: 10 }, () => ({ arn: 'arn:aws:iam::aws:policy/X' })) }, {}],
  ])('accepts %s', (_name, params, expected) => {
    expect(validateWebIdentityRequest(params)).toMatchObject(expected);
  });

  it.each<[string, Record<string, unknown>, string, string | RegExp]>([
    [
      'no parameters at all, every problem at once',
      {},
      'ValidationError',
      "3 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; " +
        "Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null; " +
        "Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null",
    ],
    [
      'a duration that is not a number',
      { ...valid, DurationSeconds: 'soon' },
      'ValidationError',
      "1 validation error detected: Value 'soon' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    ],
    [
      'an empty session policy',
      { ...valid, Policy: '' },
      'ValidationError',
      "1 validation error detected: Value '' at 'policy' failed to satisfy constraint: Member must have length greater than or equal to 1",
    ],
    ['a session policy over 2048 characters', { ...valid, Policy: ' '.repeat(2049) }, 'ValidationError', /at 'policy' .*less than or equal to 2048$/],
    ['an ARN in another partition', { ...valid, RoleArn: 'arn:aws-cn:iam::123456789012:role/deploy' }, 'ValidationError', 'Request ARN is invalid'],
    ['an ARN without account', { ...valid, RoleArn: 'arn:aws:iam:::role/deploy-role' }, 'ValidationError', 'Request ARN is invalid'],
    ['a JSON string as policy', { ...valid, Policy: '"allow everything"' }, 'MalformedPolicyDocument', 'Syntax errors in policy.'],
  ])('refuses %s', (_name, params, code, message) => {
    const error = errorOf(params);
    expect(error.code).toBe(code);
    if (typeof message === 'string') expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
  });

  it('never puts the token into a message', () => {
    const { message } = errorOf({ ...valid, RoleArn: 'x', RoleSessionName: 'a', DurationSeconds: 1, Policy: '' });
    expect(message).toMatch(/^4 validation errors detected: /);
    expect(message).not.toContain(valid.WebIdentityToken);
  });
});
