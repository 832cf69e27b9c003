/**
 * The store URI `nix copy` pushes to: the user's, with the compression and the key file added as Nix's store
 * parameters. Only binary caches take them (a `local` or `ssh-ng` store gets the signatures `nix store sign` made).
 */

/** The schemes of Nix's binary cache stores, whose narinfos carry the signatures and whose NARs are compressed. */
const BINARY_CACHE_SCHEMES = new Set(['file', 's3', 'http', 'https']);

export function isBinaryCache(uri: string): boolean {
  return BINARY_CACHE_SCHEMES.has(/^([a-z][a-z0-9+.-]*):\/\//.exec(uri)?.[1] ?? '');
}

/** `compression` unless the URI sets its own; `secret-key` percent-encoded, as Nix decodes store parameters. */
export function pushUri(uri: string, options: { compression: string; keyFile?: string }): string {
  if (!isBinaryCache(uri)) return uri;
  const at = uri.indexOf('?');
  const base = at < 0 ? uri : uri.slice(0, at);
  const params = at < 0 ? [] : uri.slice(at + 1).split('&').filter((param) => param !== '');
  if (!params.some((param) => param.startsWith('compression='))) params.push(`compression=${options.compression}`);
  if (options.keyFile) params.push(`secret-key=${encodeURIComponent(options.keyFile)}`);
  return `${base}?${params.join('&')}`;
}

/** The NAR compression the URI sets; `undefined` for a store that does not compress. */
export function compressionOf(uri: string): string | undefined {
  return /[?&]compression=([^&]*)/.exec(uri)?.[1];
}
