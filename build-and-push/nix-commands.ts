/**
 * The Nix commands of a build-and-push, each run with the same environment and cancellation. What Nix prints while
 * it builds or uploads goes into a collapsed log group, line by line through shared/log's `foreign`: a builder's
 * output is not the action's to run as workflow commands.
 */
import { errorMessage } from '../shared/errors.js';
import * as log from '../shared/log.js';
import { retry } from '../shared/retry.js';
import { parseBuildOutput, type Built } from './build-output.js';
import { COPY_RETRY, isTransientCopyFailure } from './copy-retry.js';
import { NixError, runNix, type NixOptions } from './nix-process.js';
import { parsePathInfo, type PathInfo } from './path-info.js';

/** Paths per command line: a NixOS closure has thousands, and Linux limits a command line to about 2 MB. */
export const PATHS_PER_COMMAND = 1_000;

const UNTRUSTED_HELP =
  'The runner user must be one of the Nix daemon\'s trusted-users to sign store paths: the installer actions ' +
  '(DeterminateSystems/nix-installer-action, cachix/install-nix-action) make it one by default; elsewhere add ' +
  '`trusted-users = root <runner user>` to /etc/nix/nix.conf.';

export class NixCommands {
  constructor(private readonly options: NixOptions) {}

  /** Builds one installable, Nix's log streamed into a group; its outputs, not linked as `result`. */
  async build(installable: string, buildArgs: string[]): Promise<Built> {
    const args = ['build', '--no-link', '--json', '--print-build-logs', ...buildArgs, installable];
    const { stdout } = await this.streamed(`Building ${installable}`, args);
    return parseBuildOutput(stdout, installable);
  }

  /** The closure of `roots` in the local store, with sizes, references and signatures. */
  async closure(roots: string[]): Promise<PathInfo[]> {
    const { stdout } = await runNix(['path-info', '--json', '--recursive', ...roots], this.options);
    return parsePathInfo(stdout);
  }

  /** Which of `paths` the store at `uri` has (a binary cache answers from its narinfo files). */
  async present(uri: string, paths: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const chunk of chunks(paths)) {
      const { stdout } = await runNix(['path-info', '--json', '--store', uri, ...chunk], this.options);
      for (const info of parsePathInfo(stdout)) found.add(info.path);
    }
    return found;
  }

  async sign(keyFile: string, paths: string[]): Promise<void> {
    try {
      for (const chunk of chunks(paths)) await runNix(['store', 'sign', '--key-file', keyFile, ...chunk], this.options);
    } catch (error) {
      // The Nix daemon adds signatures for trusted users only.
      if (error instanceof NixError && /not privileged to add signatures/.test(error.stderr)) {
        throw new Error(`${error.message}\n${UNTRUSTED_HELP}`);
      }
      throw error;
    }
  }

  /** `nix copy` of the closures of `paths`, again on S3 throttling and transient errors (bounded). */
  async copy(uri: string, paths: string[], title: string): Promise<void> {
    await retry(() => this.streamed(title, ['copy', '--to', uri, ...paths]), {
      ...COPY_RETRY,
      isRetryable: isTransientCopyFailure,
      signal: this.options.signal,
      onRetry: (error, attempt, delayMs) =>
        log.warning(
          `nix copy failed with a transient error (attempt ${attempt} of ${COPY_RETRY.maxAttempts}); ` +
            `retrying in ${(delayMs / 1000).toFixed(1)} s: ${errorMessage(error)}`,
        ),
    });
  }

  private streamed(title: string, args: string[]) {
    return log.group(title, () => log.streamForeign((push) => runNix(args, { ...this.options, onLog: push })));
  }
}

function chunks(paths: string[]): string[][] {
  const list: string[][] = [];
  for (let at = 0; at < paths.length; at += PATHS_PER_COMMAND) list.push(paths.slice(at, at + PATHS_PER_COMMAND));
  return list;
}
