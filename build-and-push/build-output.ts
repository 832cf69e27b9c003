/**
 * The store paths `nix build --json` built for one installable. Each installable is built on its own: older Nix
 * (2.8, for one) answers for several as a sorted set, not in the order given, so the answer could not be matched
 * back. `--json` and not `--print-out-paths`, which Nix 2.8 does not have.
 */

export interface Built {
  /** The installable's main output: `out` where there is one, as `nix build` links `result` to it. */
  storePath: string;
  /** Every output built, the main one first. */
  outputs: string[];
}

type BuildEntry = { outputs?: Record<string, string>; path?: string };

export function parseBuildOutput(json: string, installable: string): Built {
  const entries = JSON.parse(json) as BuildEntry[];
  const outputs: string[] = [];
  for (const entry of Array.isArray(entries) ? entries : []) {
    // A store path given as the installable comes back as `path`; a derivation's outputs by name.
    if (entry.path) outputs.push(entry.path);
    const named = Object.entries(entry.outputs ?? {}).sort(([a], [b]) => (a === 'out' ? -1 : b === 'out' ? 1 : a.localeCompare(b)));
    outputs.push(...named.map(([, path]) => path));
  }
  if (outputs.length === 0) throw new Error(`nix build reported no output paths for ${installable}: ${json.trim()}`);
  return { storePath: outputs[0], outputs: [...new Set(outputs)] };
}
