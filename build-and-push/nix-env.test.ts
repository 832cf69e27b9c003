import { describe, expect, it } from '@jest/globals';
import { needsRenewal, nixEnv } from './nix-env.js';

const credentials = { accessKeyId: 'ASIAROLE', secretAccessKey: 'secret', sessionToken: 'token', expiration: new Date('2026-05-01T12:00:00Z') };

describe('nixEnv', () => {
  it('passes the environment as it is without a role', () => {
    const env = { PATH: '/usr/bin', AWS_ACCESS_KEY_ID: 'AKIAOWN' };
    const child = nixEnv(env);
    expect(child).toEqual(env);
    expect(child).not.toBe(env);
  });

  it("sets the role's credentials over the environment's, for the child only", () => {
    const env = { PATH: '/usr/bin', AWS_ACCESS_KEY_ID: 'AKIAOWN', AWS_SECRET_ACCESS_KEY: 'own', AWS_REGION: 'eu-west-1' };
    expect(nixEnv(env, credentials)).toEqual({
      PATH: '/usr/bin',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'ASIAROLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
    });
    expect(env.AWS_ACCESS_KEY_ID).toBe('AKIAOWN');
  });
});

describe('needsRenewal', () => {
  it.each([
    ['an hour left', '2026-05-01T11:00:00Z', false],
    ['16 minutes left', '2026-05-01T11:44:00Z', false],
    ['14 minutes left', '2026-05-01T11:46:00Z', true],
    ['expired', '2026-05-01T12:01:00Z', true],
  ])('%s: %s', (_case, now, renew) => {
    expect(needsRenewal(credentials, Date.parse(now))).toBe(renew);
  });
});
