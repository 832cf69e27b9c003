/**
 * `npm run demo` as a new user runs it: its entry as a child process (through tsx, as the script runs it), with a
 * report path of its own. The demo checks each step itself and exits non-zero when one went otherwise than
 * expected; this test holds it to that, to what it prints and writes, and to its minute.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NODE_MAJOR_VARIABLE, NODE_VARIABLE, REPO_ROOT } from './harness/runner.js';

const SUMMARY_TITLES = {
  'build-and-push': 'Nix closures built and pushed',
  'assume-role': 'AWS role assumed',
  'instance-refresh': 'Instance refresh of web',
  'ssm-deploy': 'NixOS deploy through Systems Manager failed',
};

let dir: string;
let demo: { code: number | null; stdout: string; stderr: string };

/** The demo as a child process; `env` over this process's. */
async function runDemo(report: string, env: NodeJS.ProcessEnv = {}): Promise<typeof demo> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/run.ts', '--report', report], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nixos-aws-demo-test-'));
  demo = await runDemo(join(dir, 'report.html'));
}, 300_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('npm run demo', () => {
  // The runner runs the bundles on Node 24 (runs.using: node24), and so does every other e2e test; this run keeps
  // the code runnable on Node 20, the oldest the package supports: every action's bundle, each step as expected.
  it(`runs every bundle on the machine's Node ${process.version} too`, async () => {
    const major = process.versions.node.split('.')[0];
    const older = await runDemo(join(dir, 'older.html'), { [NODE_VARIABLE]: process.execPath, [NODE_MAJOR_VARIABLE]: major });
    expect(older.stderr).toBe('');
    expect(older.code).toBe(0);
    expect(older.stdout).toMatch(/^Demo done in [\d.]+ s: every step did what was expected\./m);
  }, 300_000);

  it('exits 0 within a minute', () => {
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);
    const done = /^Demo done in ([\d.]+) s: every step did what was expected\. Report: .*report\.html$/m.exec(demo.stdout);
    expect(done).not.toBeNull();
    // The minute is the demo's own, from its start to its end as it reports them: not node's and tsx's start-up,
    // which a busy machine stretches (jest's timeout above leaves room for that).
    expect(Number(done![1])).toBeLessThan(60);
  });

  it('prints each step, its job summary as text and its outcome', () => {
    const steps = demo.stdout.split(/^(?=\[\d\/4\] )/m).slice(1);
    expect(steps.map((step) => step.slice(0, step.indexOf(':')))).toEqual([
      '[1/4] build-and-push',
      '[2/4] assume-role',
      '[3/4] instance-refresh',
      '[4/4] ssm-deploy',
    ]);
    Object.values(SUMMARY_TITLES).forEach((title, i) => {
      expect(steps[i]).toContain(`    ${title}\n    ${'='.repeat(title.length)}\n`);
      expect(steps[i]).toMatch(/^ {2}=> as expected: /m);
    });
    expect(steps[0]).toMatch(/^ {2}=> as expected: succeeds.*\(exit code 0, /m);
    // The expected failure: one instance rolled back, its table row aligned under the header.
    expect(steps[3]).toMatch(/^ {4}i-0a1b2c3d4e5f60002 +Failed +Failed +2 +.*rolled back to the previous generation$/m);
    expect(steps[3]).toMatch(/^ {2}=> as expected: fails: one instance fails its health check.*\(exit code 1, /m);
    expect(steps[2]).toContain('Checkpoint 20% reached');
    expect(demo.stdout).not.toMatch(/<\/?[a-z]+>/);
  });

  it('writes every step\'s summary into one HTML page', async () => {
    const page = await readFile(join(dir, 'report.html'), 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    for (const title of Object.values(SUMMARY_TITLES)) expect(page).toContain(`<h2>${title}</h2>`);
    expect(page).toContain('Every step did what the demo expected.');
    expect(page.match(/<p class="verdict ok">As expected/g)).toHaveLength(4);
  });
});
