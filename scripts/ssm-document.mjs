#!/usr/bin/env node
/**
 * Writes `ssm-deploy/nixos-deploy.json`, the NixOS-Deploy Command document, from its sources beside it:
 * `nixos-deploy.sh` (the script, the real source: ShellCheck reads it) and `nixos-deploy.parameters.json` (the
 * parameters). `npm run build` runs it before bundling, since the bundle inlines the JSON.
 *
 *   node scripts/ssm-document.mjs [--check] [--dir <folder holding the three files>]
 *
 * `--check` writes nothing and exits 1 when the committed JSON is not what the sources make. Deterministic: the
 * output depends only on the two sources (two-space JSON, one line of `runCommand` per line of the script), and its
 * text is what SSM receives and what `DocumentHash` pins, so it is never formatted by hand.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAsScript } from './cli.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const DESCRIPTION =
  'Switches a NixOS instance to a system closure from a signed binary cache, checks its health and rolls back on ' +
  'failure (nixos-aws ssm-deploy). Parameters reach the script only as environment variables: SSM Agent 3.3.2746.0 ' +
  'or later.';

/** The document's text from the script's and the parameters' text; throws on a script SSM would alter. */
export function documentContent(script, parametersJson) {
  if (!script.endsWith('\n')) throw new Error('nixos-deploy.sh must end with a newline');
  // SSM replaces `{{ name }}` in runCommand with a parameter's value before the shell sees it: the script reads
  // every parameter from its SSM_ environment variable instead, and must not hold the syntax at all.
  const braces = script.split('\n').findIndex((line) => line.includes('{{'));
  if (braces >= 0) throw new Error(`nixos-deploy.sh line ${braces + 1} holds '{{', which SSM would interpolate`);
  const document = {
    schemaVersion: '2.2',
    description: DESCRIPTION,
    parameters: JSON.parse(parametersJson),
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: 'deploy',
        precondition: { StringEquals: ['platformType', 'Linux'] },
        inputs: { timeoutSeconds: '{{ executionTimeout }}', runCommand: script.slice(0, -1).split('\n') },
      },
    ],
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

function main(args) {
  const check = args.includes('--check');
  const at = args.indexOf('--dir');
  const dir = at >= 0 ? resolve(args[at + 1] ?? '') : join(root, 'ssm-deploy');
  const read = (name) => readFileSync(join(dir, name), 'utf8');
  const content = documentContent(read('nixos-deploy.sh'), read('nixos-deploy.parameters.json'));
  const target = join(dir, 'nixos-deploy.json');
  const shown = relative(process.cwd(), target) || target;
  if (!check) {
    writeFileSync(target, content);
    return;
  }
  let committed = '';
  try {
    committed = read('nixos-deploy.json');
  } catch {
    // Missing: stale like any other difference.
  }
  if (committed !== content) {
    console.error(`${shown} is not what nixos-deploy.sh and nixos-deploy.parameters.json make: run npm run build and commit it.`);
    process.exitCode = 1;
  }
}

runAsScript(import.meta.url, 'ssm-document', main);
