import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { parseQueryParams } from './protocol/query.js';
import { Sandbox, STATIC_CREDENTIALS } from './server.js';

describe('parseQueryParams', () => {
  it.each([
    ['Action=X&Version=1', { Action: 'X', Version: '1' }],
    ['Tags.member.1.Key=a&Tags.member.1.Value=b&Tags.member.2.Key=c', { Tags: [{ Key: 'a', Value: 'b' }, { Key: 'c' }] }],
    ['TagSpecification.1.Tag.2.Key=k&TagSpecification.1.Tag.1.Key=j', { TagSpecification: [{ Tag: [{ Key: 'j' }, { Key: 'k' }] }] }],
    ['Ids.member.10=j&Ids.member.2=b', { Ids: ['b', 'j'] }],
    ['Value=a%26b%3Dc', { Value: 'a&b=c' }],
  ])('%s', (body, expected) => {
    expect(parseQueryParams(body)).toEqual(expected);
  });
});

describe('sandbox server', () => {
  const sandbox = new Sandbox();
  let sts: STSClient;
  beforeAll(async () => {
    await sandbox.start();
    sts = new STSClient({
      region: 'us-east-1',
      endpoint: sandbox.url,
      credentials: STATIC_CREDENTIALS,
      maxAttempts: 1,
    });
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.reset());

  it('answers a Query call and logs it with the caller', async () => {
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe('123456789012');
    expect(sandbox.calls.all()).toMatchObject([
      { service: 'sts', operation: 'GetCallerIdentity', caller: STATIC_CREDENTIALS.accessKeyId, status: 200 },
    ]);
  });

  it.each([
    ['throttle', 'Throttling'],
    ['server-error', 'InternalFailure'],
  ] as const)('injects %s faults for a counted number of calls', async (kind, code) => {
    sandbox.faults.add({ kind, service: 'sts', count: 1 });
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: code });
    await expect(sts.send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({ Account: '123456789012' });
    expect(sandbox.calls.all().map((c) => c.errorCode)).toEqual([code, undefined]);
  });

  it('drops connections', async () => {
    sandbox.faults.add({ kind: 'drop', count: 1 });
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toThrow();
    expect(sandbox.calls.all()[0]).toMatchObject({ status: 0, errorCode: 'ConnectionDropped' });
  });

  it('adds latency', async () => {
    sandbox.faults.add({ kind: 'latency', latencyMs: 300, count: 1 });
    const started = Date.now();
    await sts.send(new GetCallerIdentityCommand({}));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('answers an unknown action with InvalidAction', async () => {
    const res = await fetch(sandbox.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=Nope&Version=2011-06-15',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<Code>InvalidAction</Code>');
  });
});

describe('control API', () => {
  const sandbox = new Sandbox();
  beforeAll(() => sandbox.start());
  afterAll(() => sandbox.stop());

  it('lists calls, injects faults, moves the clock and resets, unaffected by its own faults', async () => {
    const sts = new STSClient({ region: 'us-east-1', endpoint: sandbox.url, credentials: STATIC_CREDENTIALS, maxAttempts: 1 });
    const post = (path: string, body: unknown = {}) =>
      fetch(`${sandbox.url}/_sandbox/${path}`, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json());

    await post('faults', { kind: 'throttle', rate: 1 });
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'Throttling' });
    const calls = (await fetch(`${sandbox.url}/_sandbox/calls`).then((r) => r.json())) as Array<{ operation: string }>;
    expect(calls.map((c) => c.operation)).toEqual(['GetCallerIdentity']);

    await post('faults/clear');
    await expect(sts.send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({ Account: '123456789012' });

    const before = sandbox.clock.nowMs();
    const clock = (await post('clock', { advanceMs: 3_600_000 })) as { now: string };
    expect(Date.parse(clock.now) - before).toBeGreaterThanOrEqual(3_600_000);

    await post('reset');
    expect(sandbox.calls.all()).toEqual([]);
  });
});
