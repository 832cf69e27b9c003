/**
 * What `nix path-info --json` says about store paths, and the closures, sizes and signatures read from it.
 * Nix before 2.19 answers an array of objects with a `path` (`"valid": false` for a path the store lacks); 2.19 and
 * later an object keyed by path (`null` for a missing one). Both are read.
 */

export interface PathInfo {
  path: string;
  /** Bytes of the uncompressed NAR. */
  narSize: number;
  /** Full store paths, the path itself included when it refers to itself. */
  references: string[];
  /** `keyname:base64`, one per key that signed the path. */
  signatures: string[];
}

type RawInfo = { path?: string; valid?: boolean; narSize?: number; references?: string[]; signatures?: string[] } | null;

/** The paths the store has; the ones it lacks are left out. */
export function parsePathInfo(json: string): PathInfo[] {
  const parsed = JSON.parse(json) as RawInfo[] | Record<string, RawInfo>;
  const entries: Array<[string | undefined, RawInfo]> = Array.isArray(parsed)
    ? parsed.map((raw) => [raw?.path, raw])
    : Object.entries(parsed);
  const infos: PathInfo[] = [];
  for (const [path, raw] of entries) {
    if (!path || !raw || raw.valid === false) continue;
    infos.push({
      path,
      narSize: raw.narSize ?? 0,
      references: raw.references ?? [],
      signatures: raw.signatures ?? [],
    });
  }
  return infos;
}

/** The closure of `roots`, in the order first reached; every path must be in `infos` (Nix's `--recursive`). */
export function closureOf(roots: string[], infos: ReadonlyMap<string, PathInfo>): string[] {
  const seen = new Set<string>(roots);
  // Breadth first; a Set iterates over what is added while iterating.
  for (const path of seen) {
    const info = infos.get(path);
    if (!info) throw new Error(`nix path-info did not describe ${path}, a path in the closure`);
    for (const reference of info.references) seen.add(reference);
  }
  return [...seen];
}

export function narSize(paths: Iterable<string>, infos: ReadonlyMap<string, PathInfo>): number {
  let total = 0;
  for (const path of paths) total += infos.get(path)?.narSize ?? 0;
  return total;
}

/** The name in a `name:base64` key or signature: Nix's `trusted-public-keys` match signatures by it. */
export function keyName(keyOrSignature: string): string {
  return keyOrSignature.slice(0, keyOrSignature.indexOf(':'));
}

/** The paths without a signature by the key named `name`: the ones `nix store sign` has something to do for. */
export function unsignedBy(name: string, paths: string[], infos: ReadonlyMap<string, PathInfo>): string[] {
  return paths.filter((path) => !infos.get(path)?.signatures.some((signature) => keyName(signature) === name));
}

export function byPath(infos: PathInfo[]): Map<string, PathInfo> {
  return new Map(infos.map((info) => [info.path, info]));
}
