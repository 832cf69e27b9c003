/**
 * Which paths each installable's push uploads: those of its closure the cache did not have before the push and
 * that no earlier installable's push uploaded. Everything else in its closure `nix copy` finds in the cache and
 * skips. The totals count each path once, however many closures hold it.
 */

export interface PushPlan {
  /** Per installable, in order: the paths its `nix copy` uploads. */
  uploads: string[][];
  /** Paths of all the closures that the cache lacks. */
  pushed: number;
  /** Paths of all the closures that the cache already had. */
  skipped: number;
}

export function planPush(closures: string[][], inCache: ReadonlySet<string>): PushPlan {
  const planned = new Set<string>();
  const uploads = closures.map((closure) => {
    const upload = closure.filter((path) => !inCache.has(path) && !planned.has(path));
    for (const path of upload) planned.add(path);
    return upload;
  });
  const all = new Set(closures.flat());
  return { uploads, pushed: planned.size, skipped: all.size - planned.size };
}
