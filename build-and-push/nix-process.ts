/**
 * Runs one `nix` command as a child process. Its stdout (JSON) is collected; its stderr (Nix's log) is kept as a
 * bounded tail for error messages and, when asked, copied to the step log as it comes.
 *
 * `node:child_process` and not `@actions/exec`: a cancelled run must stop Nix (an upload or a build can take many
 * minutes), and @actions/exec neither takes an AbortSignal nor hands out the child to signal.
 */
import { spawn } from 'node:child_process';

/** The experimental features every command here uses, so that the runner's Nix needs no configuration for them. */
export const NIX_FEATURES = ['--extra-experimental-features', 'nix-command flakes'];

/** Enough of Nix's log to show why it failed; a build log can run to gigabytes. */
export const STDERR_TAIL_CHARS = 16_000;

/** After SIGINT (Nix's own interrupt, which stops builds and uploads cleanly), how long before SIGKILL. */
export const KILL_AFTER_MS = 5_000;

export interface NixOptions {
  /** The child's whole environment. */
  env: NodeJS.ProcessEnv;
  /**
   * This attempt's bound, in milliseconds: past it Nix is interrupted as on cancellation (SIGINT, then SIGKILL
   * {@link KILL_AFTER_MS} later) and the call rejects with a {@link NixTimeoutError}.
   */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Where Nix's log goes as it comes; by default it is only kept for the error message. */
  onLog?: (chunk: string) => void;
}

export interface NixOutput {
  stdout: string;
  /** The last {@link STDERR_TAIL_CHARS} characters of Nix's log. */
  stderr: string;
}

/** `nix` exited non-zero; `stderr` is the tail of its log, which ends with Nix's `error:` lines. */
export class NixError extends Error {
  override readonly name = 'NixError';

  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`nix ${command} failed (${exitCode === null ? 'killed' : `exit code ${exitCode}`})${nixErrorLines(stderr)}`);
  }
}

/** `nix` ran past its {@link NixOptions.timeoutMs} and was stopped; `stderr` is the tail of its log so far. */
export class NixTimeoutError extends Error {
  override readonly name = 'NixTimeoutError';

  constructor(
    readonly command: string,
    readonly timeoutMs: number,
    readonly stderr: string,
  ) {
    super(`nix ${command} did not finish within ${formatSeconds(timeoutMs)}: stopped it${nixErrorLines(stderr)}`);
  }
}

/** `nix` is not on PATH. */
export class NixMissingError extends Error {
  override readonly name = 'NixMissingError';
}

/**
 * Runs `nix <args>` in `options.env`. Rejects with a {@link NixError} on a non-zero exit, a {@link NixTimeoutError}
 * past `options.timeoutMs`, `signal.reason` when cancelled, a {@link NixMissingError} without `nix` on PATH.
 */
export function runNix(args: string[], options: NixOptions): Promise<NixOutput> {
  const { signal, onLog } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const child = spawn('nix', [...NIX_FEATURES, ...args], { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const interrupt = () => {
      if (killer) return;
      child.kill('SIGINT');
      killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    };
    const deadline = setTimeout(() => {
      timedOut = true;
      interrupt();
    }, options.timeoutMs);
    signal?.addEventListener('abort', interrupt, { once: true });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
      onLog?.(chunk);
    });
    const settle = () => {
      clearTimeout(deadline);
      clearTimeout(killer);
      signal?.removeEventListener('abort', interrupt);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      settle();
      reject(error.code === 'ENOENT' ? new NixMissingError(NIX_MISSING) : error);
    });
    child.on('close', (code) => {
      settle();
      if (signal?.aborted) reject(signal.reason);
      else if (timedOut) reject(new NixTimeoutError(describeCommand(args), options.timeoutMs, stderr));
      else if (code === 0) resolve({ stdout, stderr });
      else reject(new NixError(subcommand(args), code, stderr));
    });
  });
}

/** `build`, `store ping`, `path-info`: the subcommand, which is all a failure message needs. */
function subcommand(args: string[]): string {
  return args[0] === 'store' ? `store ${args[1]}` : args[0];
}

/**
 * The subcommand and the cache it talks to (`store ping --store http://cache`, `copy --to s3://bucket`), without the
 * URI's settings, or the installable of a build: enough to say which call hung.
 */
export function describeCommand(args: string[]): string {
  const at = args.findIndex((arg) => arg === '--store' || arg === '--to');
  if (at >= 0 && args[at + 1]) return `${subcommand(args)} ${args[at]} ${args[at + 1].split('?')[0]}`;
  return args[0] === 'build' ? `build ${args[args.length - 1]}` : subcommand(args);
}

/** `90 s`, `2.5 s`, `5 min`: a bound as a person would say it. */
export function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  if (seconds >= 120 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}

const NIX_MISSING =
  'nix is not installed (not found on PATH). Install it in an earlier step, for example with ' +
  'cachix/install-nix-action or DeterminateSystems/nix-installer-action.';

/** `:` and Nix's own `error:` lines (with what follows them), else the last lines of its log; `''` for no log. */
export function nixErrorLines(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  const first = lines.findIndex((line) => /^error\b/.test(line));
  const shown = (first >= 0 ? lines.slice(first) : lines).slice(-15).join('\n').trim();
  return shown ? `:\n${shown}` : '';
}
