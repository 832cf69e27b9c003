/**
 * The example pipeline's smoke test, its `run` script taken from `examples/pipeline.yml` and run by bash as the
 * runner runs a `shell: bash` step, with real curl against a local server that stands in for the deployed service.
 * What it prints is read as the runner reads workflow commands (test/harness/commands.ts): a body from the service
 * is foreign text, and must never become a command.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { parseCommands, splitLines } from './harness/commands.js';
import { REPO_ROOT } from './harness/runner.js';

interface Step {
  env?: Record<string, string>;
  shell?: string;
  run?: string;
}
const PIPELINE = parse(readFileSync(join(REPO_ROOT, 'examples/pipeline.yml'), 'utf8')) as { jobs: Record<string, { steps: Step[] }> };
const STEP = PIPELINE.jobs['smoke-test'].steps.find((step) => step.run !== undefined)!;
const DEPLOYED = '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05';
const OTHER = '/nix/store/1c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05';

let body = '';
let server: Server;
let url = '';
beforeAll(async () => {
  server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/version`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

/** The step as the runner runs `shell: bash` (`bash --noprofile --norc -eo pipefail {0}`), its output as lines. */
function runStep(served: string): Promise<{ code: number | null; lines: string[] }> {
  body = served;
  const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', STEP.run!], {
    env: { PATH: process.env.PATH, URL: url, STORE_PATH: DEPLOYED },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, lines: splitLines(out) })));
}

describe("the example pipeline's smoke test", () => {
  it('runs as bash, the values from env', () => {
    expect(STEP.shell).toBe('bash');
    expect(STEP.env).toMatchObject({ URL: expect.any(String), STORE_PATH: expect.stringContaining('${{') });
    expect(STEP.run).not.toContain('${{');
  });

  it('passes when the service serves the deployed store path, printing no command', async () => {
    const { code, lines } = await runStep(DEPLOYED);
    expect(code).toBe(0);
    expect(parseCommands(lines).commands).toEqual([]);
  });

  it('fails naming the deployed path and showing a store path served instead', async () => {
    const { code, lines } = await runStep(OTHER);
    expect(code).toBe(1);
    expect(lines).toContain(`staging serves ${OTHER}`);
    expect(parseCommands(lines).commands).toEqual([
      { name: 'error', properties: {}, data: `staging does not serve ${DEPLOYED}`, line: 1 },
    ]);
  });

  it.each<[string, string]>([
    ['an error after a newline', `${OTHER}\n::error::forged`],
    ['a mask after a carriage return', 'x\r::add-mask::staging'],
    ['commands stopped, so that the error is lost', '\n::stop-commands::t0k3n'],
    ['an old-form command inside a line', `${OTHER} ##[set-output name=path]forged`],
    ['an old-form error at the start', '##[error]forged'],
    ['a command with leading spaces', '   ::warning::forged'],
    ['a store path with a command after a newline', `${OTHER}\n##[add-path]/tmp/evil`],
  ])('makes no command of a body with %s, and still fails with its own error', async (_case, served) => {
    const { code, lines } = await runStep(served);
    expect(code).toBe(1);
    const parsed = parseCommands(lines);
    expect(parsed.commands).toEqual([{ name: 'error', properties: {}, data: `staging does not serve ${DEPLOYED}`, line: 1 }]);
    expect(lines[0]).toMatch(/^staging serves \d+ characters that are not a store path$/);
    expect(lines.join('\n')).not.toContain('forged');
  });
});
