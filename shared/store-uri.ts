/**
 * The one rule for Nix store URIs that reach a deploy: a scheme, a location, and only the settings on an allow-list.
 *
 * A store URI's query parameters are Nix store settings (`?trusted=1`, `secret-key=...`, `want-mass-query=...`):
 * `trusted` makes a substituter's paths acceptable with no valid signature at all, so an unknown setting is
 * refused rather than filtered (Nix: `StoreReference`/`decodeQuery`; settings are documented per store type in
 * `nix help-stores`). The same regular expressions are written into the `NixOS-Deploy` document (`allowedPattern`
 * and its script) and into `instance-refresh/user-data.sh`; tests keep every copy equal to these sources. They use
 * only syntax that JavaScript, Java (SSM's API check), Go RE2 (the SSM agent) and bash's ERE agree on.
 */

/** Settings an instance may give a substituter it fetches from: where it is and how it is ordered, nothing more. */
export const SUBSTITUTER_SETTINGS = ['region', 'endpoint', 'scheme', 'profile', 'priority'] as const;

/**
 * Settings build-and-push may give the cache it writes to: where it is and how objects are compressed. The
 * signing key is the action's own (`secret-key` is refused), and nothing may weaken what readers check.
 */
export const PUSH_SETTINGS = [
  'region',
  'endpoint',
  'scheme',
  'profile',
  'compression',
  'parallel-compression',
  'compression-level',
  'multipart-upload',
  'write-nar-listing',
  'ls-compression',
  'narinfo-compression',
  'log-compression',
] as const;

/** Schemes of binary caches an instance fetches from. */
export const SUBSTITUTER_SCHEMES = ['s3', 'https', 'http', 'file'] as const;

/** Characters of the location and of a setting's value: no quoting, no expansion, no `?`, `&`, `=` or `#`. */
const URI_CHARS = "[A-Za-z0-9._~:/%+,@-]";

/** Names here are lower-case words and hyphens, so they need no escaping in any of the four dialects. */
function alternatives(words: readonly string[]): string {
  return `(${words.join('|')})`;
}

/** Regular-expression source (no anchors, no flags) of one store URI with settings from `settings`. */
export function storeUriSource(schemes: readonly string[], settings: readonly string[]): string {
  const setting = `${alternatives(settings)}=${URI_CHARS}*`;
  return `${alternatives(schemes)}://${URI_CHARS}+([?]${setting}(&${setting})*)?`;
}

/** One substituter, as ssm-deploy's `substituters`, the `Substituters` tag and both instance scripts accept it. */
export const SUBSTITUTER_SOURCE = storeUriSource(SUBSTITUTER_SCHEMES, SUBSTITUTER_SETTINGS);
export const SUBSTITUTER = new RegExp(`^${SUBSTITUTER_SOURCE}$`);
export const SUBSTITUTER_FORM =
  `a binary cache URI (${SUBSTITUTER_SCHEMES.join(', ')}) with no settings but ` +
  `${SUBSTITUTER_SETTINGS.join(', ')}, such as s3://bucket?region=eu-central-1`;

/** Space-separated substituters, or nothing: the document parameter's `allowedPattern` and the tag value. */
export const SUBSTITUTER_LIST_SOURCE = `^$|^${SUBSTITUTER_SOURCE}( ${SUBSTITUTER_SOURCE})*$`;

/**
 * One Nix public key, `name:` and 32 bytes of Ed25519 key in base64, as ssm-deploy's `trusted-public-keys`, the
 * `TrustedPublicKeys` tag and both instance scripts accept it. Nix takes any name without `:`; this rule keeps names
 * to characters that are inert everywhere a key goes (bash words and patterns, JSON strings, the four regular
 * expression dialects): letters, digits and `. _ + @ -`, which cover names like `cache.nixos.org-1` and
 * `deploy@example.org-1`.
 */
export const PUBLIC_KEY_SOURCE = '[A-Za-z0-9._+@-]+:[A-Za-z0-9+/]{43}=';
export const PUBLIC_KEY = new RegExp(`^${PUBLIC_KEY_SOURCE}$`);
export const PUBLIC_KEY_FORM = 'a Nix public key, name:<44 characters of base64> (name from A-Z a-z 0-9 . _ + @ -)';
/** Space-separated public keys, or nothing: the document parameter's `allowedPattern`. */
export const PUBLIC_KEY_LIST_SOURCE = `^$|^${PUBLIC_KEY_SOURCE}( ${PUBLIC_KEY_SOURCE})*$`;

/** Schemes build-and-push writes to (Nix's binary cache stores, and a local store by path). */
export const PUSH_SCHEMES = ['s3', 'https', 'http', 'file'] as const;
export const PUSH_STORE_URI = new RegExp(`^${storeUriSource(PUSH_SCHEMES, PUSH_SETTINGS)}$`);
export const PUSH_STORE_URI_FORM =
  `a binary cache URI (${PUSH_SCHEMES.join(', ')}) with no settings but ${PUSH_SETTINGS.join(', ')}, ` +
  'such as s3://bucket?region=eu-central-1';

/**
 * The settings of `uri` that are not in `allowed`, decoded as Nix decodes them, for a message that names them.
 * Shape: `['trusted', 'secret-key']`; `[]` when every setting is allowed or there is no query.
 */
export function refusedSettings(uri: string, allowed: readonly string[]): string[] {
  const query = uri.includes('?') ? uri.slice(uri.indexOf('?') + 1) : '';
  if (!query) return [];
  const names = query.split('&').map((pair) => {
    const name = pair.split('=')[0];
    try {
      return decodeURIComponent(name);
    } catch {
      return name;
    }
  });
  return [...new Set(names.filter((name) => !allowed.includes(name)))];
}

/**
 * For a message about a refused store URI: `' (it sets "trusted", which a deploy never sets)'` naming every setting
 * not in `allowed` (JSON-quoted: a decoded name is foreign text), or `''` when the URI is refused for another reason.
 */
export function refusedSettingsNote(uri: string, allowed: readonly string[]): string {
  const refused = refusedSettings(uri, allowed).map((name) => JSON.stringify(name));
  return refused.length > 0 ? ` (it sets ${refused.join(', ')}, which a deploy never sets)` : '';
}
