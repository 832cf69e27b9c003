import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from '@jest/globals';
import { STATIC_CREDENTIALS } from '../sandbox/server.js';
import { sandboxInEnv } from '../test/sandbox-env.js';
import { githubTrustPolicy } from '../sandbox/services/sts/sts.js';
import { actionClients } from './action-clients.js';
import { captureStdout } from './fixtures/stdout.js';

describe('actionClients', () => {
  const sandbox = sandboxInEnv({ GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '2' });

  it.each<[string, boolean, RegExp]>([
    ['without role-to-assume: the credentials in the environment', false, new RegExp(`^${STATIC_CREDENTIALS.accessKeyId}$`)],
    ['with role-to-assume: the role, in a session named after the run', true, /assumed-role\/deployer\/GitHubActions-42-2$/],
  ])('%s', async (_case, assume, caller) => {
    const roleArn = sandbox.sts.addRole({ name: 'deployer', trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/*' }) });
    await captureStdout(async () => {
      const { clients, assumed } = await actionClients({ roleToAssume: assume ? roleArn : '', awsRegion: 'us-east-1', audience: 'sts.amazonaws.com' });
      expect(assumed !== undefined).toBe(assume);
      await clients(STSClient).send(new GetCallerIdentityCommand({}));
    });
    expect(sandbox.calls.of('GetCallerIdentity')[0].caller).toMatch(caller);
    expect(process.env.AWS_ACCESS_KEY_ID).toBe(STATIC_CREDENTIALS.accessKeyId);
  });
});
