/**
 * What is checked before anything is built: that Nix is new enough for the commands used here, and that it can open
 * the binary cache. A Nix built without S3 support (Debian's and Ubuntu's packages) only finds out when it opens an
 * `s3://` store, which would otherwise be after a build of many minutes.
 */
import type { NixCommands } from './nix-commands.js';
import { NixError, nixErrorLines, NixTimeoutError, runNix, type NixOptions } from './nix-process.js';

/** `nix build --json`, `nix path-info --json` with signatures, `nix store sign` and `nix store ping`: Nix 2.4. */
export const MIN_NIX_VERSION = [2, 4] as const;

export interface NixVersion {
  /** The whole first line, such as `nix (Nix) 2.8.0` or `nix (Determinate Nix 3.6.2) 2.29.0`. */
  text: string;
  major: number;
  minor: number;
}

/** The version Nix reports; forks put their own version in brackets and Nix's last. */
export function parseNixVersion(output: string): NixVersion | undefined {
  const text = output.trim().split('\n')[0] ?? '';
  const versions = [...text.matchAll(/(\d+)\.(\d+)(?:\.\d+)?/g)];
  const last = versions[versions.length - 1];
  return last ? { text, major: Number(last[1]), minor: Number(last[2]) } : undefined;
}

export function isSupported(version: NixVersion): boolean {
  const [major, minor] = MIN_NIX_VERSION;
  return version.major > major || (version.major === major && version.minor >= minor);
}

/** Nix 2.19 renamed `nix store ping` to `nix store info` and keeps the old name only as a deprecated alias. */
export function storeInfoCommand(version: NixVersion): 'ping' | 'info' {
  return version.major > 2 || version.minor >= 19 ? 'info' : 'ping';
}

export async function checkNix(options: NixOptions): Promise<NixVersion> {
  const { stdout } = await runNix(['--version'], options);
  const version = parseNixVersion(stdout);
  if (!version) throw new Error(`Could not read the version of Nix from: ${stdout.trim()}`);
  if (!isSupported(version)) {
    throw new Error(`${version.text} is too old: this action needs Nix ${MIN_NIX_VERSION.join('.')} or newer`);
  }
  return version;
}

/** The store URI's scheme (`s3`, `file`), or `local` for a plain path. */
export function storeScheme(uri: string): string {
  return /^([a-z][a-z0-9+.-]*):\/\//.exec(uri)?.[1] ?? 'local';
}

/** Why Nix could not open the store, in the terms of what to do about it. */
export function explainStoreFailure(uri: string, version: NixVersion, stderr: string): string {
  const scheme = storeScheme(uri);
  if (/don't know how to open Nix store/.test(stderr)) {
    if (scheme === 's3') {
      return (
        `${version.text} cannot open the binary cache ${uri}: it was built without S3 support ` +
        `(as the nix packages of Debian and Ubuntu are). Install Nix from nixos.org, for example with ` +
        `cachix/install-nix-action or DeterminateSystems/nix-installer-action.`
      );
    }
    return `${version.text} does not know the store type '${scheme}' of ${uri}.`;
  }
  return `Nix could not open the binary cache ${uri}${nixErrorLines(stderr)}`;
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
 * Before the build, without credentials (none exist yet: see nix-env.ts). `true` when the cache opened; `false` when
 * it is an S3 cache that Nix can open but may need credentials to read, to be checked again with them after the
 * build. A Nix that cannot open the store type, a cache that does not answer, and any other store that fails, fail
 * here, before a build of many minutes.
 */
export async function probeStore(nix: NixCommands, uri: string, version: NixVersion): Promise<boolean> {
  try {
    await nix.ping(uri, storeInfoCommand(version));
    return true;
  } catch (error) {
    const unsupported = error instanceof NixError && /don't know how to open Nix store/.test(error.stderr);
    if (storeScheme(uri) === 's3' && error instanceof NixError && !unsupported) return false;
    throw storeFailure(error, uri, version);
  }
}

function storeFailure(error: unknown, uri: string, version: NixVersion): unknown {
  if (error instanceof NixTimeoutError) return new Error(`Nix could not open the binary cache ${uri}: ${error.message}`);
  return error instanceof NixError ? new Error(explainStoreFailure(uri, version, error.stderr)) : error;
}
