/**
 * The decisions of build-and-push, all pure: which build arguments pass, the Nix command lines and their bounds, the
 * environments the Nix processes get, what Nix's answers mean (build outputs, path info, versions, failures), which
 * paths each push uploads and signs, and what the step outputs. The processes that carry them out are in nix.ts.
 */
import type { RoleCredentials } from '../shared/assume-role-with-oidc.js';
import { shown } from '../shared/inputs.js';

// ---------------------------------------------------------------------------------------------------------------
// Build arguments
// ---------------------------------------------------------------------------------------------------------------

/*
 * Which `build-args` a build may be given. The `nix` that evaluates runs unsandboxed, as the runner's user, next to
 * this step's process, whose environment (readable as `/proc/<ppid>/environ`) holds the signing key input, the OIDC
 * token request and the runner's tokens, none of which any scrubbing of the child's environment can hide. Only pure
 * flake evaluation (no `readFile` of /proc, no `getEnv`, `fetchurl` only with a known hash) keeps them out of a
 * store path this step signs and pushes. So the arguments are an allow-list of `nix build` flags (Nix 2.8+) that
 * neither make evaluation impure nor weaken the build sandbox nor let the flake set options: anything else, unknown
 * flags included, is refused, with the reason for the known dangerous ones.
 */

/** Allowed flags and the number of values each takes. */
const ALLOWED: Readonly<Record<string, number>> = {
  '-L': 0,
  '--print-build-logs': 0,
  '-k': 0,
  '--keep-going': 0,
  '--show-trace': 0,
  '--fallback': 0,
  '--no-update-lock-file': 0,
  '--no-write-lock-file': 0,
  '--offline': 0,
  '--refresh': 0,
  '--rebuild': 0,
  '-v': 0,
  '--verbose': 0,
  '--quiet': 0,
  '-j': 1,
  '--max-jobs': 1,
  '--cores': 1,
  '--system': 1,
  '--override-input': 2,
};

/** What the values of a flag must look like: none may pass for a flag, none may hold spaces (see {@link splitBuildArgs}). */
const VALUE: Readonly<Record<string, RegExp>> = {
  '-j': /^(?:\d{1,4}|auto)$/,
  '--max-jobs': /^(?:\d{1,4}|auto)$/,
  '--cores': /^\d{1,4}$/,
  '--system': /^[a-z0-9_]+-[a-z0-9_]+$/,
  '--override-input': /^[^-\s]\S*$/,
};

/** The refused flags a user is likely to reach for, and why each is refused. */
const REFUSED: ReadonlyArray<[RegExp, string]> = [
  [/^--impure$/, 'impure evaluation can read the environment of this step, and its signing key, through /proc'],
  [/^(?:--file|-f|--expr)$/, 'a non-flake expression is evaluated impurely; give flake references as installables'],
  [/^(?:--arg|--argstr|--include|-I)$/, 'it only means something in impure evaluation or a NIX_PATH lookup'],
  [/^--(?:no-)?pure-eval$/, 'evaluation is always pure here'],
  [/^--(?:no-)?sandbox$|^--sandbox-/, 'the build sandbox keeps builders away from this step'],
  [/^--(?:no-)?accept-flake-config$/, "a flake's nixConfig must not set Nix options for this step"],
  [/^--option$/, 'a Nix option can turn off the protections of evaluation and the sandbox'],
  [/^--extra-/, 'a Nix option can turn off the protections of evaluation and the sandbox'],
  [/^--(?:eval-)?store$/, 'the build must use the runner\'s store'],
];

const EXAMPLE: Readonly<Record<string, string>> = {
  '-j': '4 or auto',
  '--max-jobs': '4 or auto',
  '--cores': '2',
  '--system': 'aarch64-linux',
  '--override-input': 'nixpkgs github:NixOS/nixpkgs/nixos-25.05',
};

/**
 * The arguments of the `build-args` input: its lines split at whitespace (`--max-jobs 4` on one line, or the flag
 * and its value on two). No allowed value holds a space.
 */
export function splitBuildArgs(lines: string[]): string[] {
  return lines.flatMap((line) => line.split(/\s+/)).filter((word) => word !== '');
}

/**
 * Why `args` are not build arguments this action passes to `nix build`, or `undefined` when every one is allowed.
 * Shape: `'refuses "--impure": impure evaluation can read ...'`.
 */
export function checkBuildArgs(args: string[]): string | undefined {
  for (let at = 0; at < args.length; at++) {
    const flag = args[at];
    const count = ALLOWED[flag];
    if (count === undefined) {
      const reason = REFUSED.find(([pattern]) => pattern.test(flag))?.[1];
      return reason
        ? `refuses ${JSON.stringify(flag)}: ${reason}`
        : `refuses ${shown(flag)}: it is not one of the allowed flags (${Object.keys(ALLOWED).join(', ')})`;
    }
    for (let n = 1; n <= count; n++) {
      const value = args[at + n];
      if (value === undefined || !VALUE[flag].test(value)) {
        return `refuses ${flag} ${value === undefined ? 'without its value' : `with the value ${shown(value)}`}: it takes ${count === 1 ? 'a value' : `${count} values`} such as ${EXAMPLE[flag]}`;
      }
    }
    at += count;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Nix command lines and their bounds
// ---------------------------------------------------------------------------------------------------------------

/** Paths per command line: a NixOS closure has thousands, and Linux limits a command line to about 2 MB. */
export const PATHS_PER_COMMAND = 1_000;

/** `paths` in command lines of at most {@link PATHS_PER_COMMAND}. */
export function inChunks(paths: string[]): string[][] {
  const list: string[][] = [];
  for (let at = 0; at < paths.length; at += PATHS_PER_COMMAND) list.push(paths.slice(at, at + PATHS_PER_COMMAND));
  return list;
}

/** Questions to the cache (`store ping`, `path-info --store`): 3 attempts, with 1 and 2 s (jittered) between them. */
export const CACHE_QUERY_RETRY = { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 2_000, budgetMs: Number.POSITIVE_INFINITY };

/**
 * A failed `nix copy`: Nix's S3 client already retries each request a few times, so a copy that still fails on
 * throttling or a 5xx met a burst longer than those retries; a later copy skips what the first one uploaded. Bounded
 * by attempts, not by time: one copy can upload for many minutes before it fails, and the next skips what it
 * uploaded; a cache that stays down fails the step after the last attempt, with at most 1 + 2 + 4 s of waiting
 * between them.
 */
export const COPY_RETRY = { maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 4_000, budgetMs: Number.POSITIVE_INFINITY };

/** The slowest upload a `nix copy` attempt is allowed before it counts as hung: 1 MiB of NAR a second. */
export const UPLOAD_FLOOR_BYTES_PER_S = 1024 * 1024;

/** One `nix copy` attempt's bound, in ms: the cache timeout, plus the NAR bytes it may upload at the floor rate. */
export function copyTimeoutMs(cacheTimeoutMs: number, narBytes: number): number {
  return cacheTimeoutMs + Math.ceil(narBytes / UPLOAD_FLOOR_BYTES_PER_S) * 1000;
}

/**
 * Settings for every Nix process that talks to the cache. What the cache holds is asked of the cache: Nix's narinfo
 * disk cache would answer from an earlier run for an hour (`narinfo-cache-negative-ttl`) or a month (positive), and
 * a cache emptied since would be reported as holding paths it lost. curl's own bounds end a connection that does not
 * open or a transfer that stalls within the cache timeout (Nix then retries it itself, within the attempt's bound).
 */
export function cacheSettings(cacheTimeoutMs: number): string[] {
  const seconds = String(Math.max(1, Math.ceil(cacheTimeoutMs / 1000)));
  return [
    ['narinfo-cache-positive-ttl', '0'],
    ['narinfo-cache-negative-ttl', '0'],
    ['connect-timeout', seconds],
    ['stalled-download-timeout', seconds],
  ].flatMap(([name, value]) => ['--option', name, value]);
}

/**
 * `nix build` of one installable, its outputs not linked, as JSON. `--no-update-lock-file`: a flake input missing
 * from `flake.lock` (or locked without a `narHash`) is refused rather than fetched, so that a flake cannot have the
 * evaluating Nix, unsandboxed as the runner's user, copy `path:/home/runner/.aws` or any other folder it can read into
 * the store and build it into what is pushed: a locked input's content must match a hash written before the run.
 * `buildArgs` come through the allow-list of {@link checkBuildArgs}.
 */
export function buildCommand(installable: string, buildArgs: string[]): string[] {
  return ['build', '--no-link', '--json', '--print-build-logs', '--no-update-lock-file', ...buildArgs, installable];
}

/** `build`, `store ping`, `path-info`: the subcommand, which is all a failure message needs. */
export function subcommand(args: string[]): string {
  return args[0] === 'store' ? `store ${args[1]}` : args[0];
}

/**
 * The subcommand and the cache it talks to (`store ping --store http://cache`, `copy --to s3://bucket`), without the
 * URI's settings, or the installable of a build: enough to say which call hung.
 */
export function describeCommand(args: string[]): string {
  const at = args.findIndex((arg) => arg === '--store' || arg === '--to');
  if (at >= 0 && args[at + 1]) return `${subcommand(args)} ${args[at]} ${args[at + 1].split('?')[0]}`;
  return args[0] === 'build' ? `build ${args[args.length - 1]}` : subcommand(args);
}

/** `90 s`, `2.5 s`, `5 min`: a bound in ms as a person would say it. */
export function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  if (seconds >= 120 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}

/** `:` and Nix's own `error:` lines (with what follows them), else the last lines of its log; `''` for no log. */
export function nixErrorLines(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  const first = lines.findIndex((line) => /^error\b/.test(line));
  const shown = (first >= 0 ? lines.slice(first) : lines).slice(-15).join('\n').trim();
  return shown ? `:\n${shown}` : '';
}

/** In Nix's log: S3's throttling and server errors, and the network failures of curl and the AWS SDK. */
const TRANSIENT = [
  /\bSlowDown\b/,
  /reduce your request rate/i,
  /\b(?:Throttling|ThrottlingException|RequestLimitExceeded|TooManyRequests)\b/,
  /\b(?:InternalError|ServiceUnavailable|RequestTimeout)\b/,
  /We encountered an internal error/i,
  /HTTP error (?:429|5\d\d)\b/,
  /\b(?:503 Service Unavailable|500 Internal Server Error|502 Bad Gateway|504 Gateway Time-?out)\b/i,
  /Connection reset|Connection refused|Couldn't connect to server|Timeout was reached|Operation timed out|connection timed out/i,
  /Couldn't resolve host/i,
];

/** Whether Nix's log of a failed question to the cache or `nix copy` shows a failure worth another attempt. */
export function isTransientNixLog(stderr: string): boolean {
  return TRANSIENT.some((pattern) => pattern.test(stderr));
}

// ---------------------------------------------------------------------------------------------------------------
// The environments of the Nix processes
// ---------------------------------------------------------------------------------------------------------------

/*
 * What a build runs is code from outside: a fixed-output derivation reads the variables its `impureEnvVars` names
 * from the environment of the Nix that builds it (single-user Nix: this child's), and an `--impure` evaluation reads
 * any variable with `builtins.getEnv`, then can put it into a store path that this action signs and pushes. So no
 * Nix process gets this step's secrets in its environment, and only the processes that talk to the cache get AWS
 * credentials, after every build has ended.
 */

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
 * and could otherwise read this step's secrets from its parent's /proc environ (see the build arguments above).
 * `sandbox` is left to the runner's configuration: a container often cannot have it (README, "What the builds can
 * see").
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

// ---------------------------------------------------------------------------------------------------------------
// The Nix version and the cache
// ---------------------------------------------------------------------------------------------------------------

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

/** The store URI's scheme (`s3`, `file`), or `local` for a plain path. */
export function storeScheme(uri: string): string {
  return /^([a-z][a-z0-9+.-]*):\/\//.exec(uri)?.[1] ?? 'local';
}

/** Nix's log when it was built without support for the store type (Debian's and Ubuntu's Nix and `s3://`). */
export function isUnsupportedStore(stderr: string): boolean {
  return /don't know how to open Nix store/.test(stderr);
}

/** Why Nix could not open the store, in the terms of what to do about it. */
export function explainStoreFailure(uri: string, version: NixVersion, stderr: string): string {
  const scheme = storeScheme(uri);
  if (isUnsupportedStore(stderr)) {
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

/**
 * The store URI `nix copy` pushes to: the user's (a binary cache, see `checkStoreUri` in inputs.ts), with the
 * compression and the key file added as Nix's store settings: `compression` unless the URI sets its own;
 * `secret-key` percent-encoded, as Nix decodes store settings.
 */
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

/**
 * The state entry in which the main step names the signing key file it writes (before writing it), so that the post
 * step removes the file even if the main step's process is killed.
 */
export const KEY_FILE_STATE = 'signing-key-file';

// ---------------------------------------------------------------------------------------------------------------
// What Nix answers: build outputs and path info
// ---------------------------------------------------------------------------------------------------------------

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

/** Throws when Nix reports no output at all. */
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

/**
 * What `nix path-info --json` says about a store path. Nix before 2.19 answers an array of objects with a `path`
 * (`"valid": false` for a path the store lacks); 2.19 and later an object keyed by path (`null` for a missing one).
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

/** The paths the store has, from either form of the answer; the ones it lacks are left out. */
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

export function byPath(infos: PathInfo[]): Map<string, PathInfo> {
  return new Map(infos.map((info) => [info.path, info]));
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

/** The NAR bytes of `paths` together. */
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

// ---------------------------------------------------------------------------------------------------------------
// The push
// ---------------------------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------------------------
// What a run learned, and the step's outputs
// ---------------------------------------------------------------------------------------------------------------

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

export interface InstallableReport {
  installable: string;
  storePath: string;
  /** Paths in its closure (its own included). */
  closurePaths: number;
  closureBytes: number;
  /** Paths its push uploaded, and their NAR bytes; 0 when not pushing. */
  uploaded: number;
  uploadedBytes: number;
  /** Paths of its closure the cache already had (or an earlier installable's push had just uploaded). */
  skipped: number;
  buildMs: number;
  /** Absent when not pushing. */
  pushMs?: number;
}

/** What a run of build-and-push did: the one record its outputs and its job summary are made from. */
export interface RunReport {
  installables: InstallableReport[];
  /** Of all the closures together, each path counted once. */
  closureBytes: number;
  pushed: number;
  skipped: number;
  /** Set when the closures were pushed. */
  push?: { storeUri: string; compression?: string; keyName?: string };
}

/** What the build alone tells about an installable. */
export function installableFacts(item: BuildResult, infos: ReadonlyMap<string, PathInfo>) {
  return {
    installable: item.installable,
    storePath: item.built.storePath,
    closurePaths: item.closure.length,
    closureBytes: narSize(item.closure, infos),
    buildMs: item.buildMs,
  };
}

/** The report of a build without a push. */
export function buildReport({ results, infos }: Builds): RunReport {
  return {
    installables: results.map((item) => ({ ...installableFacts(item, infos), uploaded: 0, uploadedBytes: 0, skipped: 0 })),
    closureBytes: narSize(new Set(results.flatMap((item) => item.closure)), infos),
    pushed: 0,
    skipped: 0,
  };
}

/**
 * How one installable's build ended, recorded as it ends (builds run one at a time, in order): `built` with its main
 * store path; `failed` (Nix exited non-zero) or `stopped` (`build-timeout`, a cancellation) with the reason, the
 * first line of the error (see {@link firstLine}). Times in milliseconds.
 */
export type BuildAttempt =
  | { installable: string; outcome: 'built'; storePath: string; buildMs: number }
  | { installable: string; outcome: 'failed' | 'stopped'; reason: string; buildMs: number };

/**
 * The first line of an error message, as a summary shows it, without a trailing `:`. A first line that only
 * introduces Nix's `error:` lines (`nix build failed (exit code 1):`) says nothing by itself: Nix's first error line
 * follows it, `nix build failed (exit code 1): error: builder for '...' failed with exit code 3`.
 */
export function firstLine(message: string): string {
  const [head, next] = message.trim().split('\n');
  if (head.endsWith(':') && next !== undefined && /^error\b/.test(next)) return `${head} ${next.trim()}`;
  return head.replace(/:\s*$/, '');
}

/** The outputs of action.yml, by name; an output not known (yet) is absent and not set. */
export interface StepOutputs {
  'store-path'?: string;
  'store-paths'?: string[];
  /** NAR bytes of all the closures, each path counted once. */
  'closure-size'?: number;
  'pushed-paths'?: number;
  'skipped-paths'?: number;
}

/**
 * The outputs of a run that built everything: all of them, or, with `pushFinished` false (a push that failed or was
 * stopped), those the build alone knows: how many paths the cache holds now is not known.
 */
export function stepOutputs(report: RunReport, pushFinished = true): StepOutputs {
  return {
    'store-path': report.installables[0].storePath,
    'store-paths': report.installables.map((item) => item.storePath),
    'closure-size': report.closureBytes,
    'pushed-paths': pushFinished ? report.pushed : undefined,
    'skipped-paths': pushFinished ? report.skipped : undefined,
  };
}
