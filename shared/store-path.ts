/**
 * A full Nix store path: `/nix/store/`, 32 characters of Nix's base32 (no e, o, u, t), `-`, a name of at most 211
 * characters from Nix's set. The instance side (user data, SSM document) checks tag and parameter values against
 * this same pattern.
 */
export const STORE_PATH = /^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]{1,211}$/;

export const STORE_PATH_FORM = 'a full store path, /nix/store/<32-character hash>-<name>';
