/**
 * The environments of the `nix` child processes. What a build runs is code from outside: a fixed-output derivation
 * reads the variables its `impureEnvVars` names from the environment of the Nix that builds it (single-user Nix:
 * this child's), and an `--impure` evaluation reads any variable with `builtins.getEnv`, then can put it into a
 * store path that this action signs and pushes. So no Nix process gets this step's secrets in its environment, and
 * only the processes that talk to the cache get AWS credentials, after every build has ended.
 */
import type { RoleCredentials } from '../shared/assume-role-with-oidc.js';

/**
 * Variables no `nix` process of this step gets: the step's inputs (the signing key is one) and saved state, AWS
 * settings and credentials of every kind (keys, profiles, web identity and container credential sources), the
 * runner's tokens (the OIDC token request, the runtime and cache tokens), GitHub tokens, and the file-command
 * files through which a process could set later steps' environment, outputs or PATH.
 */
const WITHHELD = [
  /^INPUT_/,
  /^STATE_/,
  /^AWS_/,
  /^ACTIONS_/,
  /^(?:GITHUB_TOKEN|GH_TOKEN|GH_ENTERPRISE_TOKEN|GITHUB_ENTERPRISE_TOKEN)$/,
  /^GITHUB_(?:ENV|OUTPUT|PATH|STATE|STEP_SUMMARY)$/,
];

export function isWithheld(name: string): boolean {
  return WITHHELD.some((pattern) => pattern.test(name.toUpperCase()));
}

/**
 * Settings appended to every Nix process's `NIX_CONFIG`, after the step's own lines and so over them and over every
 * nix.conf (Nix applies `NIX_CONFIG` last, and a later line wins): evaluation stays pure, a flake's `nixConfig` is
 * not applied, and no builtin runs programs at evaluation. The evaluating `nix` runs unsandboxed as the runner's user
 * and could otherwise read this step's secrets from its parent's /proc environ (see build-args.ts). `sandbox` is
 * left to the runner's configuration: a container often cannot have it (README, "What the builds can see").
 */
export const PROTECTED_SETTINGS = [
  'pure-eval = true',
  'accept-flake-config = false',
  'allow-unsafe-native-code-during-evaluation = false',
].join('\n');

/** `NIX_CONFIG` of `env` with {@link PROTECTED_SETTINGS} after it. */
export function protectedNixConfig(nixConfig: string | undefined): string {
  return nixConfig ? `${nixConfig}\n${PROTECTED_SETTINGS}` : PROTECTED_SETTINGS;
}

/**
 * For `nix build` and every other Nix process that does not talk to the cache: the environment without secrets, and
 * `NIX_CONFIG` with {@link PROTECTED_SETTINGS} last.
 */
export function buildEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const kept = Object.fromEntries(Object.entries(env).filter(([name]) => !isWithheld(name)));
  return { ...kept, NIX_CONFIG: protectedNixConfig(env.NIX_CONFIG) };
}

/**
 * Whose AWS credentials a cache-side Nix process gets: the assumed role's, the step's own `AWS_*` variables (from an
 * earlier assume-role step, say), or none (before the build, when no credentials exist yet).
 */
export type CacheCredentials = RoleCredentials | 'step' | 'none';

/**
 * For the Nix processes that talk to the cache (`store ping`, `path-info --store`, `copy`): {@link buildEnv}, the
 * AWS credentials of `credentials` (Nix's S3 client reads them from its environment first), and `XDG_CACHE_HOME`
 * set to `cacheDir`, a folder of this run's own: Nix remembers for a week that a cache exists, and then neither
 * reads nor writes its `nix-cache-info`, in `$XDG_CACHE_HOME/nix`, which a self-hosted runner keeps between runs.
 */
export function cacheEnv(env: NodeJS.ProcessEnv, cacheDir: string, credentials: CacheCredentials): NodeJS.ProcessEnv {
  let aws: NodeJS.ProcessEnv = {};
  if (credentials === 'step') aws = Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith('AWS_')));
  else if (credentials !== 'none') {
    aws = {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
    };
  }
  return { ...buildEnv(env), ...aws, XDG_CACHE_HOME: cacheDir };
}
