import { describe, expect, it } from '@jest/globals';
import { inputErrorOf } from '../shared/fixtures/input-error.js';
import { readInputs } from './inputs.js';

const ROLE = 'arn:aws:iam::123456789012:role/deploy';
const ENV = { AWS_REGION: 'eu-central-1', GITHUB_RUN_ID: '4242', GITHUB_RUN_ATTEMPT: '2' };
const read = (values: Record<string, string>, env: NodeJS.ProcessEnv = ENV) =>
  readInputs((name) => values[name] ?? '', env);
const failure = (values: Record<string, string>, env?: NodeJS.ProcessEnv): string => inputErrorOf(() => read(values, env));

describe('assume-role inputs', () => {
  it('applies the defaults', () => {
    expect(read({ 'role-to-assume': ROLE })).toEqual({
      roleToAssume: ROLE,
      awsRegion: 'eu-central-1',
      audience: 'sts.amazonaws.com',
      roleSessionName: 'GitHubActions-4242-2',
      roleDurationSeconds: 3600,
      inlineSessionPolicy: '',
      managedSessionPolicies: [],
      allowedAccountIds: [],
      exportCredentials: true,
      outputCredentials: false,
      maskAccountId: false,
    });
  });

  it.each<[string, Record<string, string>, object]>([
    ['a role with a path in GovCloud', { 'role-to-assume': 'arn:aws-us-gov:iam::123456789012:role/ci/deploy' }, { roleToAssume: 'arn:aws-us-gov:iam::123456789012:role/ci/deploy' }],
    ['the region input over the environment', { 'aws-region': 'us-west-2' }, { awsRegion: 'us-west-2' }],
    ['account IDs, comma or newline separated', { 'allowed-account-ids': '111111111111, 222222222222\n333333333333' }, { allowedAccountIds: ['111111111111', '222222222222', '333333333333'] }],
    ['a policy document', { 'inline-session-policy': '{"Version":"2012-10-17","Statement":[]}' }, { inlineSessionPolicy: '{"Version":"2012-10-17","Statement":[]}' }],
    ['the longest duration', { 'role-duration-seconds': '43200' }, { roleDurationSeconds: 43200 }],
    ['booleans as YAML writes them', { 'export-credentials': 'False', 'mask-account-id': 'TRUE' }, { exportCredentials: false, maskAccountId: true }],
  ])('reads %s', (_case, values, expected) => {
    expect(read({ 'role-to-assume': ROLE, ...values })).toMatchObject(expected);
  });

  it.each<[string, Record<string, string>, NodeJS.ProcessEnv | undefined, string]>([
    ['no region anywhere', {}, {}, "No AWS region: set the 'aws-region' input"],
    ['a policy that is not JSON', { 'inline-session-policy': 'Statement' }, undefined, "Input 'inline-session-policy' must be a JSON IAM policy document: "],
    ['a policy without statements', { 'inline-session-policy': '[]' }, undefined, 'an object with a "Statement"'],
    ['a policy over 2048 characters', { 'inline-session-policy': JSON.stringify({ Statement: [{ Sid: 'x'.repeat(2100) }] }) }, undefined, 'of at most 2048 characters'],
    ['a role ARN of another service', { 'role-to-assume': 'arn:aws:iam::123456789012:user/deploy' }, undefined, "Input 'role-to-assume' must be an IAM role ARN"],
    ['a duration above 12 hours', { 'role-duration-seconds': '43201' }, undefined, "Input 'role-duration-seconds' must be an integer 900-43200"],
  ])('rejects %s', (_case, values, env, message) => {
    expect(failure({ 'role-to-assume': ROLE, ...values }, env)).toContain(message);
  });
});
