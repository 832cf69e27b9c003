/** Builds the installables, then reads their closures from the local store in one query. */
import type { Built } from './build-output.js';
import { Input } from './inputs.js';
import type { NixCommands } from './nix-commands.js';
import { formatSeconds, nixErrorLines, NixTimeoutError } from './nix-process.js';
import { byPath, closureOf, type PathInfo } from './path-info.js';
import * as log from '../shared/log.js';

export interface BuildResult {
  installable: string;
  built: Built;
  /** Every output's closure together. */
  closure: string[];
  buildMs: number;
}

export interface Builds {
  results: BuildResult[];
  /** Every path of every closure. */
  infos: ReadonlyMap<string, PathInfo>;
}

/**
 * One installable at a time (see build-output.ts); Nix still builds each one's derivations in parallel. All of them
 * within `timeoutMs` (the `build-timeout` input): each build gets what the ones before it left, and one that runs
 * past it is stopped as a cancellation stops it.
 */
export async function buildAll(nix: NixCommands, installables: string[], buildArgs: string[], timeoutMs: number): Promise<Builds> {
  const deadline = Date.now() + timeoutMs;
  const built: Array<Omit<BuildResult, 'closure'>> = [];
  for (const installable of installables) {
    const started = Date.now();
    const result = await nix.build(installable, buildArgs, Math.max(1, deadline - started)).catch((error: unknown) => {
      if (!(error instanceof NixTimeoutError)) throw error;
      // The whole budget, not what was left of it for this build: the user set the first, never the second.
      throw new Error(`The builds did not finish within '${Input.BuildTimeout}' (${formatSeconds(timeoutMs)}): stopped nix ${error.command}${nixErrorLines(error.stderr)}`);
    });
    log.info(`Built ${installable}: ${result.storePath}`);
    built.push({ installable, built: result, buildMs: Date.now() - started });
  }
  const infos = byPath(await nix.closure(built.flatMap((item) => item.built.outputs)));
  return { results: built.map((item) => ({ ...item, closure: closureOf(item.built.outputs, infos) })), infos };
}
