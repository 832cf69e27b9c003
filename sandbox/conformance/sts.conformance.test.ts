import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Sandbox } from '../server.js';
import { awsCli, expectAllOperationsCovered } from './aws-cli.js';

describe('STS through the AWS CLI', () => {
  const sandbox = new Sandbox();
  const seen = new Set<string>();
  beforeAll(() => sandbox.start());
  afterAll(async () => {
    await sandbox.stop();
  });
  const record = () => sandbox.calls.all().forEach((c) => c.status === 200 && seen.add(c.operation));

  it('get-caller-identity', async () => {
    const result = await awsCli(sandbox, ['sts', 'get-caller-identity']);
    expect(result).toMatchObject({ code: 0, json: { Account: '123456789012' } });
    record();
  });

  it('covers every STS operation the sandbox implements', () => {
    expectAllOperationsCovered(sandbox, 'sts', seen);
  });
});
