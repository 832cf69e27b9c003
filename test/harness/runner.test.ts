import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actionNode, BUNDLED_NODE, inputVariable, Job, KILL_AFTER_MS, NODE_VARIABLE, runAction, SIGTERM_AFTER_MS } from './runner.js';

const PROBE = 'test/harness/fixtures/probe';

describe('inputVariable', () => {
  it.each([
    ['role-to-assume', 'INPUT_ROLE-TO-ASSUME'],
    ['two words', 'INPUT_TWO_WORDS'],
    ['aws-region', 'INPUT_AWS-REGION'],
  ])('%s -> %s', (name, variable) => {
    expect(inputVariable(name)).toBe(variable);
  });
});

describe('a step run by the harness', () => {
  it('gets the runner environment, inputs with action.yml defaults, and nothing of the developer', async () => {
    process.env.AWS_SECRET_ACCESS_KEY = 'developer-secret';
    try {
      const result = await runAction(PROBE, { inputs: { 'two words': 'x y' }, env: { FROM_TEST: '1' } });
      const env = JSON.parse(result.outputs.env) as Record<string, string>;
      expect(env).toMatchObject({
        GITHUB_ACTIONS: 'true',
        GITHUB_REPOSITORY: 'octo-org/octo-repo',
        GITHUB_RUN_ID: '4242424242',
        GITHUB_RUN_ATTEMPT: '1',
        'INPUT_MODE': 'report',
        'INPUT_WITH-DEFAULT': 'from action.yml',
        INPUT_TWO_WORDS: 'x y',
        FROM_TEST: '1',
      });
      for (const name of ['RUNNER_TEMP', 'GITHUB_WORKSPACE', 'GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_STATE', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY', 'GITHUB_EVENT_PATH', 'HOME']) {
        expect(env[name]).toMatch(/nixos-aws-job-/);
      }
      expect(Object.keys(env).filter((name) => /^(AWS_(?!EC2_METADATA_DISABLED)|NODE_OPTIONS|JEST)/.test(name))).toEqual([]);
    } finally {
      delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });

  it('returns outputs, exported env, state, path, summary, annotations and masks', async () => {
    const result = await runAction(PROBE);
    expect(result).toMatchObject({
      exitCode: 0,
      outputs: { multi: 'line 1\nline 2' },
      exportedEnv: { PROBE_EXPORTED: 'yes' },
      state: { token: 'from-main' },
      addedPath: ['/opt/probe/bin'],
      summary: '# Probe\n',
      masks: ['probe-secret'],
      annotations: [
        { level: 'warning', message: 'look\nhere', properties: { title: 'Careful', file: 'a.ts', line: '3' } },
        { level: 'error', message: 'on stderr', properties: {} },
      ],
    });
    expect(result.logLines).not.toContain('::add-mask::probe-secret');
  });
});

describe('the Node that runs a step', () => {
  it('is the Node of runs.using (node24), whatever runs jest', async () => {
    const result = await runAction(PROBE);
    expect(result.outputs['node-version']).toMatch(/^v24\.\d+\.\d+$/);
    expect(actionNode('node24')).toBe(BUNDLED_NODE);
  });

  const folder = mkdtempSync(join(tmpdir(), 'runner-node-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  /** A stand-in binary that says it is `version`. */
  const fakeNode = (version: string): string => {
    const path = join(folder, `node-${version}`);
    writeFileSync(path, `#!/bin/sh\necho ${version}\n`);
    chmodSync(path, 0o755);
    return path;
  };

  it.each<[string, string, () => string | undefined, RegExp]>([
    ['a missing binary', 'node24', () => join(folder, 'absent'), /No Node binary at .*absent to run the bundles: run npm ci .*or set NIXOS_AWS_NODE/],
    ['Node 20 for node24', 'node24', () => fakeNode('v20.20.2'), /is Node v20\.20\.2, but the action runs on Node 24: run npm ci/],
    ['Node 24 for a node26 action', 'node26', () => undefined, /is Node v24\.\d+\.\d+, but the action runs on Node 26/],
    ['a runtime that is not Node', 'docker', () => undefined, /runs\.using 'docker' is not a Node runtime/],
  ])('refuses %s', (_case, using, binary, message) => {
    const path = binary();
    expect(() => actionNode(using, path === undefined ? {} : { [NODE_VARIABLE]: path })).toThrow(message);
  });

  it(`takes ${NODE_VARIABLE} over the bundled binary`, () => {
    const path = fakeNode('v24.0.0');
    expect(actionNode('node24', { [NODE_VARIABLE]: path })).toBe(path);
  });
});

describe('a job', () => {
  it('passes exported env and path to later steps, and state and inputs to the post step', async () => {
    const job = new Job();
    try {
      await job.step(PROBE);
      const second = await job.step(PROBE);
      const env = JSON.parse(second.outputs.env) as Record<string, string>;
      expect(env.PROBE_EXPORTED).toBe('yes');
      expect(env.PATH.split(':')[0]).toBe('/opt/probe/bin');
      const post = await job.post(PROBE);
      expect(post.stdout).toBe('state token=from-main\ninput mode=report\n');
    } finally {
      await job.cleanup();
    }
  });

  it('runs a post step with the state given', async () => {
    const post = await runAction(PROBE, { post: true, state: { token: 'given' }, inputs: { mode: 'wait' } });
    expect(post.stdout).toBe('state token=given\ninput mode=wait\n');
  });
});

describe('cancellation', () => {
  it('sends SIGINT after a line', async () => {
    const result = await runAction(PROBE, { inputs: { mode: 'wait' }, signal: { afterLine: /^waiting$/ } });
    expect(result.signals.map((s) => s.name)).toEqual(['SIGINT']);
    expect(result).toMatchObject({ exitCode: 0, stdout: 'waiting\ngot SIGINT\n' });
  });

  it('sends SIGINT after a delay', async () => {
    const result = await runAction(PROBE, { inputs: { mode: 'wait' }, signal: { afterMs: 300 } });
    expect(result.signals.map((s) => s.name)).toEqual(['SIGINT']);
    expect(result.signals[0].atMs).toBeGreaterThanOrEqual(290);
    // A busy machine may not have started the probe's handler 300 ms in: then SIGINT ends it as it ends any node.
    if (result.exitSignal === 'SIGINT') expect(result.stdout).not.toContain('got SIGINT');
    else expect(result).toMatchObject({ exitCode: 0, stdout: 'waiting\ngot SIGINT\n' });
  });

  it('kills a step outright after a line with SIGKILL', async () => {
    const result = await runAction(PROBE, { inputs: { mode: 'stubborn' }, signal: { name: 'SIGKILL', afterLine: /^waiting$/ } });
    expect(result.signals.map((s) => s.name)).toEqual(['SIGKILL']);
    expect(result).toMatchObject({ exitCode: null, exitSignal: 'SIGKILL', timedOut: false, stdout: 'waiting\n' });
  });

  it('escalates to SIGTERM and a kill as the runner does', async () => {
    const result = await runAction(PROBE, { inputs: { mode: 'stubborn' }, signal: { afterLine: /waiting/ } });
    expect(result.signals.map((s) => s.name)).toEqual(['SIGINT', 'SIGTERM', 'SIGKILL']);
    const [int, term, kill] = result.signals.map((s) => s.atMs);
    expect(term - int).toBeGreaterThanOrEqual(SIGTERM_AFTER_MS - 50);
    expect(kill - term).toBeGreaterThanOrEqual(KILL_AFTER_MS - 50);
    expect(result).toMatchObject({ exitCode: null, exitSignal: 'SIGKILL', stdout: 'waiting\ngot SIGINT\ngot SIGTERM\n' });
  });

  it('kills a step that outlives its timeout', async () => {
    const result = await runAction(PROBE, { inputs: { mode: 'stubborn' }, timeoutMs: 500 });
    expect(result).toMatchObject({ timedOut: true, exitSignal: 'SIGKILL' });
  });
});
