/**
 * The store URI `nix copy` pushes to: the user's (a binary cache, see `checkStoreUri` in inputs.ts), with the
 * compression and the key file added as Nix's store settings.
 */

/** `compression` unless the URI sets its own; `secret-key` percent-encoded, as Nix decodes store settings. */
export function pushUri(uri: string, options: { compression: string; keyFile?: string }): string {
  const at = uri.indexOf('?');
  const base = at < 0 ? uri : uri.slice(0, at);
  const params = at < 0 ? [] : uri.slice(at + 1).split('&').filter((param) => param !== '');
  if (!params.some((param) => param.startsWith('compression='))) params.push(`compression=${options.compression}`);
  if (options.keyFile) params.push(`secret-key=${encodeURIComponent(options.keyFile)}`);
  return `${base}?${params.join('&')}`;
}

/** The NAR compression the URI sets. */
export function compressionOf(uri: string): string | undefined {
  return /[?&]compression=([^&]*)/.exec(uri)?.[1];
}
