import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { installCancellation } from './cancellation.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/cancellable.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
}

let child: ChildProcess | undefined;
afterEach(() => {
  if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts the fixture, sends `signals` (the first once it is waiting, each next after `gapMs`), awaits its exit. */
function runFixture(signals: NodeJS.Signals[], env: Record<string, string>, gapMs = 100): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child = proc;
    let stdout = '';
    let sent = false;
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (sent || !stdout.includes('waiting')) return;
      sent = true;
      signals.forEach((signal, i) => setTimeout(() => proc.kill(signal), i * gapMs));
    });
    proc.on('error', reject);
    proc.on('exit', (code, signal) => resolve({ code, signal, stdout }));
  });
}

describe('installCancellation, in a real process', () => {
  it.each<[string, NodeJS.Signals[], Record<string, string>, { code: number; has: string[]; hasNot?: string[] }]>([
    [
      'SIGINT: the wait aborts and the cleanup runs',
      ['SIGINT'],
      { CLEANUP_MS: '300' },
      { code: 3, has: ['Received SIGINT: the run was cancelled', 'outcome: aborted: CancelledError: The run was cancelled (SIGINT)', 'cleanup done'] },
    ],
    [
      'SIGTERM alone does the same',
      ['SIGTERM'],
      { CLEANUP_MS: '300' },
      { code: 3, has: ['outcome: aborted: CancelledError: The run was cancelled (SIGTERM)', 'cleanup done'] },
    ],
    [
      'SIGTERM during the cleanup does not kill it',
      ['SIGINT', 'SIGTERM'],
      { CLEANUP_MS: '800' },
      { code: 3, has: ['(SIGINT)', 'Received SIGTERM again: still carrying out the abort action.', 'cleanup done'] },
    ],
    [
      'a second SIGINT does not kill it either',
      ['SIGINT', 'SIGINT'],
      { CLEANUP_MS: '800' },
      { code: 3, has: ['Received SIGINT again', 'cleanup done'] },
    ],
    [
      'a hanging cleanup ends at the hard deadline',
      ['SIGINT'],
      { CLEANUP_MS: '60000', HARD_DEADLINE_MS: '700' },
      {
        code: 1,
        has: ['::error::The abort action did not finish within 0.7 s of the cancellation; exiting.'],
        hasNot: ['cleanup done'],
      },
    ],
  ])('%s', async (_case, signals, env, expected) => {
    const run = await runFixture(signals, env);
    expect(run.signal).toBeNull();
    expect(run.code).toBe(expected.code);
    for (const text of expected.has) expect(run.stdout).toContain(text);
    for (const text of expected.hasNot ?? []) expect(run.stdout).not.toContain(text);
  });
});

describe('installCancellation, in this process', () => {
  // Signals themselves are only sent to the child above: jest may have its own SIGINT handling in this process.
  it.each(['SIGINT', 'SIGTERM'] as const)('dispose() removes the %s handler', (signal) => {
    const before = process.listenerCount(signal);
    const cancellation = installCancellation();
    expect(process.listenerCount(signal)).toBe(before + 1);
    cancellation.dispose();
    expect(process.listenerCount(signal)).toBe(before);
    expect(cancellation.signal.aborted).toBe(false);
  });
});
