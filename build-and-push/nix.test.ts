import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { parseFileCommands, tempFile } from '../shared/fixtures/runner-files.js';
import { SIGTERM_AFTER_MS } from '../test/harness/runner.js';
import { tempNix, type TempNix } from './fixtures/temp-nix.js';
import { isTransientCacheFailure, NixError, NixMissingError, NixTimeoutError, runNix, writeKeyFile } from './nix.js';
import { KEY_FILE_STATE } from './plan.js';

/** Far past anything these commands take: only the cases about the bound set one that matters. */
const timeoutMs = 600_000;

let nix: TempNix;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  nix = await tempNix();
  env = { ...process.env, NIX_CONFIG: nix.nixConfig };
});
afterAll(() => nix.remove());

describe('runNix', () => {
  it("collects stdout and hands Nix's log to onLog", async () => {
    const log: string[] = [];
    const { stdout, stderr } = await runNix(['eval', '--expr', 'builtins.trace "adding" (1 + 2)'], { env, timeoutMs, onLog: (chunk) => log.push(chunk) });
    expect(stdout.trim()).toBe('3');
    expect(log.join('')).toBe('trace: adding\n');
    expect(stderr).toBe('trace: adding\n');
  });

  it('fails with the command and Nix’s error lines', async () => {
    const failure = runNix(['eval', '--expr', 'throw "no such thing"'], { env, timeoutMs });
    await expect(failure).rejects.toThrow(NixError);
    await expect(failure).rejects.toThrow(/^nix eval failed \(exit code 1\):\nerror: no such thing/);
  });

  it('says how to install Nix when it is not on PATH', async () => {
    await expect(runNix(['--version'], { env: { PATH: '/nonexistent' }, timeoutMs })).rejects.toThrow(NixMissingError);
  });

  it('does not start once cancelled', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await expect(runNix(['--version'], { env, timeoutMs, signal: controller.signal })).rejects.toThrow('cancelled');
  });

  describe('cancelled during a build', () => {
    it('interrupts Nix, which stops the build, and rejects with the reason', async () => {
      const controller = new AbortController();
      const script = 'echo started; sleep 120; echo > $out';
      const expr = `derivation { name = "long"; system = builtins.currentSystem; builder = "/bin/sh"; PATH = "/usr/bin:/bin"; args = [ "-c" "${script}" ]; }`;
      let abortedAt = 0;
      const build = runNix(['build', '--no-link', '-L', '--impure', '--expr', expr], {
        env,
        timeoutMs,
        signal: controller.signal,
        onLog: (chunk) => {
          if (!chunk.includes('long> started') || controller.signal.aborted) return;
          abortedAt = Date.now();
          controller.abort(new Error('cancelled'));
        },
      });
      await expect(build).rejects.toThrow('cancelled');
      // Nix is stopped before the runner's SIGTERM, 7.5 s after its SIGINT: counted from the abort, not from the
      // start of an evaluation and build that a busy machine makes slow.
      expect(Date.now() - abortedAt).toBeLessThan(SIGTERM_AFTER_MS);
      expect(spawnSync('pgrep', ['-f', script]).status).toBe(1);
    });
  });
});

describe('past its bound', () => {
  it('interrupts Nix, which stops the build, and rejects naming the command and the bound', async () => {
    const script = 'echo started; sleep 121; echo > $out';
    const expr = `derivation { name = "hangs"; system = builtins.currentSystem; builder = "/bin/sh"; PATH = "/usr/bin:/bin"; args = [ "-c" "${script}" ]; }`;
    const build = runNix(['build', '--no-link', '-L', '--impure', '--expr', expr], { env, timeoutMs: 3_000 });
    await expect(build).rejects.toThrow(NixTimeoutError);
    await expect(build).rejects.toThrow(/^nix build .* did not finish within 3 s: stopped it/);
    expect(spawnSync('pgrep', ['-f', script]).status).toBe(1);
  });
});

describe('isTransientCacheFailure', () => {
  it.each<[string, unknown, boolean]>([
    ['a failed nix command whose log shows throttling', new NixError('copy', 1, 'error: Please reduce your request rate.'), true],
    ['a failed nix command whose log shows a lasting failure', new NixError('copy', 1, 'error: Access Denied'), false],
    ['an attempt stopped at its bound', new NixTimeoutError('copy --to http://cache', 30_000, ''), true],
    ['an error not from a nix command, whatever it says', new Error('SlowDown'), false],
  ])('%s: %s', (_case, error, transient) => {
    expect(isTransientCacheFailure(error)).toBe(transient);
  });
});

const KEY = `cache-1:${'A'.repeat(86)}==`;

describe('writeKeyFile', () => {
  const state = tempFile('state');
  const saved = process.env.GITHUB_STATE;
  const runnerTemp = dirname(state.path);
  beforeEach(() => {
    process.env.GITHUB_STATE = state.path;
    state.clear();
  });
  afterAll(() => {
    process.env.GITHUB_STATE = saved;
    state.remove();
  });

  it('writes the key under RUNNER_TEMP, readable by its owner only, named in the state; remove() deletes it', async () => {
    const file = await writeKeyFile(KEY, { RUNNER_TEMP: runnerTemp });
    expect(dirname(file.path)).toBe(runnerTemp);
    expect(readFileSync(file.path, 'utf8')).toBe(KEY);
    expect(statSync(file.path).mode & 0o777).toBe(0o600);
    expect(parseFileCommands(state.read())).toEqual({ [KEY_FILE_STATE]: file.path });
    await file.remove();
    expect(existsSync(file.path)).toBe(false);
    await expect(file.remove()).resolves.toBeUndefined();
  });

  it('uses a new name each time', async () => {
    const [first, second] = [await writeKeyFile(KEY, { RUNNER_TEMP: runnerTemp }), await writeKeyFile(KEY, { RUNNER_TEMP: runnerTemp })];
    expect(first.path).not.toBe(second.path);
    await Promise.all([first.remove(), second.remove()]);
  });
});
