import { describe, expect, it } from '@jest/globals';
import { checkBuildArgs, splitBuildArgs } from './build-args.js';

describe('splitBuildArgs', () => {
  it.each<[string[], string[]]>([
    [['--max-jobs 4', '-L'], ['--max-jobs', '4', '-L']],
    [['--override-input', 'nixpkgs', 'github:NixOS/nixpkgs/nixos-25.05'], ['--override-input', 'nixpkgs', 'github:NixOS/nixpkgs/nixos-25.05']],
    [['  --keep-going  ', ''], ['--keep-going']],
  ])('%j is %j', (lines, args) => {
    expect(splitBuildArgs(lines)).toEqual(args);
  });
});

describe('checkBuildArgs', () => {
  it.each<[string[]]>([
    [[]],
    [['-L', '--keep-going', '-k', '--show-trace', '--fallback', '--offline', '--refresh', '--rebuild', '-v', '--quiet']],
    [['--no-update-lock-file', '--no-write-lock-file']],
    [['--max-jobs', 'auto', '-j', '4', '--cores', '2', '--system', 'aarch64-linux']],
    [['--override-input', 'nixpkgs', 'github:NixOS/nixpkgs/nixos-25.05', '--override-input', 'a/b', 'path:/src/b']],
  ])('allows %j', (args) => {
    expect(checkBuildArgs(args)).toBeUndefined();
  });

  it.each<[string[], string]>([
    [['--impure'], 'refuses "--impure": impure evaluation can read the environment of this step'],
    [['-L', '--file', 'default.nix'], 'refuses "--file": a non-flake expression is evaluated impurely'],
    [['-f', 'default.nix'], 'refuses "-f": a non-flake expression'],
    [['--expr', 'import ./x.nix'], 'refuses "--expr": a non-flake expression'],
    [['--arg', 'a', 'b'], 'refuses "--arg": it only means something in impure evaluation'],
    [['--argstr', 'a', 'b'], 'refuses "--argstr"'],
    [['-I', 'nixpkgs=/x'], 'refuses "-I"'],
    [['--include', 'nixpkgs=/x'], 'refuses "--include"'],
    [['--option', 'sandbox', 'false'], 'refuses "--option": a Nix option can turn off the protections'],
    [['--extra-sandbox-paths', '/proc'], 'refuses "--extra-sandbox-paths": a Nix option'],
    [['--no-pure-eval'], 'refuses "--no-pure-eval": evaluation is always pure here'],
    [['--pure-eval'], 'refuses "--pure-eval"'],
    [['--no-sandbox'], 'refuses "--no-sandbox": the build sandbox keeps builders away'],
    [['--sandbox'], 'refuses "--sandbox"'],
    [['--accept-flake-config'], 'refuses "--accept-flake-config": a flake\'s nixConfig must not set'],
    [['--eval-store', 'auto'], 'refuses "--eval-store": the build must use the runner\'s store'],
    [['--store', '/tmp/s'], 'refuses "--store"'],
    [['--allow-unsafe-native-code-during-evaluation'], 'refuses "--allow-unsafe-native-code-during-evaluation": it is not one of the allowed flags (-L,'],
    [['--max-jobs=4'], 'refuses "--max-jobs=4": it is not one of the allowed flags'],
    [['-Lv'], 'refuses "-Lv": it is not one of the allowed flags'],
    [['.#other'], 'refuses ".#other": it is not one of the allowed flags'],
    [['--max-jobs'], 'refuses --max-jobs without its value: it takes a value such as 4 or auto'],
    [['--max-jobs', '--impure'], 'refuses --max-jobs with the value "--impure"'],
    [['--cores', 'all'], 'refuses --cores with the value "all"'],
    [['--system', 'x86_64-linux;rm'], 'refuses --system with the value "x86_64-linux;rm"'],
    [['--override-input', 'nixpkgs'], 'refuses --override-input without its value: it takes 2 values'],
    [['--override-input', 'nixpkgs', '--impure'], 'refuses --override-input with the value "--impure"'],
  ])('refuses %j', (args, message) => {
    expect(checkBuildArgs(args)).toContain(message);
  });
});
