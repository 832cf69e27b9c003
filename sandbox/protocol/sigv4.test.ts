import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  PutLifecycleHookCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { awsCli } from '../conformance/aws-cli.js';
import { Sandbox, STATIC_CREDENTIALS } from '../server.js';
import { parseAuthorization, SIGNATURE_DOES_NOT_MATCH } from './sigv4.js';

/**
 * The signature check on CompleteLifecycleAction, against three independent signers (the SDK, the AWS CLI's
 * botocore, curl's --aws-sigv4) with instance profile credentials the sandbox minted, and against requests
 * changed after signing. A refused request must leave the lifecycle action open.
 */
describe('SigV4 verification on CompleteLifecycleAction', () => {
  const sandbox = new Sandbox({ speed: 0 });
  let waiting: string;
  let creds: { accessKeyId: string; secretAccessKey: string; sessionToken: string };

  beforeAll(() => sandbox.start());
  afterAll(() => sandbox.stop());
  beforeEach(async () => {
    sandbox.reset();
    const template = sandbox.ec2.createLaunchTemplate({ name: 'web', data: { ImageId: 'ami-11111111' } });
    sandbox.autoscaling.createGroup({ name: 'web', launchTemplate: { id: template.id, version: '1' }, desiredCapacity: 1 });
    const admin = client(STATIC_CREDENTIALS);
    await admin.send(new PutLifecycleHookCommand({
      AutoScalingGroupName: 'web',
      LifecycleHookName: 'ready',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      HeartbeatTimeout: 600,
    }));
    await admin.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: 'web' }));
    sandbox.clock.advance(10_000);
    const instances = sandbox.autoscaling.describeGroup('web').Instances as Array<{ InstanceId: string; LifecycleState: string }>;
    waiting = instances.find((i) => i.LifecycleState === 'Pending:Wait')!.InstanceId;
    const doc = sandbox.instanceProfileCredentials(waiting, 'web-instance');
    creds = { accessKeyId: doc.AccessKeyId, secretAccessKey: doc.SecretAccessKey, sessionToken: doc.Token };
  });

  const client = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, region = sandbox.region) =>
    new AutoScalingClient({ region, endpoint: sandbox.url, credentials, maxAttempts: 1 });

  const complete = (instanceId = waiting) =>
    new CompleteLifecycleActionCommand({
      AutoScalingGroupName: 'web',
      LifecycleHookName: 'ready',
      InstanceId: instanceId,
      LifecycleActionResult: 'CONTINUE',
    });

  const lastCall = () => sandbox.calls.of('CompleteLifecycleAction').at(-1);
  const lifecycleOf = (id: string) =>
    (sandbox.autoscaling.describeGroup('web').Instances as Array<{ InstanceId: string; LifecycleState: string }>).find(
      (i) => i.InstanceId === id,
    )?.LifecycleState;

  /** Changes the request after the SDK signed it (the deserialize step runs after signing). */
  const tampered = (change: (request: { headers: Record<string, string>; body: string }) => void) => {
    const c = client(creds);
    c.middlewareStack.add(
      (next) => (args) => {
        change(args.request as { headers: Record<string, string>; body: string });
        return next(args);
      },
      { step: 'deserialize', name: 'tamper' },
    );
    return c;
  };

  it('accepts a request the SDK signed with the instance credentials, and logs the instance role as caller', async () => {
    await client(creds).send(complete());
    expect(lastCall()).toMatchObject({ status: 200, caller: `arn:aws:sts::123456789012:assumed-role/web-instance/${waiting}` });
    expect(lifecycleOf(waiting)).toBe('Pending');
  });

  it('accepts a request the AWS CLI signed', async () => {
    const result = await awsCli(sandbox, [
      'autoscaling', 'complete-lifecycle-action',
      '--auto-scaling-group-name', 'web', '--lifecycle-hook-name', 'ready',
      '--instance-id', waiting, '--lifecycle-action-result', 'CONTINUE',
    ], creds);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(lastCall()).toMatchObject({ status: 200 });
    expect(lifecycleOf(waiting)).toBe('Pending');
  });

  it("accepts a request curl signed with --aws-sigv4 with credentials from the control API (the instance script's way)", async () => {
    const minted = await fetch(`${sandbox.url}/_sandbox/instance-credentials`, {
      method: 'POST',
      body: JSON.stringify({ instanceId: waiting, roleName: 'web-instance' }),
    });
    expect(minted.status).toBe(200);
    const doc = (await minted.json()) as Record<string, string>;
    expect(doc).toMatchObject({ Code: 'Success', Type: 'AWS-HMAC', Expiration: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) });
    const creds = { accessKeyId: doc.AccessKeyId, secretAccessKey: doc.SecretAccessKey, sessionToken: doc.Token };
    const body = new URLSearchParams({
      Action: 'CompleteLifecycleAction',
      Version: '2011-01-01',
      AutoScalingGroupName: 'web',
      LifecycleHookName: 'ready',
      InstanceId: waiting,
      LifecycleActionResult: 'CONTINUE',
    }).toString();
    const out = await curl([
      '--aws-sigv4', `aws:amz:${sandbox.region}:autoscaling`,
      '--user', `${creds.accessKeyId}:${creds.secretAccessKey}`,
      '-H', `x-amz-security-token: ${creds.sessionToken}`,
      '-H', 'content-type: application/x-www-form-urlencoded',
      '--data', body,
      `${sandbox.url}/`,
    ]);
    expect(out).toMatch(/<CompleteLifecycleActionResponse/);
    expect(lastCall()).toMatchObject({ status: 200 });
  });

  const rejected: Array<[string, () => AutoScalingClient, string, RegExp | string]> = [
    // Same length, so that Content-Length still holds.
    ['the body changed after signing', () => tampered((r) => (r.body = r.body.replace('CONTINUE', 'ABANDON_'))), 'SignatureDoesNotMatch', SIGNATURE_DOES_NOT_MATCH],
    ['a signed header changed', () => tampered((r) => (r.headers['x-amz-date'] = r.headers['x-amz-date'].replace(/\d(?=Z$)/, (d) => String((Number(d) + 1) % 10)))), 'SignatureDoesNotMatch', SIGNATURE_DOES_NOT_MATCH],
    ['one digit of the signature changed', () => tampered((r) => (r.headers.authorization = r.headers.authorization.replace(/.$/, (c) => (c === '0' ? '1' : '0')))), 'SignatureDoesNotMatch', SIGNATURE_DOES_NOT_MATCH],
    ['a wrong secret key', () => client({ ...creds, secretAccessKey: `${creds.secretAccessKey}x` }), 'SignatureDoesNotMatch', SIGNATURE_DOES_NOT_MATCH],
    ['a scope for another region', () => client(creds, 'eu-west-1'), 'SignatureDoesNotMatch', /Credential should be scoped to a valid region/],
    ['the session token left out', () => tampered((r) => delete r.headers['x-amz-security-token']), 'InvalidClientTokenId', 'The security token included in the request is invalid.'],
    ['another key\'s session token', () => client({ ...creds, sessionToken: sandbox.instanceProfileCredentials('i-0123456789abcdef0', 'web-instance').Token }), 'InvalidClientTokenId', /security token/],
    ['a key the account never issued', () => client({ accessKeyId: 'ASIAUNKNOWN000000000', secretAccessKey: 'x', sessionToken: 'y' }), 'InvalidClientTokenId', /security token/],
    ['no signature at all', () => tampered((r) => delete r.headers.authorization), 'MissingAuthenticationToken', 'Request is missing Authentication Token'],
  ];

  it.each(rejected)('refuses %s with 403, and the action stays open', async (_name, make, code, message) => {
    const error = (await make().send(complete()).catch((e: unknown) => e)) as { name: string; message: string; $metadata: { httpStatusCode: number } };
    expect(error).toMatchObject({ name: code, $metadata: { httpStatusCode: 403 } });
    expect(error.message).toMatch(message);
    expect(lastCall()).toMatchObject({ status: 403, errorCode: code });
    expect(lifecycleOf(waiting)).toBe('Pending:Wait');
  });

  it.each([
    ['an instance ID EC2 would not give', { instanceId: 'i-$(reboot)', roleName: 'web-instance' }, /instanceId must match/],
    ['a role name IAM would refuse', { instanceId: 'i-0123456789abcdef0', roleName: 'web instance' }, /roleName must match/],
  ])('the control API refuses to mint credentials for %s', async (_name, body, message) => {
    const res = await fetch(`${sandbox.url}/_sandbox/instance-credentials`, { method: 'POST', body: JSON.stringify(body) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(message);
  });

  it('reads the Authorization header of each form the signers send', () => {
    expect(
      parseAuthorization(
        'AWS4-HMAC-SHA256 Credential=ASIAX/20261129/us-east-1/autoscaling/aws4_request, SignedHeaders=host;x-amz-date, Signature=' + 'a'.repeat(64),
      ),
    ).toEqual({ accessKeyId: 'ASIAX', date: '20261129', region: 'us-east-1', service: 'autoscaling', signedHeaders: ['host', 'x-amz-date'], signature: 'a'.repeat(64) });
    expect(() => parseAuthorization('AWS4-HMAC-SHA256 Credential=ASIAX/20261129/us-east-1, SignedHeaders=host, Signature=' + 'a'.repeat(64))).toThrow(
      /requires 'Credential'/,
    );
  });
});

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['--silent', '--show-error', '--max-time', '30', ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}: ${stderr}`)) : resolve(stdout),
    );
  });
}
