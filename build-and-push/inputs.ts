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
const SECRET_KEY = /^[^:\s]+:[A-Za-z0-9+/]{86}==$/;
/** A parameter name (`/nix/signing-key`) or its ARN. */
const PARAMETER = /^(?:arn:aws(?:-[a-z]+)*:ssm:[a-z0-9-]+:\d{12}:parameter)?\/?[A-Za-z0-9_.\-/]{1,2048}$/;

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
      form: 'a Nix secret key name:base64, as nix key generate-secret writes it',
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
  const keyProblem = checkKey(inputs);
  if (keyProblem) throw new InputError([{ input: Input.SigningKey, message: keyProblem }]);
  const usesAws = Boolean(inputs.roleToAssume || inputs.signingKeyParameter || inputs.awsRegion);
  return usesAws ? { ...inputs, awsRegion: resolveRegion(inputs.awsRegion, env) } : inputs;
}

function checkKey(inputs: BuildAndPushInputs): string | undefined {
  const [key, parameter] = [`'${Input.SigningKey}'`, `'${Input.SigningKeyParameter}'`];
  if (inputs.signingKey && inputs.signingKeyParameter) {
    return `Inputs ${key} and ${parameter} exclude each other: give one of the two`;
  }
  if (inputs.push && inputs.sign && !inputs.signingKey && !inputs.signingKeyParameter) {
    return `Input ${key} or ${parameter} is required to push (or set '${Input.Sign}: false' to push unsigned paths)`;
  }
  return undefined;
}
