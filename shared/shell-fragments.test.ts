/**
 * The shell fragments of `shared/` and their copies in the instance scripts (scripts/shell-fragments.mjs, run by
 * `npm run build`): the committed scripts hold each fragment as it is, an edit to a fragment reaches every copy and
 * nothing else, and a stale copy or a broken marker fails with the file named. What the copies do is tested by
 * running the scripts themselves (instance-refresh/user-data.test.ts, ssm-deploy/nixos-deploy.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GENERATOR = join(ROOT, 'scripts/shell-fragments.mjs');
const FRAGMENT = 'shared/health.sh';
const SCRIPTS = ['instance-refresh/user-data.sh', 'ssm-deploy/nixos-deploy.sh'];
const FILES = [FRAGMENT, ...SCRIPTS];
const committed = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/**
 * A copy of the fragment and its scripts, changed by `change`, then the generator run on it with `args` (not run
 * without them): its exit code, what it printed to stderr, and the files it left.
 */
function generate(args: string[] | undefined, change: (dir: string) => void = () => undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'shell-fragments-'));
  try {
    for (const path of FILES) {
      mkdirSync(join(dir, dirname(path)), { recursive: true });
      writeFileSync(join(dir, path), committed(path));
    }
    change(dir);
    const run = args && spawnSync(process.execPath, [GENERATOR, ...args, '--root', dir], { encoding: 'utf8' });
    const files = Object.fromEntries(FILES.map((path) => [path, readFileSync(join(dir, path), 'utf8')]));
    return { code: run?.status, stderr: run?.stderr, files };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const edit = (path: string, from: string | RegExp, to: string) => (dir: string) => {
  const text = readFileSync(join(dir, path), 'utf8');
  expect(text).toMatch(from);
  writeFileSync(join(dir, path), text.replace(from, to));
};
const both =
  (...changes: Array<(dir: string) => void>) =>
  (dir: string) => {
    for (const change of changes) change(dir);
  };

/** The fragment's code: what follows its header, the lines up to the first blank one. */
const body = (text: string) => text.slice(text.indexOf('\n\n') + 2).trimEnd();

/** What stands between a script's markers for the fragment. */
const copyIn = (text: string) => /^# >>> shared\/health\.sh(?::.*)?\n([\s\S]*?)\n# <<< shared\/health\.sh$/m.exec(text)?.[1];

describe('shared/health.sh', () => {
  it('declares the health check, and its header is no code', () => {
    expect(body(committed(FRAGMENT))).toMatch(/^# Passes once[^\n]*\nhealth_check\(\) \{\n/);
    expect(committed(FRAGMENT).slice(0, committed(FRAGMENT).indexOf('\n\n')).split('\n').every((line) => line.startsWith('#'))).toBe(true);
  });

  it.each(SCRIPTS)('stands in %s as it is, once', (script) => {
    expect(copyIn(committed(script))).toBe(body(committed(FRAGMENT)));
    expect(committed(script).split('\nhealth_check() {\n')).toHaveLength(2);
  });

  it('is committed in every script as the generator makes it', () => {
    const check = spawnSync(process.execPath, [GENERATOR, '--check'], { encoding: 'utf8' });
    expect({ code: check.status, stderr: check.stderr }).toEqual({ code: 0, stderr: '' });
    const run = generate([]);
    expect(run).toEqual({ code: 0, stderr: '', files: Object.fromEntries(FILES.map((path) => [path, committed(path)])) });
  });
});

describe('scripts/shell-fragments.mjs', () => {
  const edited = edit(FRAGMENT, 'log "Unit $unit is active"', 'log "Unit $unit is up"');

  it('copies an edit of the fragment into every script, and changes nothing else', () => {
    const run = generate([], edited);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    for (const script of SCRIPTS) {
      expect(run.files[script]).toBe(committed(script).replace('log "Unit $unit is active"', 'log "Unit $unit is up"'));
    }
  });

  it.each<[string, (dir: string) => void, string[]]>([
    ['an edited fragment', edited, SCRIPTS],
    ['a copy edited by hand', edit(SCRIPTS[1], '  path=${BASH_REMATCH[4]:-/}\n', '  path=${BASH_REMATCH[4]:-/index}\n'), [SCRIPTS[1]]],
    ['a line added inside a copy', edit(SCRIPTS[0], '# <<< shared/health.sh', ':\n# <<< shared/health.sh'), [SCRIPTS[0]]],
  ])('--check fails on %s, naming each stale script and the fix, and writes nothing', (_case, change, stale) => {
    const before = generate(undefined, change).files;
    const checked = generate(['--check'], change);
    expect(checked.code).toBe(1);
    expect(checked.stderr?.trim().split('\n')).toEqual(
      stale.map((script) => `${script} does not hold shared/health.sh as it is: run npm run build and commit it.`),
    );
    expect(checked.files).toEqual(before);
  });

  it('leaves the lines outside the markers as they are', () => {
    const run = generate([], edit(SCRIPTS[1], 'umask 022\n', 'umask 022\n# an edit outside\n'));
    expect(run.code).toBe(0);
    expect(run.files[SCRIPTS[1]]).toBe(committed(SCRIPTS[1]).replace('umask 022\n', 'umask 022\n# an edit outside\n'));
  });

  it.each<[string, (dir: string) => void, RegExp]>([
    ['a script without its opening line', edit(SCRIPTS[0], '# >>> shared/health.sh:', '# >> shared/health.sh:'), /user-data\.sh must hold one '# >>> shared\/health\.sh' line .*\(it has 0 and 1\)/],
    ['a script without its closing line', edit(SCRIPTS[1], '# <<< shared/health.sh\n', ''), /nixos-deploy\.sh must hold .*\(it has 1 and 0\)/],
    ['a script with the markers twice', edit(SCRIPTS[1], '# <<< shared/health.sh\n', '# <<< shared/health.sh\n# >>> shared/health.sh\n# <<< shared/health.sh\n'), /\(it has 2 and 2\)/],
    [
      'a script with the markers in the wrong order',
      both(
        edit(SCRIPTS[0], '# <<< shared/health.sh\n', '# >>> shared/health.sh\n'),
        edit(SCRIPTS[0], /^# >>> shared\/health\.sh:.*$/m, '# <<< shared/health.sh'),
      ),
      /\(it has 1 and 1, in the wrong order\)/,
    ],
    [
      'the second script without its closing line, with the fragment edited',
      both(edited, edit(SCRIPTS[1], '# <<< shared/health.sh\n', '')),
      /^shell-fragments: ssm-deploy\/nixos-deploy\.sh must hold .*\(it has 1 and 0\)\n$/,
    ],
    ['a fragment with no code after its header', (dir) => writeFileSync(join(dir, FRAGMENT), '# shellcheck shell=bash\n\n\n'), /shared\/health\.sh has no code after its header/],
  ])('refuses %s, and writes no script', (_case, change, message) => {
    for (const args of [[], ['--check']]) {
      const before = generate(undefined, change).files;
      const refused = generate(args, change);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(message);
      expect(refused.files).toEqual(before);
    }
  });
});
