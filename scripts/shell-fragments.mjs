#!/usr/bin/env node
/**
 * Copies the shell fragments under `shared/` into the instance scripts that run them. An instance gets one
 * self-contained script (user data, or an SSM document's text), so a fragment cannot be sourced there: each script
 * holds a copy between the lines `# >>> <fragment>` (which may go on with a note) and `# <<< <fragment>`, and this
 * rewrites what stands between them. The copy is what follows the fragment's header (its lines up to the first
 * blank one, which say what the including script must provide). `npm run build` runs it first, so that
 * scripts/ssm-document.mjs then makes the NixOS-Deploy document from the current `nixos-deploy.sh`.
 *
 *   node scripts/shell-fragments.mjs [--check] [--root <folder laid out as the repository>]
 *
 * `--check` writes nothing and exits 1 naming each script whose copy is not the fragment as it is. Lines outside the
 * markers are never touched; a script with a marker missing, repeated or out of order is refused, and then nothing
 * is written at all.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAsScript } from './cli.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Each fragment (a path from the repository's root) and the scripts that hold a copy of it. */
export const FRAGMENTS = [{ fragment: 'shared/health.sh', scripts: ['instance-refresh/user-data.sh', 'ssm-deploy/nixos-deploy.sh'] }];

/** The lines a fragment gives its scripts: all after its header, without trailing blank lines; throws on none. */
export function fragmentBody(text, fragment) {
  const lines = text.split('\n');
  const blank = lines.findIndex((line) => line.trim() === '');
  const body = blank < 0 ? [] : lines.slice(blank + 1);
  while (body.length > 0 && body[body.length - 1].trim() === '') body.pop();
  if (body.length === 0) throw new Error(`${fragment} has no code after its header (the lines up to the first blank one)`);
  return body;
}

/** `script`'s text with the lines between its markers for `fragment` replaced by `body`; throws on bad markers. */
export function splice(script, name, fragment, body) {
  const lines = script.split('\n');
  const at = (test) => lines.flatMap((line, index) => (test(line) ? [index] : []));
  const starts = at((line) => line === `# >>> ${fragment}` || line.startsWith(`# >>> ${fragment}:`));
  const ends = at((line) => line === `# <<< ${fragment}`);
  if (starts.length !== 1 || ends.length !== 1 || ends[0] < starts[0]) {
    throw new Error(
      `${name} must hold one '# >>> ${fragment}' line and, after it, one '# <<< ${fragment}' line ` +
        `(it has ${starts.length} and ${ends.length}${starts.length === 1 && ends.length === 1 ? ', in the wrong order' : ''})`,
    );
  }
  return [...lines.slice(0, starts[0] + 1), ...body, ...lines.slice(ends[0])].join('\n');
}

/** What each script should hold, by its path from `dir`: `[{ path, fragments, current, wanted }]`; throws before any write. */
export function plan(dir) {
  const read = (path) => readFileSync(join(dir, path), 'utf8');
  const bodies = new Map(FRAGMENTS.map(({ fragment }) => [fragment, fragmentBody(read(fragment), fragment)]));
  const paths = [...new Set(FRAGMENTS.flatMap(({ scripts }) => scripts))];
  return paths.map((path) => {
    const fragments = FRAGMENTS.filter(({ scripts }) => scripts.includes(path)).map(({ fragment }) => fragment);
    const current = read(path);
    const wanted = fragments.reduce((text, fragment) => splice(text, path, fragment, bodies.get(fragment)), current);
    return { path, fragments, current, wanted };
  });
}

function main(args) {
  const at = args.indexOf('--root');
  const dir = at >= 0 ? resolve(args[at + 1] ?? '') : root;
  const stale = plan(dir).filter(({ current, wanted }) => current !== wanted);
  if (!args.includes('--check')) {
    for (const { path, wanted } of stale) writeFileSync(join(dir, path), wanted);
    return;
  }
  for (const { path, fragments } of stale) {
    console.error(`${path} does not hold ${fragments.join(' and ')} as it is: run npm run build and commit it.`);
  }
  if (stale.length > 0) process.exitCode = 1;
}

runAsScript(import.meta.url, 'shell-fragments', main);
