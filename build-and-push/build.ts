/** Builds the installables, then reads their closures from the local store in one query. */
import type { Built } from './build-output.js';
import type { NixCommands } from './nix-commands.js';
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

/** One installable at a time (see build-output.ts); Nix still builds each one's derivations in parallel. */
export async function buildAll(nix: NixCommands, installables: string[], buildArgs: string[]): Promise<Builds> {
  const built: Array<Omit<BuildResult, 'closure'>> = [];
  for (const installable of installables) {
    const started = Date.now();
    const result = await nix.build(installable, buildArgs);
    log.info(`Built ${installable}: ${result.storePath}`);
    built.push({ installable, built: result, buildMs: Date.now() - started });
  }
  const infos = byPath(await nix.closure(built.flatMap((item) => item.built.outputs)));
  return { results: built.map((item) => ({ ...item, closure: closureOf(item.built.outputs, infos) })), infos };
}
