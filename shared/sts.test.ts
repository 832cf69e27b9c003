/**
 * The direct STS call held to the AWS SDK it replaces: the same endpoint as the SDK's STS client resolves, the same
 * reading of the same answers (served over HTTP to both), and a request the sandbox's STS reads as the SDK's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { isRetryableStsError } from './assume-role-with-oidc.js';
import { errorMessage, isRefusal } from './errors.js';
import { assumeRoleWithWebIdentity, readSharedConfig, readWebIdentityAnswer, sharedConfigOf, stsEndpoint, webIdentityBody } from './sts.js';

const REGIONS = [
  'us-east-1', 'eu-central-1', 'ap-southeast-7', 'mx-central-1', 'il-central-1', 'us-east-9', 'aws-global',
  'cn-north-1', 'cn-northwest-1', 'cn-south-9', 'aws-cn-global',
  'us-gov-west-1', 'us-gov-east-1', 'aws-us-gov-global',
  'us-iso-east-1', 'us-isob-east-1', 'eu-isoe-west-1', 'us-isof-south-1', 'eusc-de-east-1', 'aws-iso-global',
  // In no partition's list nor regex: the SDK falls back to aws.
  'xx-nowhere-1',
];
const FLAGS = [[false, false], [true, false], [false, true], [true, true]] as const;

/** What the SDK's own STS client resolves (its endpoint ruleset and partitions), or its error message. */
async function sdkEndpoint(region: string, fips: boolean, dualStack: boolean): Promise<string> {
  const client = new STSClient({ region, useFipsEndpoint: fips, useDualstackEndpoint: dualStack });
  try {
    const params = { Region: region, UseFIPS: fips, UseDualStack: dualStack, UseGlobalEndpoint: false };
    return client.config.endpointProvider(params).url.href;
  } catch (error) {
    return (error as Error).message;
  } finally {
    client.destroy();
  }
}

const flagEnv = (fips: boolean, dualStack: boolean) => ({ AWS_USE_FIPS_ENDPOINT: String(fips), AWS_USE_DUALSTACK_ENDPOINT: String(dualStack) });

describe('stsEndpoint', () => {
  const cases = REGIONS.flatMap((region) => FLAGS.map(([fips, dualStack]) => [region, fips, dualStack] as const));
  it.each(cases)('%s (FIPS %s, dual-stack %s) is the SDK client\'s endpoint', async (region, fips, dualStack) => {
    const ours = (() => {
      try {
        return stsEndpoint(region, { HOME: '/nonexistent', ...flagEnv(fips, dualStack) }).href;
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(ours).toBe(await sdkEndpoint(region, fips, dualStack));
  });

  it.each<[string, NodeJS.ProcessEnv, string]>([
    ['AWS_ENDPOINT_URL_STS before AWS_ENDPOINT_URL', { AWS_ENDPOINT_URL_STS: 'https://vpce-1.sts.example/', AWS_ENDPOINT_URL: 'http://127.0.0.1:1' }, 'https://vpce-1.sts.example/'],
    ['AWS_ENDPOINT_URL alone', { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }, 'http://127.0.0.1:4566/'],
    ['a path kept, with the SDK\'s trailing slash', { AWS_ENDPOINT_URL_STS: 'http://proxy.example/sts' }, 'http://proxy.example/sts/'],
    ['an empty one ignored', { AWS_ENDPOINT_URL_STS: '', AWS_ENDPOINT_URL: 'http://localhost:1234' }, 'http://localhost:1234/'],
    ['both ignored by AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', { AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }, 'https://sts.eu-west-1.amazonaws.com/'],
    ['an empty setting read as unset', { AWS_USE_FIPS_ENDPOINT: '', AWS_USE_DUALSTACK_ENDPOINT: '' }, 'https://sts.eu-west-1.amazonaws.com/'],
  ])('%s', (_case, env, expected) => {
    expect(stsEndpoint('eu-west-1', { HOME: '/nonexistent', ...env }).href).toBe(expected);
  });

  it.each<[string, NodeJS.ProcessEnv, string]>([
    ['FIPS with a configured endpoint (the SDK ruleset\'s error)', { AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_USE_FIPS_ENDPOINT: 'true' }, 'Invalid Configuration: FIPS and custom endpoint are not supported'],
    ['dual-stack with a configured endpoint', { AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:1', AWS_USE_DUALSTACK_ENDPOINT: 'true' }, 'Invalid Configuration: Dualstack and custom endpoint are not supported'],
    ['an endpoint that is not a URL', { AWS_ENDPOINT_URL_STS: 'sts.example' }, 'Environment variable AWS_ENDPOINT_URL_STS must be a URL such as https://sts.example.com, got "sts.example"'],
  ])('refuses %s', (_case, env, message) => {
    expect(() => stsEndpoint('eu-west-1', { HOME: '/nonexistent', ...env })).toThrow(message);
  });
});

/**
 * What the SDK's whole STS client does with this region and these variables (files named by them): the URL its
 * request would go to, caught in its request handler, or the message it fails with. The SDK reads `process.env`.
 */
async function sdkRequestUrl(region: string, env: NodeJS.ProcessEnv): Promise<string> {
  const saved = process.env;
  process.env = { PATH: saved.PATH, HOME: '/nonexistent', ...env };
  let url = '';
  const requestHandler = {
    handle: async (request: { protocol: string; hostname: string; port?: number; path: string }) => {
      url = `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ''}${request.path}`;
      throw new Error('caught');
    },
  };
  const client = new STSClient({ region, maxAttempts: 1, requestHandler: requestHandler as never });
  try {
    await client.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::123456789012:role/r', RoleSessionName: 's', WebIdentityToken: 't' }));
  } catch (error) {
    if ((error as Error).message !== 'caught') url = (error as Error).message;
  } finally {
    process.env = saved;
    client.destroy();
  }
  return url;
}

describe('stsEndpoint with the SDK client\'s region and config handling', () => {
  const folder = mkdtempSync(join(tmpdir(), 'aws-config-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  let files = 0;
  /** A file of this text (the SDK caches files by path: each case gets its own). */
  const file = (text: string) => {
    const path = join(folder, `file-${(files += 1)}`);
    writeFileSync(path, text);
    return path;
  };
  const CONFIG = [
    '# a comment',
    '[default]',
    'endpoint_url = http://default.example ; trailing comment',
    '',
    '[profile fips]',
    'use_fips_endpoint = true',
    '',
    '[profile vpce]',
    'services = vpce-services',
    'endpoint_url = http://everything.example',
    '',
    '[services vpce-services]',
    'ec2 =',
    '  endpoint_url = http://ec2.example',
    'sts =',
    '  endpoint_url = http://sts.vpce.example',
    '',
    '[profile ignore]',
    'endpoint_url = http://ignored.example',
    'ignore_configured_endpoint_urls = true',
    '',
    '[profile lost]',
    'services = nowhere',
    'endpoint_url = http://lost.example',
    '',
    '[profile loud]',
    'use_dualstack_endpoint = TRUE',
    '',
    // Not a profile in the config file: only `[profile deploy]` is.
    '[deploy]',
    'endpoint_url = http://bare-section.example',
    '[profile  spaced]',
    'endpoint_url = http://two-blanks.example',
  ].join('\n');
  const CREDENTIALS = [
    '[default]',
    'aws_access_key_id = AKIDEXAMPLE',
    'endpoint_url = http://credentials.example',
    '[deploy]',
    'endpoint_url = http://deploy-credentials.example',
    '[fips]',
    'use_fips_endpoint = false',
  ].join('\n');
  const config = () => ({ AWS_CONFIG_FILE: file(CONFIG) });

  // Region, variables (files made per case), what must come of it: the SDK's answer is the oracle, `expected` says
  // what that is so that the table reads as the behaviour.
  it.each<[string, string, () => NodeJS.ProcessEnv, string]>([
    ['a fips- pseudo-region', 'fips-us-east-1', () => ({}), 'https://sts-fips.us-east-1.amazonaws.com/'],
    ['a fips- GovCloud pseudo-region', 'fips-us-gov-west-1', () => ({}), 'https://sts.us-gov-west-1.amazonaws.com/'],
    ['a -fips suffixed pseudo-region', 'eu-west-1-fips', () => ({}), 'https://sts-fips.eu-west-1.amazonaws.com/'],
    ['aws-fips', 'aws-fips', () => ({}), 'https://sts-fips.us-east-1.amazonaws.com/'],
    ['a fips- region with dual-stack', 'fips-us-east-2', () => ({ AWS_USE_DUALSTACK_ENDPOINT: 'true' }), 'https://sts-fips.us-east-2.api.aws/'],
    ['a fips- region over AWS_USE_FIPS_ENDPOINT=false', 'fips-ca-central-1', () => ({ AWS_USE_FIPS_ENDPOINT: 'false' }), 'https://sts-fips.ca-central-1.amazonaws.com/'],
    ['a fips- region with a configured endpoint', 'fips-us-east-1', () => ({ AWS_ENDPOINT_URL: 'http://127.0.0.1:1' }), 'Invalid Configuration: FIPS and custom endpoint are not supported'],
    ['AWS_USE_FIPS_ENDPOINT=TRUE as unset', 'eu-west-1', () => ({ AWS_USE_FIPS_ENDPOINT: 'TRUE' }), 'https://sts.eu-west-1.amazonaws.com/'],
    ['AWS_USE_FIPS_ENDPOINT=yes as unset', 'eu-west-1', () => ({ AWS_USE_FIPS_ENDPOINT: 'yes' }), 'https://sts.eu-west-1.amazonaws.com/'],
    ['AWS_USE_DUALSTACK_ENDPOINT=1 as unset', 'eu-west-1', () => ({ AWS_USE_DUALSTACK_ENDPOINT: '1' }), 'https://sts.eu-west-1.amazonaws.com/'],
    ['an unset-like variable falls to the file', 'eu-west-1', () => ({ ...config(), AWS_PROFILE: 'fips', AWS_USE_FIPS_ENDPOINT: 'True' }), 'https://sts-fips.eu-west-1.amazonaws.com/'],
    ['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=TRUE as unset', 'eu-west-1', () => ({ AWS_ENDPOINT_URL: 'http://variable.example', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'TRUE' }), 'http://variable.example/'],
    ['use_dualstack_endpoint = TRUE in the file as unset', 'eu-west-1', () => ({ ...config(), AWS_PROFILE: 'loud' }), 'https://sts.eu-west-1.amazonaws.com/'],
    ["the default profile's endpoint_url", 'eu-west-1', config, 'http://default.example/'],
    ["a profile's use_fips_endpoint", 'eu-west-1', () => ({ ...config(), AWS_PROFILE: 'fips' }), 'https://sts-fips.eu-west-1.amazonaws.com/'],
    ['the variable before the file', 'eu-west-1', () => ({ ...config(), AWS_PROFILE: 'fips', AWS_USE_FIPS_ENDPOINT: 'false' }), 'https://sts.eu-west-1.amazonaws.com/'],
    ["the services section's sts endpoint_url before the profile's", 'eu-west-1', () => ({ ...config(), AWS_PROFILE: 'vpce' }), 'http://sts.vpce.example/'],
    ['AWS_ENDPOINT_URL before the file', 'eu-west-1', () => ({ ...config(), AWS_PROFILE: 'vpce', AWS_ENDPOINT_URL: 'http://variable.example' }), 'http://variable.example/'],
    ['ignore_configured_endpoint_urls', 'eu-west-1', () => ({ ...config(), AWS_PROFILE: 'ignore' }), 'https://sts.eu-west-1.amazonaws.com/'],
    ['a profile the file does not have', 'eu-west-1', () => ({ ...config(), AWS_PROFILE: 'other' }), 'https://sts.eu-west-1.amazonaws.com/'],
    ['a missing services section: no endpoint from the file', 'eu-west-1', () => ({ ...config(), AWS_PROFILE: 'lost' }), 'https://sts.eu-west-1.amazonaws.com/'],
    ['a missing services section under AWS_ENDPOINT_URL', 'eu-west-1', () => ({ ...config(), AWS_PROFILE: 'lost', AWS_ENDPOINT_URL: 'http://variable.example' }), 'http://variable.example/'],
    ['[deploy] without "profile " in the config file', 'eu-west-1', () => ({ AWS_CONFIG_FILE: file('[deploy]\nendpoint_url = http://bare.example'), AWS_PROFILE: 'deploy' }), 'https://sts.eu-west-1.amazonaws.com/'],
    ['[profile  spaced] (two blanks) is no profile', 'eu-west-1', () => ({ ...config(), AWS_PROFILE: 'spaced' }), 'https://sts.eu-west-1.amazonaws.com/'],
    ["the credentials file's endpoint_url", 'eu-west-1', () => ({ AWS_SHARED_CREDENTIALS_FILE: file(CREDENTIALS) }), 'http://credentials.example/'],
    ["the credentials file's [deploy]", 'eu-west-1', () => ({ AWS_SHARED_CREDENTIALS_FILE: file(CREDENTIALS), AWS_PROFILE: 'deploy' }), 'http://deploy-credentials.example/'],
    ['the config file before the credentials file', 'eu-west-1', () => ({ ...config(), AWS_SHARED_CREDENTIALS_FILE: file(CREDENTIALS) }), 'http://default.example/'],
    ['a config file setting over a credentials file one', 'eu-west-1', () => ({ ...config(), AWS_SHARED_CREDENTIALS_FILE: file(CREDENTIALS), AWS_PROFILE: 'fips' }), 'https://sts-fips.eu-west-1.amazonaws.com/'],
    ['an unreadable config file (a directory) as none', 'eu-west-1', () => ({ AWS_CONFIG_FILE: folder }), 'https://sts.eu-west-1.amazonaws.com/'],
    ['an unreadable config file under AWS_ENDPOINT_URL', 'eu-west-1', () => ({ AWS_CONFIG_FILE: folder, AWS_ENDPOINT_URL: 'http://variable.example' }), 'http://variable.example/'],
    ['a config file the SDK cannot parse as none', 'eu-west-1', () => ({ AWS_CONFIG_FILE: file('[profile __proto__]\nendpoint_url = http://proto.example') }), 'https://sts.eu-west-1.amazonaws.com/'],
    ['a path in AWS_ENDPOINT_URL_STS: the request goes to path/', 'eu-west-1', () => ({ AWS_ENDPOINT_URL_STS: 'http://proxy.example/sts' }), 'http://proxy.example/sts/'],
    ['a path ending in / kept as it is', 'eu-west-1', () => ({ AWS_ENDPOINT_URL: 'http://proxy.example/a/b/' }), 'http://proxy.example/a/b/'],
    ["a path in the profile's endpoint_url", 'eu-west-1', () => ({ AWS_CONFIG_FILE: file('[default]\nendpoint_url = http://gateway.example/aws/sts') }), 'http://gateway.example/aws/sts/'],
    ['no files at all', 'eu-west-1', () => ({ AWS_CONFIG_FILE: join(folder, 'missing'), AWS_SHARED_CREDENTIALS_FILE: join(folder, 'missing') }), 'https://sts.eu-west-1.amazonaws.com/'],
  ])('%s: as the SDK client', async (_case, region, makeEnv, expected) => {
    const env = makeEnv();
    const ours = (() => {
      try {
        return stsEndpoint(region, { HOME: '/nonexistent', ...env }).href;
      } catch (error) {
        return (error as Error).message;
      }
    })();
    const theirs = await sdkRequestUrl(region, env);
    expect(theirs).toBe(expected);
    expect(ours).toBe(theirs);
  });

  it.each<[string, NodeJS.ProcessEnv, number]>([
    ['AWS_ENDPOINT_URL, FIPS, dual-stack and ignoring decided: not read', {
      AWS_ENDPOINT_URL: 'http://variable.example', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false', AWS_USE_FIPS_ENDPOINT: 'false', AWS_USE_DUALSTACK_ENDPOINT: 'false',
    }, 0],
    ['AWS_ENDPOINT_URL_STS alone: read once for the settings left open', { AWS_ENDPOINT_URL_STS: 'http://variable.example' }, 1],
    ['nothing set: read once', {}, 1],
  ])('the files, %s', (_case, env, reads) => {
    let read = 0;
    stsEndpoint('eu-west-1', env, sharedConfigOf({ AWS_CONFIG_FILE: folder }, () => (read += 1)));
    expect(read).toBe(reads);
  });

  it('refuses an endpoint in the file that is not a URL, naming the setting', () => {
    const env = { AWS_CONFIG_FILE: file('[default]\nendpoint_url = sts.example') };
    expect(() => stsEndpoint('eu-west-1', env)).toThrow('AWS config file setting endpoint_url must be a URL');
  });

  it('reads no file twice', () => {
    const env = { AWS_CONFIG_FILE: file(CONFIG), AWS_PROFILE: 'vpce' };
    const source = sharedConfigOf(env);
    expect(source()).toBe(source());
    expect(readSharedConfig(env).profile.services).toBe('vpce-services');
  });
});

describe('webIdentityBody', () => {
  it.each<[string, Parameters<typeof webIdentityBody>[0], string]>([
    ['the required members', { roleArn: 'arn:aws:iam::123456789012:role/r', sessionName: 's@1', token: 'a.b.c' },
      'Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=s%401&WebIdentityToken=a.b.c'],
    ['policies and duration', { roleArn: 'r', sessionName: 's', token: 't', durationSeconds: 900, policy: '{"a": "&"}', policyArns: ['arn:1', 'arn:2'] },
      'Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=r&RoleSessionName=s&WebIdentityToken=t&PolicyArns.member.1.arn=arn%3A1&PolicyArns.member.2.arn=arn%3A2&Policy=%7B%22a%22%3A+%22%26%22%7D&DurationSeconds=900'],
    ['an empty policy list left out', { roleArn: 'r', sessionName: 's', token: 't', policyArns: [] },
      'Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=r&RoleSessionName=s&WebIdentityToken=t'],
  ])('%s', (_case, request, body) => {
    expect(webIdentityBody(request)).toBe(body);
  });
});

const ROLE = 'arn:aws:sts::123456789012:assumed-role/deploy/s';
const success = (extra = '') => `<?xml version="1.0" encoding="UTF-8"?>
<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>repo:o/r:ref:refs/heads/main</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser><Arn>${ROLE}</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
      <SecretAccessKey>se+cr/et&amp;&lt;x&gt;</SecretAccessKey>
      <SessionToken>to&#x41;ken&#61;</SessionToken>
      <Expiration>2026-11-29T17:00:00Z</Expiration>
    </Credentials>${extra}
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`;
const failure = (type: string, code: string, message: string) =>
  `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r-2</RequestId></ErrorResponse>`;

/** Status, content type, body; what the SDK and this module must both make of it. */
const ANSWERS: Array<[string, number, string, string, { retried: boolean; refusal: boolean }]> = [
  ['AccessDenied', 403, 'text/xml', failure('Sender', 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity'), { retried: false, refusal: true }],
  ['InvalidIdentityToken (modelled)', 400, 'text/xml', failure('Sender', 'InvalidIdentityToken', 'Incorrect token audience'), { retried: false, refusal: true }],
  ['ExpiredTokenException (modelled)', 400, 'text/xml', failure('Sender', 'ExpiredTokenException', 'Token expired: current date/time 1 must be before the expiration date/time 0'), { retried: false, refusal: true }],
  ['IDPCommunicationError (modelled, retried)', 400, 'text/xml', failure('Sender', 'IDPCommunicationError', "Couldn't retrieve verification key from your identity provider"), { retried: true, refusal: true }],
  ['MalformedPolicyDocument, an entity in the message', 400, 'text/xml', failure('Sender', 'MalformedPolicyDocument', 'Syntax errors in policy &quot;x&quot;'), { retried: false, refusal: true }],
  ['Throttling', 400, 'text/xml', failure('Sender', 'Throttling', 'Rate exceeded'), { retried: true, refusal: true }],
  ['InternalFailure', 500, 'text/xml', failure('Receiver', 'InternalFailure', 'An internal error occurred'), { retried: true, refusal: false }],
  ['an HTML 502 from a proxy', 502, 'text/html', '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>', { retried: true, refusal: false }],
];

describe('readWebIdentityAnswer, against the SDK reading the same answer over HTTP', () => {
  let server: Server;
  let answer: { status: number; type: string; body: string };
  let endpoint: URL;
  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const sdkCall = async () => {
    const sdk = new STSClient({ region: 'us-east-1', maxAttempts: 1, endpoint: endpoint.href });
    try {
      return await sdk.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::123456789012:role/deploy', RoleSessionName: 's', WebIdentityToken: 't' }));
    } finally {
      sdk.destroy();
    }
  };
  const ours = () => assumeRoleWithWebIdentity(endpoint, { roleArn: 'arn:aws:iam::123456789012:role/deploy', sessionName: 's', token: 't' });

  it('reads the credentials, the role and the expiration as the SDK does', async () => {
    answer = { status: 200, type: 'text/xml', body: success() };
    const theirs = await sdkCall();
    expect(await ours()).toEqual({
      accessKeyId: theirs.Credentials!.AccessKeyId,
      secretAccessKey: theirs.Credentials!.SecretAccessKey,
      sessionToken: theirs.Credentials!.SessionToken,
      expiration: theirs.Credentials!.Expiration,
      assumedRoleArn: theirs.AssumedRoleUser!.Arn,
    });
    expect(theirs.Credentials!.SecretAccessKey).toBe('se+cr/et&<x>');
  });

  it.each(ANSWERS)('%s: the same error name, message, fault and status as the SDK\'s', async (_case, status, type, body, expected) => {
    answer = { status, type, body };
    const theirs = (await sdkCall().then(() => undefined, (e: unknown) => e)) as Record<string, unknown> & Error;
    const mine = (await ours().then(() => undefined, (e: unknown) => e)) as Record<string, unknown> & Error;
    expect(mine).toBeDefined();
    expect(theirs).toBeDefined();
    if (type === 'text/xml') {
      expect({ name: mine.name, message: mine.message, $fault: mine.$fault }).toEqual({ name: theirs.name, message: theirs.message, $fault: theirs.$fault });
      expect(errorMessage(mine)).toBe(errorMessage(theirs));
    } else {
      expect(errorMessage(mine)).toBe(`AssumeRoleWithWebIdentity (STS) got HTTP ${status} with a body that is not AWS's XML or JSON: "${body}"`);
    }
    expect((mine.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(status);
    expect({ retried: isRetryableStsError(mine), refusal: isRefusal(mine) }).toEqual(expected);
  });

  it('names a dropped connection TimeoutError, as the SDK did', async () => {
    // The SDK's error measured outside jest (its VM realm strips the SDK's renaming): TimeoutError, "socket hang up",
    // with `$metadata`, which `errorMessage` reads as `TimeoutError: socket hang up` (node's errors are of another
    // realm here, so the text itself is checked through the bundle, in test/assume-role.e2e.test.ts).
    const dropping = createServer((request) => request.socket.destroy());
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
    try {
      const url = new URL(`http://127.0.0.1:${(dropping.address() as AddressInfo).port}/`);
      const error = await assumeRoleWithWebIdentity(url, { roleArn: 'r', sessionName: 's', token: 't' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'TimeoutError', message: 'socket hang up', code: 'ECONNRESET', $metadata: {} });
      expect(isRetryableStsError(error)).toBe(true);
      expect(isRefusal(error)).toBe(false);
    } finally {
      await new Promise<void>((resolve) => dropping.close(() => resolve()));
    }
  });

  it.each<[string, number, string]>([
    ['a success without credentials', 200, success().replace(/<Credentials>[\s\S]*<\/Credentials>/, '')],
    ['credentials without a session token', 200, success().replace(/<SessionToken>.*<\/SessionToken>/, '')],
    ['an expiration that is not a date', 200, success().replace('2026-11-29T17:00:00Z', 'soon')],
  ])('refuses %s', (_case, status, body) => {
    expect(() => readWebIdentityAnswer(status, 'text/xml', body)).toThrow(/STS answered AssumeRoleWithWebIdentity without (complete )?credentials/);
  });
});
