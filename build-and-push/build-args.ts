/**
 * Which `build-args` a build may be given. The `nix` that evaluates runs unsandboxed, as the runner's user, next to
 * this step's process, whose environment (readable as `/proc/<ppid>/environ`) holds the signing key input, the OIDC
 * token request and the runner's tokens, none of which any scrubbing of the child's environment can hide. Only pure
 * flake evaluation (no `readFile` of /proc, no `getEnv`, `fetchurl` only with a known hash) keeps them out of a
 * store path this step signs and pushes. So the arguments are an allow-list of `nix build` flags (Nix 2.8+) that
 * neither make evaluation impure nor weaken the build sandbox nor let the flake set options: anything else, unknown
 * flags included, is refused, with the reason for the known dangerous ones.
 */
import { shown } from '../shared/inputs.js';

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

const EXAMPLE: Readonly<Record<string, string>> = {
  '-j': '4 or auto',
  '--max-jobs': '4 or auto',
  '--cores': '2',
  '--system': 'aarch64-linux',
  '--override-input': 'nixpkgs github:NixOS/nixpkgs/nixos-25.05',
};
