import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Starts `npm run sandbox`'s entry the way the script does and reads what it prints. */
async function startCli(args: string[]): Promise<{ child: ChildProcess; env: Record<string, string>; text: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'sandbox/cli.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const deadline = Date.now() + 20_000;
  while (!text.includes('Ctrl-C stops it.') && Date.now() < deadline && child.exitCode === null) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const env = Object.fromEntries([...text.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
  return { child, env, text };
}

describe('npm run sandbox', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
  });

  it('prints the variables that point clients at it, serves the seeded account, and stops on SIGINT', async () => {
    const started = await startCli(['--port', '0']);
    child = started.child;
    expect(started.env).toMatchObject({ AWS_REGION: 'us-east-1', ACTIONS_ID_TOKEN_REQUEST_URL: expect.stringContaining('/oidc/token') });
    expect(started.text).toContain('Auto Scaling group web (3 instances)');

    const url = started.env.AWS_ENDPOINT_URL;
    const calls = await fetch(`${url}/_sandbox/calls`).then((r) => r.json());
    expect(calls).toEqual([]);
    const token = await fetch(`${started.env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=sts.amazonaws.com`, {
      headers: { authorization: `Bearer ${started.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` },
    }).then((r) => r.json() as Promise<{ value: string }>);
    expect(token.value.split('.')).toHaveLength(3);

    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it.each([[['--port', 'x']], [['--speed', '-1']]])('rejects %j with usage', async (args) => {
    const started = await startCli(args);
    child = started.child;
    const [code] = child.exitCode === null ? await once(child, 'exit') : [child.exitCode];
    expect(code).toBe(2);
  });
});
