import { describe, expect, it } from '@jest/globals';
import { inputErrorOf } from '../shared/fixtures/input-error.js';
import { readInputs } from './inputs.js';

const ROLE = 'arn:aws:iam::123456789012:role/deploy';
const ENV = { AWS_REGION: 'eu-central-1', GITHUB_RUN_ID: '4242', GITHUB_RUN_ATTEMPT: '2' };
const read = (values: Record<string, string>, env: NodeJS.ProcessEnv = ENV) =>
  readInputs((name) => values[name] ?? '', env);
const failure = (values: Record<string, string>, env?: NodeJS.ProcessEnv): string => inputErrorOf(() => read(values, env));

/** A policy whose minified form has exactly `length` characters; `pretty` indents it as a workflow might. */
function policyOfLength(length: number, pretty = false): string {
  const document = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:*', Resource: '*', Sid: '' }] };
  document.Statement[0].Sid = 'x'.repeat(length - JSON.stringify(document).length);
  return pretty ? JSON.stringify(document, null, 2) : JSON.stringify(document);
}

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
    ['a pretty-printed policy, minified as it is sent', { 'inline-session-policy': '{\n  "Version": "2012-10-17",\n  "Statement": [ { "Sid": "é" } ]\n}' }, { inlineSessionPolicy: '{"Version":"2012-10-17","Statement":[{"Sid":"é"}]}' }],
    ['a policy kept as written but for whitespace between tokens: spaces and escaped quotes in strings, 1e999, an integer past 2^53', { 'inline-session-policy': '{\n  "Statement": [ { "Sid" : "a \\"b\\"  c", "Condition": { "NumericLessThan": { "k": 1e999, "l": 12345678901234567890 } } } ]\n}' }, { inlineSessionPolicy: '{"Statement":[{"Sid":"a \\"b\\"  c","Condition":{"NumericLessThan":{"k":1e999,"l":12345678901234567890}}}]}' }],
    ['a policy of 2048 characters as sent', { 'inline-session-policy': policyOfLength(2048, true) }, { inlineSessionPolicy: policyOfLength(2048) }],
    ['a role path of 510 characters', { 'role-to-assume': `arn:aws:iam::123456789012:role/${'p'.repeat(510)}/deploy` }, { roleToAssume: `arn:aws:iam::123456789012:role/${'p'.repeat(510)}/deploy` }],
    ['the shortest session name', { 'role-session-name': 'ab' }, { roleSessionName: 'ab' }],
    ['the longest duration', { 'role-duration-seconds': '43200' }, { roleDurationSeconds: 43200 }],
    ['booleans as YAML writes them', { 'export-credentials': 'False', 'mask-account-id': 'TRUE' }, { exportCredentials: false, maskAccountId: true }],
  ])('reads %s', (_case, values, expected) => {
    expect(read({ 'role-to-assume': ROLE, ...values })).toMatchObject(expected);
  });

  it.each<[string, Record<string, string>, NodeJS.ProcessEnv | undefined, string]>([
    ['no region anywhere', {}, {}, "No AWS region: set the 'aws-region' input"],
    ['a policy that is not JSON', { 'inline-session-policy': 'Statement' }, undefined, "Input 'inline-session-policy' must be a JSON IAM policy document: "],
    ['a policy naming Statement twice (JSON.parse would keep only the Allow)', { 'inline-session-policy': '{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}],"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}' }, undefined, "Input 'inline-session-policy' must be a JSON IAM policy document: the object at $ names the key \"Statement\" twice"],
    ['a policy without statements', { 'inline-session-policy': '[]' }, undefined, 'an object with a "Statement"'],
    ['a policy over 2048 characters as sent', { 'inline-session-policy': policyOfLength(2049, true) }, undefined, 'of at most 2048 characters once minified (as sent to STS), got 2049'],
    ['a policy with a character STS refuses', { 'inline-session-policy': '{"Statement":[{"Sid":"☃"}]}' }, undefined, "of characters U+0020-U+00FF, tab and line breaks only (STS refuses others), got U+2603 '☃'"],
    ['a policy with an emoji', { 'inline-session-policy': '{"Statement":[],"Id":"😀"}' }, undefined, 'got U+1F600'],
    ['a role ARN of another service', { 'role-to-assume': 'arn:aws:iam::123456789012:user/deploy' }, undefined, "Input 'role-to-assume' must be an IAM role ARN"],
    ['a role path longer than IAM allows (512 with its slashes)', { 'role-to-assume': `arn:aws:iam::123456789012:role/${'p'.repeat(511)}/deploy` }, undefined, "Input 'role-to-assume' must be an IAM role ARN"],
    ['a session name with a space', { 'role-session-name': 'my session' }, undefined, "Input 'role-session-name' must be 2-64 letters, digits or +=,.@_-"],
    ['a session name of 65 characters', { 'role-session-name': 's'.repeat(65) }, undefined, "Input 'role-session-name' must be 2-64"],
    ['a duration under 15 minutes', { 'role-duration-seconds': '899' }, undefined, "Input 'role-duration-seconds' must be an integer 900-43200"],
    ['eleven managed policies', { 'managed-session-policies': Array(11).fill('arn:aws:iam::aws:policy/ReadOnlyAccess').join('\n') }, undefined, "Input 'managed-session-policies' takes at most 10 items"],
    ['a duration above 12 hours', { 'role-duration-seconds': '43201' }, undefined, "Input 'role-duration-seconds' must be an integer 900-43200"],
  ])('rejects %s', (_case, values, env, message) => {
    expect(failure({ 'role-to-assume': ROLE, ...values }, env)).toContain(message);
  });
});
