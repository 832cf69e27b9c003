import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplatesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Sandbox, STATIC_CREDENTIALS } from '../sandbox/server.js';
import { clientConfig, clientFactory, DEFAULT_MAX_ATTEMPTS, type ClientFactory } from './aws-clients.js';
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
