import { describe, expect, it } from '@jest/globals';
import { validateWebIdentityRequest } from './request.js';

const errorOf = (params: Record<string, unknown>): { code?: string; message?: string } => {
  try {
    validateWebIdentityRequest(params);
    return {};
  } catch (error) {
    return error as { code: string; message: string };
  }
};
const valid = { RoleArn: 'arn:aws:iam::123456789012:role/deploy', RoleSessionName: 'gha', WebIdentityToken: 'secret.jwt.value' };

// The model's constraints (lengths, patterns, required members) are validate.test.ts's; these are STS's own.
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
    ['an ARN in another partition', { ...valid, RoleArn: 'arn:aws-cn:iam::123456789012:role/deploy' }, 'ValidationError', 'Request ARN is invalid'],
    ['an ARN without account', { ...valid, RoleArn: 'arn:aws:iam:::role/deploy-role' }, 'ValidationError', 'Request ARN is invalid'],
    ['a JSON string as policy', { ...valid, Policy: '"allow everything"' }, 'MalformedPolicyDocument', 'Syntax errors in policy.'],
  ])('refuses %s', (_name, params, code, message) => {
    const error = errorOf(params);
    expect(error.code).toBe(code);
    if (typeof message === 'string') expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
  });
});
