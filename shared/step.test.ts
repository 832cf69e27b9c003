import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { parseKeyValueFile } from '../test/harness/file-commands.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/step.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
}

let child: ChildProcess | undefined;
afterEach(() => {
  if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Runs the fixture as the runner runs a step (file commands in temp files); SIGINT once it says it is waiting. */
function runFixture(behaviour: string): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'step-test-'));
  const output = join(dir, 'output');
  const summary = join(dir, 'summary');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', BEHAVIOUR: behaviour, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child = proc;
    let stdout = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const before = stdout;
      stdout += chunk;
      if (!before.includes('waiting') && stdout.includes('waiting')) proc.kill('SIGINT');
    });
    proc.on('error', reject);
    proc.on('exit', (code) =>
      resolve({ code, stdout, outputs: parseKeyValueFile(readFileSync(output, 'utf8')), summary: readFileSync(summary, 'utf8') }),
    );
  });
}

describe('runStep, in a real process', () => {
  it.each<[string, { code: number; outputs: Record<string, string>; has: string[]; hasNot?: string[]; summary?: string | string[] }]>([
    ['ok', { code: 0, outputs: { first: 'one', second: 'two' }, has: ['masked first', 'all done'], hasNot: ['::error::'], summary: 'returned' }],
    [
      'input-error',
      {
        code: 1,
        outputs: {},
        has: [`::error::Input 'a' must be a number, got "x"%0AInput 'b' is required`],
        hasNot: ['all done'],
        summary: ['fixture-action: inputs rejected', 'Nothing was called', '<code>a</code>', 'must be a number', '<code>b</code>'],
      },
    ],
    ['throw', { code: 1, outputs: { first: 'one' }, has: ['::error::the body failed'], hasNot: ['all done'], summary: 'threw' }],
    ['fail-report', { code: 1, outputs: { first: 'one', second: 'two' }, has: ['::error::the deploy rolled back'], hasNot: ['all done'], summary: 'returned' }],
    ['wait', { code: 1, outputs: { first: 'one' }, has: ['Received SIGINT', '::error::cancelled: aborted cleanly'], summary: 'returned' }],
    [
      'hang',
      {
        code: 1,
        outputs: { first: 'one' },
        has: ['Received SIGINT', '::error::The abort action did not finish within 0.7 s of the cancellation; exiting.'],
        summary: '',
      },
    ],
  ])('%s', async (behaviour, expected) => {
    const run = await runFixture(behaviour);
    expect(run.code).toBe(expected.code);
    expect(run.outputs).toEqual(expected.outputs);
    for (const text of expected.has) expect(run.stdout).toContain(text);
    for (const text of expected.hasNot ?? []) expect(run.stdout).not.toContain(text);
    if (expected.summary === '') expect(run.summary).toBe('');
    else for (const text of [expected.summary ?? []].flat()) expect(run.summary).toContain(text);
    // Exactly one failure line, whatever went wrong.
    expect(run.stdout.split('\n').filter((line) => line.startsWith('::error::')).length).toBe(expected.code === 0 ? 0 : 1);
  });
});
