/** The inputs of build-and-push: their names, defaults and the typed object the action works with. */
import { InputError, parseInputs, type InputSource } from '../shared/inputs.js';
import { resolveRegion } from '../shared/region.js';
import { readRoleInputs, RoleInput, type RoleInputs } from '../shared/role-inputs.js';
import { checkBuildArgs, splitBuildArgs } from './plan.js';
import { PUSH_SETTINGS, PUSH_STORE_URI, PUSH_STORE_URI_FORM, refusedSettings } from '../shared/store-uri.js';

export const Input = {
  ...RoleInput,
  Installable: 'installable',
  StoreUri: 'store-uri',
  Push: 'push',
  Sign: 'sign',
  SigningKey: 'signing-key',
  SigningKeyParameter: 'signing-key-parameter',
  Compression: 'compression',
  BuildArgs: 'build-args',
  BuildTimeout: 'build-timeout',
  CacheTimeout: 'cache-timeout',
} as const;

/** The NAR compressions Nix's binary cache stores accept. */
export const COMPRESSIONS = ['zstd', 'xz', 'bzip2', 'gzip', 'br', 'lz4', 'none'] as const;

export interface BuildAndPushInputs extends RoleInputs {
  installables: string[];
  push: boolean;
  /** `''` when not pushing. */
  storeUri: string;
  sign: boolean;
  /** The secret key itself; `''` when it comes from `signingKeyParameter` or there is none. */
  signingKey: string;
  signingKeyParameter: string;
  compression: (typeof COMPRESSIONS)[number];
  buildArgs: string[];
  /** All the builds together, in seconds. */
  buildTimeoutSeconds: number;
  /** Each attempt of a question to the cache, in seconds (see `copyTimeoutMs` in plan.ts for the upload's bound). */
  cacheTimeoutSeconds: number;
}

/** The builds' bound when not given: under the 6 hours a GitHub-hosted job may run, so that the action says why. */
export const DEFAULT_BUILD_TIMEOUT_SECONDS = 5 * 3600;
/** Within the 5 days a self-hosted runner's job may run; within what a Node timer can wait (24.8 days). */
const MAX_BUILD_TIMEOUT_SECONDS = 5 * 24 * 3600;
export const DEFAULT_CACHE_TIMEOUT_SECONDS = 120;

/** Nothing that `nix build` would read as an option: those go in `build-args`. */
const INSTALLABLE = /^[^-\s]/;
/** `nix key generate-secret`: a name, then 64 bytes of Ed25519 secret key in base64. */
export const SECRET_KEY = /^[^:\s]+:[A-Za-z0-9+/]{86}==$/;
export const SECRET_KEY_FORM = 'a Nix secret key name:base64, as nix key generate-secret writes it';
/** A parameter name (`/nix/signing-key`) or its ARN, within GetParameter's `Name` of 1-2048 characters. */
const PARAMETER = /^(?=.{1,2048}$)(?:arn:aws(?:-[a-z]+)*:ssm:[a-z0-9-]+:\d{12}:parameter)?\/?[A-Za-z0-9_.\-/]{1,2048}$/;

export function readInputs(source?: InputSource, env: NodeJS.ProcessEnv = process.env): BuildAndPushInputs {
  const inputs = parseInputs((read): BuildAndPushInputs => {
    const role = readRoleInputs(read, { roleRequired: false });
    const installables = read.list(Input.Installable, {
      required: true,
      pattern: INSTALLABLE,
      form: 'an installable such as .#nixosConfigurations.web.config.system.build.toplevel (options go in build-args)',
    });
    const push = read.boolean(Input.Push, true);
    // Checked in checkTogether, whose message can name the refused setting.
    const storeUri = read.string(Input.StoreUri, { required: push });
    const sign = read.boolean(Input.Sign, true);
    const signingKeyParameter = read.string(Input.SigningKeyParameter, {
      pattern: PARAMETER,
      form: 'an SSM parameter name such as /nix/signing-key, or its ARN',
    });
    const signingKey = read.string(Input.SigningKey, {
      pattern: SECRET_KEY,
      form: SECRET_KEY_FORM,
      secret: true,
    });
    return {
      ...role,
      installables,
      push,
      storeUri,
      sign,
      signingKey,
      signingKeyParameter,
      compression: read.oneOf(Input.Compression, COMPRESSIONS, 'zstd'),
      buildArgs: splitBuildArgs(read.list(Input.BuildArgs)),
      buildTimeoutSeconds: read.seconds(Input.BuildTimeout, { min: 1, max: MAX_BUILD_TIMEOUT_SECONDS, default: DEFAULT_BUILD_TIMEOUT_SECONDS })!,
      cacheTimeoutSeconds: read.seconds(Input.CacheTimeout, { min: 1, max: 3600, default: DEFAULT_CACHE_TIMEOUT_SECONDS })!,
    };
  }, source);
  const problem = checkTogether(inputs);
  if (problem) throw new InputError([problem]);
  const usesAws = Boolean(inputs.roleToAssume || inputs.signingKeyParameter || inputs.awsRegion);
  return usesAws ? { ...inputs, awsRegion: resolveRegion(inputs.awsRegion, env) } : inputs;
}

/**
 * Why `uri` is no store URI to push to, or `undefined`. Only the settings of {@link PUSH_SETTINGS}: the key reaches
 * Nix only through the action's own file (`secret-key`), and nothing may change what readers of the cache check or
 * where Nix looks (`trusted`, `priority`, `want-mass-query`, a local store's `root`). A plain path, a local store,
 * is refused too: a folder binary cache is `file:///path`.
 */
export function checkStoreUri(uri: string): string | undefined {
  // Checked first, so that no message shows the password. Nix reads an HTTP cache's credentials from netrc.
  if (USER_INFO.test(uri)) {
    return `must not hold a user name or password (user:password@host): give them to Nix in its netrc file (the netrc-file setting)`;
  }
  const refused = refusedSettings(uri, PUSH_SETTINGS);
  if (refused.length > 0) {
    const hint = refused.includes('secret-key') ? `; give the key as '${Input.SigningKey}' or '${Input.SigningKeyParameter}'` : '';
    return `must not set ${refused.join(', ')}: it must be ${PUSH_STORE_URI_FORM}${hint}`;
  }
  if (!PUSH_STORE_URI.test(uri)) return `must be ${PUSH_STORE_URI_FORM}, got ${JSON.stringify(uri.length > 80 ? `${uri.slice(0, 77)}...` : uri)}`;
  return undefined;
}

/** `scheme://user:password@host`: user info before the host, in the authority. */
const USER_INFO = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*@/;

/** What no single input shows: how the key inputs and the store URI go together. */
function checkTogether(inputs: BuildAndPushInputs): { input: string; message: string } | undefined {
  const [key, parameter] = [`'${Input.SigningKey}'`, `'${Input.SigningKeyParameter}'`];
  if (inputs.signingKey && inputs.signingKeyParameter) {
    return { input: Input.SigningKey, message: `Inputs ${key} and ${parameter} exclude each other: give one of the two` };
  }
  const argsProblem = checkBuildArgs(inputs.buildArgs);
  if (argsProblem) return { input: Input.BuildArgs, message: `Input '${Input.BuildArgs}' ${argsProblem}` };
  const uriProblem = inputs.storeUri ? checkStoreUri(inputs.storeUri) : undefined;
  if (uriProblem) return { input: Input.StoreUri, message: `Input '${Input.StoreUri}' ${uriProblem}` };
  if (inputs.push && inputs.sign && !inputs.signingKey && !inputs.signingKeyParameter) {
    const message = `Input ${key} or ${parameter} is required to push (or set '${Input.Sign}: false' to push unsigned paths)`;
    return { input: Input.SigningKey, message };
  }
  return undefined;
}
