/**
 * Everything build-and-push asks of Nix, as child processes: the version check and the cache check before the build,
 * the builds and their closures, the signing and the push. Each command runs with the environment it is given (see
 * `buildEnv`/`cacheEnv` in plan.ts), the step's cancellation, and a bound per attempt. What Nix prints while it builds
 * or uploads goes into a collapsed log group, line by line through shared/log's `foreign`: a builder's output is not
 * the action's to run as workflow commands. These functions return what they learned; main.ts reports it.
 *
 * `node:child_process` and not `@actions/exec`: a cancelled run must stop Nix (an upload or a build can take many
 * minutes), and @actions/exec neither takes an AbortSignal nor hands out the child to signal.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '../shared/actions-core.js';
import { errorMessage } from '../shared/errors.js';
import * as log from '../shared/log.js';
import { retry, type RetryOptions } from '../shared/retry.js';
import { Input } from './inputs.js';
import {
  buildCommand,
  byPath,
  CACHE_QUERY_RETRY,
  cacheSettings,
  closureOf,
  compressionOf,
  copyTimeoutMs,
  COPY_RETRY,
  describeCommand,
  explainStoreFailure,
  firstLine,
  formatSeconds,
  inChunks,
  installableFacts,
  isSupported,
  isTransientNixLog,
  isUnsupportedStore,
  KEY_FILE_STATE,
  keyName,
  MIN_NIX_VERSION,
  narSize,
  nixErrorLines,
  parseBuildOutput,
  parseNixVersion,
  parsePathInfo,
  planPush,
  pushUri,
  storeInfoCommand,
  storeScheme,
  subcommand,
  unsignedBy,
  type BuildAttempt,
  type Built,
  type BuildResult,
  type Builds,
  type InstallableReport,
  type NixVersion,
  type PathInfo,
  type RunReport,
} from './plan.js';

// ---------------------------------------------------------------------------------------------------------------
// One nix process
// ---------------------------------------------------------------------------------------------------------------

/** The experimental features every command here uses, so that the runner's Nix needs no configuration for them. */
export const NIX_FEATURES = ['--extra-experimental-features', 'nix-command flakes'];

/** Enough of Nix's log to show why it failed; a build log can run to gigabytes. */
export const STDERR_TAIL_CHARS = 16_000;

/** After SIGINT (Nix's own interrupt, which stops builds and uploads cleanly), how long before SIGKILL. */
export const KILL_AFTER_MS = 5_000;

/** `nix --version`, `path-info` of the local store, `store sign`: the local store answers these in seconds. */
export const LOCAL_TIMEOUT_MS = 10 * 60_000;

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

const NIX_MISSING =
  'nix is not installed (not found on PATH). Install it in an earlier step, for example with ' +
  'cachix/install-nix-action or DeterminateSystems/nix-installer-action.';

/**
 * Runs `nix <args>` in `options.env`. Its stdout (JSON) is collected; its stderr (Nix's log) is kept as a bounded
 * tail for error messages and, when asked, handed to `onLog` as it comes. Rejects with a {@link NixError} on a
 * non-zero exit, a {@link NixTimeoutError} past `options.timeoutMs`, `signal.reason` when cancelled, a
 * {@link NixMissingError} without `nix` on PATH.
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

/**
 * When a failed `nix copy`, or a question to the cache, is worth running again: a known transient failure in Nix's
 * log (see `isTransientNixLog`), or a hung attempt stopped at its bound: a connection that hangs is usually a
 * connection that broke (a proxy, a NAT table) and the next one works.
 */
export function isTransientCacheFailure(error: unknown): boolean {
  if (error instanceof NixTimeoutError) return true;
  return error instanceof NixError && isTransientNixLog(error.stderr);
}

// ---------------------------------------------------------------------------------------------------------------
// The commands of a run
// ---------------------------------------------------------------------------------------------------------------

const UNTRUSTED_HELP =
  'The runner user must be one of the Nix daemon\'s trusted-users to sign store paths: the installer actions ' +
  '(DeterminateSystems/nix-installer-action, cachix/install-nix-action) make it one by default; elsewhere add ' +
  '`trusted-users = root <runner user>` to /etc/nix/nix.conf.';

export interface NixCommandOptions {
  /** The whole environment of every Nix process these commands start (see `buildEnv`/`cacheEnv` in plan.ts). */
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Each attempt of a question to the cache, in milliseconds. */
  cacheTimeoutMs: number;
}

/**
 * The Nix commands of a build-and-push, each run with the same environment and cancellation, and each attempt with
 * a bound: the local commands ({@link LOCAL_TIMEOUT_MS}), each attempt of a question to the cache (`cacheTimeoutMs`,
 * `CACHE_QUERY_RETRY`), each `nix copy` attempt (`copyTimeoutMs`, `COPY_RETRY`); a build gets what its caller gives
 * it.
 */
export class NixCommands {
  constructor(private readonly options: NixCommandOptions) {}

  /** The step was cancelled: what these commands run is being (or was) interrupted. */
  get aborted(): boolean {
    return this.options.signal?.aborted ?? false;
  }

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
    for (const chunk of inChunks(paths)) {
      const { stdout } = await this.askCache('nix path-info', () => runNix(['path-info', ...settings, '--json', '--store', uri, ...chunk], this.cache()));
      for (const info of parsePathInfo(stdout)) found.add(info.path);
    }
    return found;
  }

  async sign(keyFile: string, paths: string[]): Promise<void> {
    try {
      for (const chunk of inChunks(paths)) await runNix(['store', 'sign', '--key-file', keyFile, ...chunk], this.local());
    } catch (error) {
      // The Nix daemon adds signatures for trusted users only.
      if (error instanceof NixError && /not privileged to add signatures/.test(error.stderr)) {
        throw new Error(`${error.message}\n${UNTRUSTED_HELP}`);
      }
      throw error;
    }
  }

  /**
   * `nix copy` of the closures of `paths`, each attempt within `copyTimeoutMs` of the `narBytes` it uploads; again
   * on throttling, transient errors and hung attempts (bounded).
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

// ---------------------------------------------------------------------------------------------------------------
// Before the build: Nix and the cache
// ---------------------------------------------------------------------------------------------------------------

/**
 * The version of the Nix on PATH; throws when it cannot be read or is older than `MIN_NIX_VERSION`, so that a Nix
 * too old for the commands used here fails before anything is built.
 */
export async function checkNix(options: NixOptions): Promise<NixVersion> {
  const { stdout } = await runNix(['--version'], options);
  const version = parseNixVersion(stdout);
  if (!version) throw new Error(`Could not read the version of Nix from: ${stdout.trim()}`);
  if (!isSupported(version)) {
    throw new Error(`${version.text} is too old: this action needs Nix ${MIN_NIX_VERSION.join('.')} or newer`);
  }
  return version;
}

/** Opens the store as `nix copy` will; fails with what to do about it. */
export async function checkStore(nix: NixCommands, uri: string, version: NixVersion): Promise<void> {
  try {
    await nix.ping(uri, storeInfoCommand(version));
  } catch (error) {
    throw storeFailure(error, uri, version);
  }
}

/**
 * Before the build, without credentials (none exist yet: see `cacheEnv` in plan.ts). `true` when the cache opened;
 * `false` when it is an S3 cache that Nix can open but may need credentials to read, to be checked again with them
 * after the build. A Nix that cannot open the store type (Debian's and Ubuntu's packages have no S3 support, which
 * Nix finds out only when it opens the store), a cache that does not answer, and any other store that fails, fail
 * here, before a build of many minutes.
 */
export async function probeStore(nix: NixCommands, uri: string, version: NixVersion): Promise<boolean> {
  try {
    await nix.ping(uri, storeInfoCommand(version));
    return true;
  } catch (error) {
    if (storeScheme(uri) === 's3' && error instanceof NixError && !isUnsupportedStore(error.stderr)) return false;
    throw storeFailure(error, uri, version);
  }
}

function storeFailure(error: unknown, uri: string, version: NixVersion): unknown {
  if (error instanceof NixTimeoutError) return new Error(`Nix could not open the binary cache ${uri}: ${error.message}`);
  return error instanceof NixError ? new Error(explainStoreFailure(uri, version, error.stderr)) : error;
}

// ---------------------------------------------------------------------------------------------------------------
// The build
// ---------------------------------------------------------------------------------------------------------------

/**
 * Builds the installables, one at a time (see `Built` in plan.ts; Nix still builds each one's derivations in
 * parallel), then reads their closures from the local store in one query. All of them within `timeoutMs` (the
 * `build-timeout` input): each build gets what the ones before it left, and one that runs past it is stopped as a
 * cancellation stops it. Each build's end goes into `attempts` as it happens (built, failed or stopped, with the
 * reason), so that a step that ends in the middle still reports how far it got; the first build that does not
 * finish ends the run with its error, and the installables after it are not built.
 */
export async function buildAll(
  nix: NixCommands,
  installables: string[],
  buildArgs: string[],
  timeoutMs: number,
  attempts: BuildAttempt[] = [],
): Promise<Builds> {
  const deadline = Date.now() + timeoutMs;
  const built: Array<Omit<BuildResult, 'closure'>> = [];
  for (const installable of installables) {
    const started = Date.now();
    const result = await nix.build(installable, buildArgs, Math.max(1, deadline - started)).catch((caught: unknown) => {
      // The whole budget, not what was left of it for this build: the user set the first, never the second.
      const error =
        caught instanceof NixTimeoutError
          ? new Error(`The builds did not finish within '${Input.BuildTimeout}' (${formatSeconds(timeoutMs)}): stopped nix ${caught.command}${nixErrorLines(caught.stderr)}`)
          : caught;
      const stopped = caught instanceof NixTimeoutError || nix.aborted;
      attempts.push({ installable, outcome: stopped ? 'stopped' : 'failed', reason: firstLine(errorMessage(error)), buildMs: Date.now() - started });
      throw error;
    });
    log.info(`Built ${installable}: ${result.storePath}`);
    const buildMs = Date.now() - started;
    attempts.push({ installable, outcome: 'built', storePath: result.storePath, buildMs });
    built.push({ installable, built: result, buildMs });
  }
  const infos = byPath(await nix.closure(built.flatMap((item) => item.built.outputs)));
  return { results: built.map((item) => ({ ...item, closure: closureOf(item.built.outputs, infos) })), infos };
}

// ---------------------------------------------------------------------------------------------------------------
// The push
// ---------------------------------------------------------------------------------------------------------------

export interface KeyFile {
  path: string;
  remove(): Promise<void>;
}

/**
 * The file through which the signing key reaches Nix (`nix store sign --key-file`, `secret-key=` of the store URI).
 * Created readable by the runner user only, with that mode from the start, under RUNNER_TEMP; named in the step's
 * state (`KEY_FILE_STATE`) before it exists, so that the post step removes it even if this process is killed.
 */
export async function writeKeyFile(key: string, env: NodeJS.ProcessEnv = process.env): Promise<KeyFile> {
  const path = join(env.RUNNER_TEMP || tmpdir(), `nix-signing-key-${randomUUID()}`);
  core.saveState(KEY_FILE_STATE, path);
  // `wx`: never through a file or link someone else put there.
  await writeFile(path, key, { mode: 0o600, flag: 'wx' });
  return { path, remove: () => rm(path, { force: true }) };
}

export interface PushTarget {
  storeUri: string;
  compression: string;
  /** Absent for an unsigned push. */
  key?: string;
}

/**
 * Signs what the key has not signed yet and uploads what the cache lacks; what the push did, per installable. The key
 * file exists only for this part of the step, after every build; the post step removes it should this process be
 * killed before it does. `local` runs the Nix commands that need no cache (signing), `cache` those that talk to it,
 * with the push's credentials.
 */
export async function pushClosures(
  nix: { local: NixCommands; cache: NixCommands },
  target: PushTarget,
  builds: Builds,
): Promise<RunReport> {
  const { storeUri, key } = target;
  const { results, infos } = builds;
  const all = [...new Set(results.flatMap((item) => item.closure))];
  const keyFile = key ? await writeKeyFile(key) : undefined;
  try {
    if (key && keyFile) {
      const unsigned = unsignedBy(keyName(key), all, infos);
      log.info(`Signing ${unsigned.length} of ${all.length} store paths with the key ${keyName(key)}.`);
      if (unsigned.length > 0) await nix.local.sign(keyFile.path, unsigned);
    }
    const plan = planPush(
      results.map((item) => item.closure),
      await nix.cache.present(storeUri, all),
    );
    log.info(`The cache lacks ${plan.pushed} of the ${all.length} store paths.`);
    const uri = pushUri(storeUri, { compression: target.compression, keyFile: keyFile?.path });
    const installables: InstallableReport[] = [];
    for (const [i, item] of results.entries()) {
      const upload = plan.uploads[i];
      const started = Date.now();
      // Nix copies the closure of what it is given and skips the paths the cache has.
      const uploadedBytes = narSize(upload, infos);
      if (upload.length > 0) await nix.cache.copy(uri, item.built.outputs, `Uploading ${item.installable} to ${storeUri}`, uploadedBytes);
      installables.push({
        ...installableFacts(item, infos),
        uploaded: upload.length,
        uploadedBytes,
        skipped: item.closure.length - upload.length,
        pushMs: Date.now() - started,
      });
    }
    return {
      installables,
      closureBytes: narSize(all, infos),
      pushed: plan.pushed,
      skipped: plan.skipped,
      push: { storeUri, compression: compressionOf(uri), keyName: key ? keyName(key) : undefined },
    };
  } finally {
    await keyFile?.remove();
  }
}
