import { describe, expect, it } from '@jest/globals';
import type { AssumedRole } from '../shared/assume-role-with-oidc.js';
import { accountRefusal, credentialVariables, stepOutputs } from './plan.js';

const assumed: AssumedRole = {
  credentials: { accessKeyId: 'ASIAX', secretAccessKey: 'secret', sessionToken: 'token', expiration: new Date('2026-11-25T12:00:00Z') },
  assumedRoleArn: 'arn:aws:sts::123456789012:assumed-role/deploy/s',
  accountId: '123456789012',
};

describe('accountRefusal', () => {
  it.each<[string, string[], boolean]>([
    ['no list allows every account', [], false],
    ['a listed account', ['111111111111', '123456789012'], false],
    ['an unlisted account', ['111111111111'], true],
  ])('%s', (_case, allowed, refused) => {
    const refusal = accountRefusal('123456789012', allowed);
    expect(refusal !== undefined).toBe(refused);
    if (refused) expect(refusal).toMatch(/123456789012.*allowed-account-ids.*nothing was exported/);
  });
});

describe('credentialVariables', () => {
  it('sets the keys and both region variables', () => {
    expect(credentialVariables(assumed, 'eu-central-1')).toEqual({
      AWS_ACCESS_KEY_ID: 'ASIAX',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
      AWS_REGION: 'eu-central-1',
      AWS_DEFAULT_REGION: 'eu-central-1',
    });
  });
});

describe('stepOutputs', () => {
  it.each<[boolean, string[]]>([
    [false, ['aws-account-id', 'assumed-role-arn', 'expiration']],
    [true, ['aws-account-id', 'assumed-role-arn', 'expiration', 'aws-access-key-id', 'aws-secret-access-key', 'aws-session-token']],
  ])('with credentials %s', (withCredentials, names) => {
    const outputs = stepOutputs(assumed, withCredentials);
    expect(Object.keys(outputs)).toEqual(names);
    expect(outputs.expiration).toBe('2026-11-25T12:00:00.000Z');
  });
});
