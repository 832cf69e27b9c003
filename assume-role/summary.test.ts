import { describe, expect, it } from '@jest/globals';
import type { AssumedRole } from '../shared/assume-role-with-oidc.js';
import { assumedSummary } from './summary.js';

const assumed: AssumedRole = {
  credentials: { accessKeyId: 'ASIAX', secretAccessKey: 'secret', sessionToken: 'token', expiration: new Date('2026-11-25T12:00:00Z') },
  assumedRoleArn: 'arn:aws:sts::123456789012:assumed-role/deploy/s',
  accountId: '123456789012',
};
const ROLE = 'arn:aws:iam::123456789012:role/deploy';

describe('assumedSummary', () => {
  it.each<[string, boolean, string, string]>([
    ['shows the account', false, ROLE, 'arn:aws:sts::123456789012:assumed-role/deploy/s'],
    ['masks the account with mask-account-id', true, 'arn:aws:iam::***:role/deploy', 'arn:aws:sts::***:assumed-role/deploy/s'],
  ])('%s', (_case, maskAccountId, role, session) => {
    const summary = assumedSummary({ roleToAssume: ROLE, exportCredentials: true, maskAccountId }, assumed);
    expect(summary.facts).toEqual([
      ['Role', role],
      ['Session', { text: session, code: true }],
      ['Expires', '2026-11-25T12:00:00.000Z'],
      ['Credentials exported', true],
    ]);
    expect(JSON.stringify(summary)).not.toContain(maskAccountId ? '123456789012' : '***');
  });
});
