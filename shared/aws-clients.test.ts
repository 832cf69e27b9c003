import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplatesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Sandbox, STATIC_CREDENTIALS } from '../sandbox/server.js';
import {
  ATTEMPT_TIMEOUT_MS,
  attemptTimeouts,
  clientConfig,
  clientFactory,
  CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_ATTEMPTS,
  TEST_TIMEOUT_VARIABLE,
  type ClientFactory,
} from './aws-clients.js';
import { errorMessage } from './errors.js';
import { PROJECT_ID } from './version.js';

describe('clientConfig', () => {
  const credentials = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' };
  it.each([
    ['defaults', { region: 'eu-central-1' }, { region: 'eu-central-1', maxAttempts: DEFAULT_MAX_ATTEMPTS }],
    ['given credentials', { region: 'us-east-1', credentials }, { region: 'us-east-1', credentials }],
    ['a caller-chosen attempt count', { region: 'us-east-1', maxAttempts: 2 }, { maxAttempts: 2 }],
  ])('%s', (_case, options, expected) => {
    const config = clientConfig(options);
    expect(config).toMatchObject({ ...expected, retryMode: 'adaptive', customUserAgent: [PROJECT_ID.split('/')] });
    // An explicit endpoint would stop the SDK reading AWS_ENDPOINT_URL*; an explicit `credentials: undefined`
    // is harmless today but says "no credentials" to a reader.
    expect(Object.keys(config)).not.toContain('endpoint');
    if (!('credentials' in options)) expect(Object.keys(config)).not.toContain('credentials');
  });
});

describe('attemptTimeouts', () => {
  it.each<[string, string | undefined, { connectMs: number; attemptMs: number }]>([
    ['the defaults', undefined, { connectMs: CONNECT_TIMEOUT_MS, attemptMs: ATTEMPT_TIMEOUT_MS }],
    ['a test override shortens both', '300', { connectMs: 300, attemptMs: 300 }],
    ['an override between the two shortens only the longer', '8000', { connectMs: CONNECT_TIMEOUT_MS, attemptMs: 8000 }],
    ['an override cannot lengthen them', '600000', { connectMs: CONNECT_TIMEOUT_MS, attemptMs: ATTEMPT_TIMEOUT_MS }],
    ['nor switch them off', '0', { connectMs: CONNECT_TIMEOUT_MS, attemptMs: ATTEMPT_TIMEOUT_MS }],
    ['nonsense is ignored', 'soon', { connectMs: CONNECT_TIMEOUT_MS, attemptMs: ATTEMPT_TIMEOUT_MS }],
  ])('%s', (_case, value, expected) => {
    expect(attemptTimeouts(value === undefined ? {} : { [TEST_TIMEOUT_VARIABLE]: value })).toEqual(expected);
  });

  it('reach the request handler, which throws (not warns) when an attempt runs over', () => {
    expect(clientConfig({ region: 'us-east-1' }, {}).requestHandler).toEqual({
      connectionTimeout: CONNECT_TIMEOUT_MS,
      requestTimeout: ATTEMPT_TIMEOUT_MS,
      throwOnRequestTimeout: true,
      socketTimeout: ATTEMPT_TIMEOUT_MS,
      // Through the proxy variables: test/aws-proxy.e2e.test.ts.
      httpAgent: expect.anything(),
      httpsAgent: expect.anything(),
    });
  });
});

describe('clientFactory', () => {
  it('makes one client per class, configured as the SDK resolves it', async () => {
    const clients = clientFactory({ region: 'eu-west-1' });
    const sts = clients(STSClient);
    expect(clients(STSClient)).toBe(sts);
    expect(clients(SSMClient)).not.toBe(sts);
    expect(await sts.config.region()).toBe('eu-west-1');
    expect(await sts.config.maxAttempts()).toBe(DEFAULT_MAX_ATTEMPTS);
    expect(await sts.config.retryStrategy()).toMatchObject({ mode: 'adaptive' });
  });
});

/** A cheap call per client, the service the sandbox files it under, and its endpoint variable's suffix. */
const SERVICES: Array<[string, string, (clients: ClientFactory) => Promise<unknown>]> = [
  ['sts', 'STS', (c) => c(STSClient).send(new GetCallerIdentityCommand({}))],
  ['ec2', 'EC2', (c) => c(EC2Client).send(new DescribeLaunchTemplatesCommand({}))],
  ['autoscaling', 'AUTO_SCALING', (c) => c(AutoScalingClient).send(new DescribeAutoScalingGroupsCommand({}))],
  ['ssm', 'SSM', (c) => c(SSMClient).send(new ListCommandsCommand({}))],
];

describe('clients against the sandbox, through the endpoint variables', () => {
  const general = new Sandbox();
  const specific = new Sandbox();
  const saved = { ...process.env };
  beforeAll(async () => {
    await Promise.all([general.start(), specific.start()]);
  });
  afterAll(() => Promise.all([general.stop(), specific.stop()]));
  beforeEach(() => {
    general.reset();
    specific.reset();
    for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
    Object.assign(process.env, general.env());
  });
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('calls STS with the default credential chain and names the project in the user agent', async () => {
    const identity = await clientFactory({ region: general.region })(STSClient).send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe(general.accountId);
    const [call] = general.calls.all();
    expect(call).toMatchObject({ service: 'sts', operation: 'GetCallerIdentity', caller: STATIC_CREDENTIALS.accessKeyId });
    expect(call.userAgent).toContain(PROJECT_ID);
  });

  it('signs with the credentials it is given instead of the environment', async () => {
    const credentials = { accessKeyId: 'AKIAGIVENEXPLICITLY1', secretAccessKey: 'given-secret' };
    await clientFactory({ region: general.region, credentials })(STSClient).send(new GetCallerIdentityCommand({}));
    expect(general.calls.all().map((c) => c.caller)).toEqual([credentials.accessKeyId]);
  });

  it.each<[string, number, 'resolves' | 'rejects', number]>([
    ['survives four 5xx answers', 4, 'resolves', 5],
    [`gives up after ${DEFAULT_MAX_ATTEMPTS} attempts`, 9, 'rejects', DEFAULT_MAX_ATTEMPTS],
  ])('retries: %s', async (_case, faults, outcome, calls) => {
    general.faults.add({ kind: 'server-error', service: 'sts', count: faults });
    const sts = clientFactory({ region: general.region })(STSClient);
    const sent = sts.send(new GetCallerIdentityCommand({}));
    await (outcome === 'resolves' ? expect(sent).resolves.toBeDefined() : expect(sent).rejects.toThrow());
    expect(general.calls.all()).toHaveLength(calls);
  });

  // Only the routing and the user agent are asserted: whether the sandbox implements the operation is not.
  it.each(SERVICES)('%s follows AWS_ENDPOINT_URL_%s over AWS_ENDPOINT_URL', async (service, suffix, call) => {
    process.env[`AWS_ENDPOINT_URL_${suffix}`] = specific.url;
    await call(clientFactory({ region: general.region, maxAttempts: 1 })).catch(() => undefined);
    expect(general.calls.all()).toEqual([]);
    expect(specific.calls.all()).toEqual([expect.objectContaining({ service, userAgent: expect.stringContaining(PROJECT_ID) })]);
  });

  it.each(SERVICES)('%s uses AWS_ENDPOINT_URL when AWS_ENDPOINT_URL_%s is unset', async (service, _suffix, call) => {
    const others = SERVICES.filter(([name]) => name !== service);
    for (const [, suffix] of others) process.env[`AWS_ENDPOINT_URL_${suffix}`] = specific.url;
    await call(clientFactory({ region: general.region, maxAttempts: 1 })).catch(() => undefined);
    expect(specific.calls.all()).toEqual([]);
    expect(general.calls.all()).toEqual([expect.objectContaining({ service, userAgent: expect.stringContaining(PROJECT_ID) })]);
  });
});

describe('clients when the network misbehaves', () => {
  const sandbox = new Sandbox();
  const saved = { ...process.env };
  beforeAll(() => sandbox.start());
  afterAll(() => sandbox.stop());
  beforeEach(() => {
    sandbox.reset();
    for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
    // Long enough for a loaded machine to answer a call that is not held, short enough to keep the test quick.
    Object.assign(process.env, sandbox.env(), { [TEST_TIMEOUT_VARIABLE]: '1000' });
  });
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it.each(SERVICES)('%s: an attempt that hangs is abandoned at its timeout and retried', async (service, _suffix, call) => {
    sandbox.faults.add({ kind: 'hang', service, count: 2 });
    await call(clientFactory({ region: sandbox.region })).catch(() => undefined);
    // Answered or refused by the sandbox, the next attempt got an answer: the two hung ones were let go.
    const outcomes = sandbox.calls.all().map((c) => c.errorCode ?? 'answered');
    expect(outcomes.slice(0, 2)).toEqual(['Hung', 'Hung']);
    expect(outcomes.length).toBeGreaterThanOrEqual(3);
    expect(outcomes[outcomes.length - 1]).not.toBe('Hung');
  });

  /** The operation each call of SERVICES makes, and the service name the SDK's client gives. */
  const NAMES: Record<string, string> = {
    sts: 'GetCallerIdentity (STS)',
    ec2: 'DescribeLaunchTemplates (EC2)',
    autoscaling: 'DescribeAutoScalingGroups (AutoScaling)',
    ssm: 'ListCommands (SSM)',
  };

  it.each(SERVICES)('%s: an HTML page from a proxy is named as such, with the call, the status and the body', async (service, _suffix, call) => {
    sandbox.faults.add({ kind: 'html', service, status: 502, rate: 1 });
    const error = await call(clientFactory({ region: sandbox.region, maxAttempts: 2 })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(errorMessage(error)).toBe(
      `${NAMES[service]} got HTTP 502 with a body that is not AWS's XML or JSON: ` +
        '"<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> <hr><center>nginx</center> </body> </html>"',
    );
    // A 502 is worth another attempt, whatever its body.
    expect(sandbox.calls.all()).toHaveLength(2);
  });
});
