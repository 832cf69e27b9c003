/**
 * The Nix commands of a build-and-push, each run with the same environment and cancellation, and each attempt with
 * a bound. What Nix prints while it builds or uploads goes into a collapsed log group, line by line through
 * shared/log's `foreign`: a builder's output is not the action's to run as workflow commands.
 *
 * Bounds: the local commands ({@link LOCAL_TIMEOUT_MS}), each attempt of a question to the cache (`cacheTimeoutMs`,
 * {@link CACHE_QUERY_RETRY}), each `nix copy` attempt ({@link copyTimeoutMs}, {@link COPY_RETRY}); a build gets
 * what its caller gives it.
 */
import { errorMessage } from '../shared/errors.js';
import * as log from '../shared/log.js';
import { retry, type RetryOptions } from '../shared/retry.js';
import { parseBuildOutput, type Built } from './build-output.js';
import { COPY_RETRY, isTransientCacheFailure } from './copy-retry.js';
import { NixError, runNix, type NixOptions } from './nix-process.js';
import { parsePathInfo, type PathInfo } from './path-info.js';

/** Paths per command line: a NixOS closure has thousands, and Linux limits a command line to about 2 MB. */
export const PATHS_PER_COMMAND = 1_000;

/** `nix --version`, `path-info` of the local store, `store sign`: the local store answers these in seconds. */
export const LOCAL_TIMEOUT_MS = 10 * 60_000;

/** Questions to the cache (`store ping`, `path-info --store`): 3 attempts, with 1 and 2 s (jittered) between them. */
export const CACHE_QUERY_RETRY = { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 2_000, budgetMs: Number.POSITIVE_INFINITY };

/** The slowest upload a `nix copy` attempt is allowed before it counts as hung: 1 MiB of NAR a second. */
export const UPLOAD_FLOOR_BYTES_PER_S = 1024 * 1024;

/** One `nix copy` attempt's bound: the cache timeout, plus the NAR bytes it may upload at the floor rate. */
export function copyTimeoutMs(cacheTimeoutMs: number, narBytes: number): number {
  return cacheTimeoutMs + Math.ceil(narBytes / UPLOAD_FLOOR_BYTES_PER_S) * 1000;
}

/**
 * Settings for every Nix process that talks to the cache. What the cache holds is asked of the cache: Nix's narinfo
 * disk cache would answer from an earlier run for an hour (`narinfo-cache-negative-ttl`) or a month (positive), and
 * a cache emptied since would be reported as holding paths it lost. curl's own bounds end a connection that does not
 * open or a transfer that stalls within the cache timeout (Nix then retries it itself, within the attempt's bound).
 */
export function cacheSettings(cacheTimeoutMs: number): string[] {
  const seconds = String(Math.max(1, Math.ceil(cacheTimeoutMs / 1000)));
  return [
    ['narinfo-cache-positive-ttl', '0'],
    ['narinfo-cache-negative-ttl', '0'],
    ['connect-timeout', seconds],
    ['stalled-download-timeout', seconds],
  ].flatMap(([name, value]) => ['--option', name, value]);
}

/**
 * `nix build` of one installable, its outputs not linked, as JSON. `--no-update-lock-file`: a flake input missing
 * from `flake.lock` (or locked without a `narHash`) is refused rather than fetched, so that a flake cannot have the
 * evaluating Nix, unsandboxed as the runner's user, copy `path:/home/runner/.aws` or any other folder it can read into
 * the store and build it into what is pushed: a locked input's content must match a hash written before the run.
 * `buildArgs` come through the allow-list of build-args.ts.
 */
export function buildCommand(installable: string, buildArgs: string[]): string[] {
  return ['build', '--no-link', '--json', '--print-build-logs', '--no-update-lock-file', ...buildArgs, installable];
}

const UNTRUSTED_HELP =
  'The runner user must be one of the Nix daemon\'s trusted-users to sign store paths: the installer actions ' +
  '(DeterminateSystems/nix-installer-action, cachix/install-nix-action) make it one by default; elsewhere add ' +
  '`trusted-users = root <runner user>` to /etc/nix/nix.conf.';

export interface NixCommandOptions {
  /** The whole environment of every Nix process these commands start (see nix-env.ts). */
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Each attempt of a question to the cache, in milliseconds. */
  cacheTimeoutMs: number;
}

export class NixCommands {
  constructor(private readonly options: NixCommandOptions) {}

  /** Builds one installable within `timeoutMs`, Nix's log streamed into a group; its outputs, not linked. */
  async build(installable: string, buildArgs: string[], timeoutMs: number): Promise<Built> {
    const args = buildCommand(installable, buildArgs);
    const { stdout } = await this.streamed(`Building ${installable}`, args, timeoutMs);
    return parseBuildOutput(stdout, installable);
  }

  /** The closure of `roots` in the local store, with sizes, references and signatures. */
  async closure(roots: string[]): Promise<PathInfo[]> {
    const { stdout } = await runNix(['path-info', '--json', '--recursive', ...roots], this.local());
    return parsePathInfo(stdout);
  }

  /** Opens the store at `uri` as `nix copy` will (`ping` before Nix 2.19, `info` after). */
  async ping(uri: string, storeCommand: 'ping' | 'info'): Promise<void> {
    await this.askCache(`nix store ${storeCommand}`, () => runNix(['store', storeCommand, ...cacheSettings(this.options.cacheTimeoutMs), '--store', uri], this.cache()));
  }

  /** Which of `paths` the store at `uri` has, as the store itself answers now (a binary cache: its narinfo files). */
  async present(uri: string, paths: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const settings = cacheSettings(this.options.cacheTimeoutMs);
    for (const chunk of chunks(paths)) {
      const { stdout } = await this.askCache('nix path-info', () => runNix(['path-info', ...settings, '--json', '--store', uri, ...chunk], this.cache()));
      for (const info of parsePathInfo(stdout)) found.add(info.path);
    }
    return found;
  }

  async sign(keyFile: string, paths: string[]): Promise<void> {
    try {
      for (const chunk of chunks(paths)) await runNix(['store', 'sign', '--key-file', keyFile, ...chunk], this.local());
    } catch (error) {
      // The Nix daemon adds signatures for trusted users only.
      if (error instanceof NixError && /not privileged to add signatures/.test(error.stderr)) {
        throw new Error(`${error.message}\n${UNTRUSTED_HELP}`);
      }
      throw error;
    }
  }

  /**
   * `nix copy` of the closures of `paths`, each attempt within {@link copyTimeoutMs} of the `narBytes` it uploads;
   * again on throttling, transient errors and hung attempts (bounded).
   */
  async copy(uri: string, paths: string[], title: string, narBytes: number): Promise<void> {
    const timeoutMs = copyTimeoutMs(this.options.cacheTimeoutMs, narBytes);
    const args = ['copy', ...cacheSettings(this.options.cacheTimeoutMs), '--to', uri, ...paths];
    await retry(() => this.streamed(title, args, timeoutMs), this.retryOptions('nix copy', COPY_RETRY));
  }

  private askCache<T>(label: string, call: () => Promise<T>): Promise<T> {
    return retry(call, this.retryOptions(label, CACHE_QUERY_RETRY));
  }

  private retryOptions(label: string, policy: Omit<RetryOptions, 'isRetryable'>): RetryOptions {
    return {
      ...policy,
      isRetryable: isTransientCacheFailure,
      signal: this.options.signal,
      onRetry: (error, attempt, delayMs) =>
        log.warning(
          `${label} failed with a transient error (attempt ${attempt} of ${policy.maxAttempts}); ` +
            `retrying in ${(delayMs / 1000).toFixed(1)} s: ${errorMessage(error)}`,
        ),
    };
  }

  private local(): NixOptions {
    return { env: this.options.env, signal: this.options.signal, timeoutMs: LOCAL_TIMEOUT_MS };
  }

  private cache(): NixOptions {
    return { env: this.options.env, signal: this.options.signal, timeoutMs: this.options.cacheTimeoutMs };
  }

  private streamed(title: string, args: string[], timeoutMs: number) {
    return log.group(title, () => log.streamForeign((push) => runNix(args, { ...this.local(), timeoutMs, onLog: push })));
  }
}

function chunks(paths: string[]): string[][] {
  const list: string[][] = [];
  for (let at = 0; at < paths.length; at += PATHS_PER_COMMAND) list.push(paths.slice(at, at + PATHS_PER_COMMAND));
  return list;
}
