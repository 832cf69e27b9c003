/**
 * The AWS SDK clients behind an HTTP proxy, end to end: ssm-deploy's bundle, run as the runner runs it, reaches the
 * sandbox only through a real proxy on 127.0.0.1 (its endpoint names a host that does not resolve), for its own
 * role assumption (STS, sent without the SDK) and for its SSM calls (the SDK's client), as on a self-hosted runner
 * whose only way out is a proxy.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Sandbox } from '../sandbox/server.js';
import { githubTrustPolicy } from '../sandbox/services/sts/sts.js';
import { STORE_PATH } from './actions.js';
import { runAction, type StepResult } from './harness/runner.js';
import { startProxy } from './proxy.js';

const sandbox = new Sandbox();
beforeAll(() => sandbox.start());
afterAll(() => sandbox.stop());
beforeEach(() => sandbox.reset());

const errors = (result: StepResult) => result.annotations.filter((a) => a.level === 'error').map((a) => a.message);

/** The sandbox under a name only the proxy can reach. */
const hiddenEndpoint = () => {
  const url = new URL(sandbox.env().AWS_ENDPOINT_URL);
  url.hostname = 'aws.vpce.example';
  return url;
};

async function deployThrough(proxyEnv: (proxy: string) => Record<string, string>) {
  sandbox.ssm.addInstance({ instanceId: 'i-00000000000000001', tags: { Role: 'web' } });
  const roleArn = sandbox.sts.addRole({ name: 'deploy', trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/*' }) });
  const proxy = await startProxy();
  try {
    const result = await runAction('ssm-deploy', {
      env: { ...sandbox.env(), AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_ENDPOINT_URL: hiddenEndpoint().toString(), ...proxyEnv(proxy.url) },
      inputs: { targets: 'tag:Role=web', 'store-path': STORE_PATH, wait: 'false', 'role-to-assume': roleArn },
    });
    return { result, seen: proxy.seen };
  } finally {
    await proxy.close();
  }
}

describe('ssm-deploy behind an HTTP proxy', () => {
  it.each<[string, (proxy: string) => Record<string, string>, string | undefined]>([
    ['HTTP_PROXY', (proxy) => ({ HTTP_PROXY: proxy }), undefined],
    ['http_proxy with a user and password, sent as Proxy-Authorization', (proxy) => ({ http_proxy: proxy.replace('//', '//ci:p%40ss@') }), `Basic ${Buffer.from('ci:p@ss').toString('base64')}`],
  ])('assumes the role and sends the command through %s', async (_case, proxyEnv, auth) => {
    const { result, seen } = await deployThrough(proxyEnv);
    expect(errors(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(sandbox.calls.operations()).toEqual(expect.arrayContaining(['sts:AssumeRoleWithWebIdentity', 'ssm:SendCommand']));
    // One tunnel for STS, at least one for the SSM client (kept alive between its calls), all to the hidden host.
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(new Set(seen.map((s) => JSON.stringify(s)))).toEqual(new Set([JSON.stringify({ authority: hiddenEndpoint().host, auth })]));
  });

  it('bypasses it for a host in NO_PROXY, calling nothing through it', async () => {
    const { result, seen } = await deployThrough((proxy) => ({ HTTP_PROXY: proxy, NO_PROXY: '.vpce.example' }));
    // Direct, the hidden name does not resolve.
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining('ENOTFOUND')]);
    expect(seen).toEqual([]);
    expect(sandbox.calls.all()).toEqual([]);
  });
});
