import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { tempNix, type TempNix } from './fixtures/temp-nix.js';
import { SIGTERM_AFTER_MS } from '../test/harness/runner.js';
import { NixError, nixErrorLines, NixMissingError, runNix } from './nix-process.js';

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
    const { stdout, stderr } = await runNix(['eval', '--expr', 'builtins.trace "adding" (1 + 2)'], { env, onLog: (chunk) => log.push(chunk) });
    expect(stdout.trim()).toBe('3');
    expect(log.join('')).toBe('trace: adding\n');
    expect(stderr).toBe('trace: adding\n');
  });

  it('fails with the command and Nix’s error lines', async () => {
    const failure = runNix(['eval', '--expr', 'throw "no such thing"'], { env });
    await expect(failure).rejects.toThrow(NixError);
    await expect(failure).rejects.toThrow(/^nix eval failed \(exit code 1\):\nerror: no such thing/);
  });

  it('says how to install Nix when it is not on PATH', async () => {
    await expect(runNix(['--version'], { env: { PATH: '/nonexistent' } })).rejects.toThrow(NixMissingError);
  });

  it('does not start once cancelled', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await expect(runNix(['--version'], { env, signal: controller.signal })).rejects.toThrow('cancelled');
  });

  describe('cancelled during a build', () => {
    it('interrupts Nix, which stops the build, and rejects with the reason', async () => {
      const controller = new AbortController();
      const script = 'echo started; sleep 120; echo > $out';
      const expr = `derivation { name = "long"; system = builtins.currentSystem; builder = "/bin/sh"; PATH = "/usr/bin:/bin"; args = [ "-c" "${script}" ]; }`;
      let abortedAt = 0;
      const build = runNix(['build', '--no-link', '-L', '--impure', '--expr', expr], {
        env,
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

describe('nixErrorLines', () => {
  it.each([
    ['', ''],
    ['copying path x\nerror: it broke\n       because', ':\nerror: it broke\n       because'],
    ['warning: a\nwarning: b', ':\nwarning: a\nwarning: b'],
  ])('%j', (stderr, lines) => {
    expect(nixErrorLines(stderr)).toBe(lines);
  });
});
