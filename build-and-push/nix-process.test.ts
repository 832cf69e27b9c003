import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { tempNix, type TempNix } from './fixtures/temp-nix.js';
import { SIGTERM_AFTER_MS } from '../test/harness/runner.js';
import { describeCommand, formatSeconds, NixError, nixErrorLines, NixMissingError, NixTimeoutError, runNix } from './nix-process.js';

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

describe('describeCommand', () => {
  it.each([
    [['store', 'ping', '--option', 'connect-timeout', '5', '--store', 'http://127.0.0.1:9/?compression=zstd'], 'store ping --store http://127.0.0.1:9/'],
    [['copy', '--to', 's3://cache?region=eu-west-1&secret-key=%2Ftmp%2Fk', '/nix/store/a-b'], 'copy --to s3://cache'],
    [['build', '--no-link', '--json', '.#web'], 'build .#web'],
    [['path-info', '--json', '--recursive', '/nix/store/a-b'], 'path-info'],
    [['--version'], '--version'],
  ])('%j is %s', (args, text) => {
    expect(describeCommand(args)).toBe(text);
  });
});

describe('formatSeconds', () => {
  it.each([
    [500, '0.5 s'],
    [4_000, '4 s'],
    [90_000, '90 s'],
    [120_000, '2 min'],
    [18_000_000, '300 min'],
  ])('%i ms is %s', (ms, text) => {
    expect(formatSeconds(ms)).toBe(text);
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
