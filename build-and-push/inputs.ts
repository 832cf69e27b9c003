/** The inputs of build-and-push: their names, defaults and the typed object the action works with. */
import { InputError, parseInputs, type InputSource } from '../shared/inputs.js';
import { resolveRegion } from '../shared/region.js';
import { readRoleInputs, RoleInput, type RoleInputs } from '../shared/role-inputs.js';

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
}

/** Nothing that `nix build` would read as an option: those go in `build-args`. */
const INSTALLABLE = /^[^-\s]/;
const STORE_URI = /^(?:[a-z][a-z0-9+.-]*:\/\/\S+|\/\S*)$/;
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
    const storeUri = read.string(Input.StoreUri, {
      required: push,
      pattern: STORE_URI,
      form: 'a Nix store URI such as s3://bucket?region=eu-central-1 or file:///path',
    });
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
      buildArgs: read.list(Input.BuildArgs),
    };
  }, source);
  const problem = checkTogether(inputs);
  if (problem) throw new InputError([problem]);
  const usesAws = Boolean(inputs.roleToAssume || inputs.signingKeyParameter || inputs.awsRegion);
  return usesAws ? { ...inputs, awsRegion: resolveRegion(inputs.awsRegion, env) } : inputs;
}

/** What no single input shows: how the key inputs and the store URI go together. */
function checkTogether(inputs: BuildAndPushInputs): { input: string; message: string } | undefined {
  const [key, parameter] = [`'${Input.SigningKey}'`, `'${Input.SigningKeyParameter}'`];
  if (inputs.signingKey && inputs.signingKeyParameter) {
    return { input: Input.SigningKey, message: `Inputs ${key} and ${parameter} exclude each other: give one of the two` };
  }
  // The key reaches Nix only through the action's own file, which it removes when the step ends.
  if (/[?&]secret-key=/.test(inputs.storeUri)) {
    const message = `Input '${Input.StoreUri}' must not set secret-key: give the key as ${key} or ${parameter}`;
    return { input: Input.StoreUri, message };
  }
  if (inputs.push && inputs.sign && !inputs.signingKey && !inputs.signingKeyParameter) {
    const message = `Input ${key} or ${parameter} is required to push (or set '${Input.Sign}: false' to push unsigned paths)`;
    return { input: Input.SigningKey, message };
  }
  return undefined;
}
