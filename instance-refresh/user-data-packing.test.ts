/**
 * scripts/user-data.mjs, run by `npm run build`: it packs user-data.sh into user-data.packed.sh, the file users put in
 * the launch template (EC2 takes at most 16,384 bytes of user data). Here: the committed file is current, a stale or
 * missing one fails `--check` and is rewritten by the build, the bytes are reproducible, another zlib's bytes of the
 * same text count as current, and a source whose comments cannot be dropped safely, whose settings the header
 * cannot copy, or which would not fit is refused with nothing written. What the packed file does when run is tested
 * in user-data.test.ts, against the source, with real bash.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GENERATOR = join(ROOT, 'scripts/user-data.mjs');
const SOURCE = 'instance-refresh/user-data.sh';
const PACKED = 'instance-refresh/user-data.packed.sh';
const committed = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The script a packed file's payload decodes to. */
const payload = (packed: string) =>
  gunzipSync(Buffer.from(/^packed='([A-Za-z0-9+/=\n]+)'$/m.exec(packed)![1].replace(/\n/g, ''), 'base64')).toString('utf8');

/**
 * A copy of the source and the packed file (`packed` replaces the latter: null for none), the source changed
 * by `change`, then the generator run on it with `args`: its exit code, stdout, stderr, and the packed file it left.
 */
function generate(args: string[], change: (source: string) => string = (s) => s, packed: string | null = committed(PACKED)) {
  const dir = mkdtempSync(join(tmpdir(), 'user-data-pack-'));
  try {
    mkdirSync(join(dir, 'instance-refresh'));
    writeFileSync(join(dir, SOURCE), change(committed(SOURCE)));
    if (packed !== null) writeFileSync(join(dir, PACKED), packed);
    const run = spawnSync(process.execPath, [GENERATOR, ...args, '--root', dir], { encoding: 'utf8', timeout: 30_000 });
    const file = existsSync(join(dir, PACKED)) ? readFileSync(join(dir, PACKED), 'utf8') : null;
    return { code: run.status, stdout: run.stdout, stderr: run.stderr, file };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An edit of the source that must find what it replaces. */
const edit = (from: string, to: string) => (source: string) => {
  expect(source).toContain(from);
  return source.replace(from, to);
};

describe('scripts/user-data.mjs', () => {
  it('finds the committed packed file current, and the build leaves it as it is', () => {
    const check = spawnSync(process.execPath, [GENERATOR, '--check'], { encoding: 'utf8', timeout: 30_000 });
    expect({ code: check.status, stderr: check.stderr }).toEqual({ code: 0, stderr: '' });
    const run = generate([]);
    expect(run).toMatchObject({ code: 0, stderr: '', file: committed(PACKED) });
    expect(run.stdout).toMatch(/^instance-refresh\/user-data\.packed\.sh: \d+ of 16384 bytes, up to date\n$/);
  });

  it('packs the source with its comment lines and blank lines emptied (line N is the source\'s line N), with its settings and PATH in the header', () => {
    const packed = committed(PACKED);
    const source = committed(SOURCE);
    const kept = source.split('\n').map((line) => (line.trim() === '' || line.trimStart().startsWith('#') ? '' : line));
    expect(payload(packed)).toBe(kept.join('\n'));
    expect(payload(packed).split('\n')).toHaveLength(source.split('\n').length);
    const settings = [...source.matchAll(/^: "\$\{(NIXOS_AWS_[A-Z0-9_]+):=([^"]*)\}"$/gm)];
    expect(settings.length).toBeGreaterThan(20);
    for (const [, name, value] of settings) expect(packed).toContain(`\nexport ${name}="\${${name}:-${value}}"\n`);
    expect(packed).toContain(`\n${/^export PATH=.*$/m.exec(source)![0]}\n`);
  });

  it.each<[string, (source: string) => string, string | null]>([
    ['a source edited (a default)', edit(': "${NIXOS_AWS_BOOT:=kexec}"', ': "${NIXOS_AWS_BOOT:=reboot}"'), committed(PACKED)],
    ['a source edited (code)', edit("log() { printf 'nixos-aws: %s\\n'", "log() { printf 'nixos-aws[user-data]: %s\\n'"), committed(PACKED)],
    ['a header edited by hand', (s) => s, committed(PACKED).replace(':-kexec}', ':-reboot}')],
    // Node's decoder would skip the '.', the instance's `base64 -d` fails on it.
    ['a payload with a character outside base64', (s) => s, committed(PACKED).replace(/^packed='H4sI/m, "packed='H4s.I")],
    ['a payload cut short', (s) => s, committed(PACKED).replace(/\n[A-Za-z0-9+/=]+'$/m, "'")],
    ['no packed file', (s) => s, null],
  ])('--check fails on %s, naming the file and the fix, and writes nothing; the build then rewrites it', (_case, change, packed) => {
    const checked = generate(['--check'], change, packed);
    expect(checked).toEqual({
      code: 1,
      stdout: '',
      stderr: `${PACKED} is not what ${SOURCE} makes: run npm run build and commit it.\n`,
      file: packed,
    });
    const built = generate([], change, packed);
    expect(built.code).toBe(0);
    expect(built.stdout).toMatch(/bytes, written\n$/);
    expect(payload(built.file!)).toBe(payload(generate([], change, null).file!));
    expect(generate(['--check'], change, built.file)).toMatchObject({ code: 0, stderr: '' });
  });

  it('writes the same bytes every time', () => {
    const first = generate([], (s) => s, null).file;
    expect(generate([], (s) => s, null).file).toBe(first);
    expect(first).toBe(committed(PACKED));
  });

  it("takes the same text compressed by another zlib's settings as current: the build does not rewrite it", () => {
    const packed = committed(PACKED);
    const other = gzipSync(payload(packed), { level: 1 }).toString('base64').match(/.{1,76}/g)!.join('\n');
    const recompressed = packed.replace(/^packed='[A-Za-z0-9+/=\n]+'$/m, `packed='${other}'`);
    expect(recompressed).not.toBe(packed);
    expect(generate(['--check'], (s) => s, recompressed)).toMatchObject({ code: 0, stderr: '' });
    expect(generate([], (s) => s, recompressed).file).toBe(recompressed);
  });

  const heredoc = "cat <<'EOF' >/dev/null\n# kept: a line of a heredoc\nEOF\n";
  const multiLine = "note='first line\n# kept: a line of a string\n'\n";
  it.each<[string, (source: string) => string, RegExp]>([
    ['a # line inside a heredoc', edit('set -o errtrace\n', `set -o errtrace\n${heredoc}`), /dropping .*'s comment lines changes the program bash parses/],
    ['a # line inside a multi-line string', edit('set -o errtrace\n', `set -o errtrace\n${multiLine}`), /changes the program bash parses/],
    ['a source bash cannot parse', edit('set -o errtrace\n', 'set -o errtrace\nif true; then\n'), /bash cannot parse instance-refresh\/user-data\.sh/],
    ['code among the settings', edit(': "${NIXOS_AWS_BOOT:=kexec}"', 'NIXOS_AWS_BOOT=kexec'), /line \d+ is among the settings but is not one/],
    ['a setting whose default runs a command', edit(': "${NIXOS_AWS_BOOT:=kexec}"', ': "${NIXOS_AWS_BOOT:=$(hostname)}"'), /is among the settings but is not one/],
    // `export X="${X:-a}b}"` would read as a}b, not the source's a.
    ['a setting whose default holds a }', edit(': "${NIXOS_AWS_BOOT:=kexec}"', ': "${NIXOS_AWS_BOOT:=ke}xec}"'), /is among the settings but is not one/],
    ['no PATH line', edit('export PATH="${PATH:+$PATH:}', 'PATH="${PATH:+$PATH:}'), /has no line export PATH=/],
    [
      'a source that does not fit once packed',
      // Hashes do not compress: 8 KB of them in base64 cannot fit beside the rest.
      edit('set -o errtrace\n', `set -o errtrace\n: '${Buffer.concat(Array.from({ length: 256 }, (_, i) => createHash('sha256').update(String(i)).digest())).toString('base64')}'\n`),
      /instance-refresh\/user-data\.packed\.sh would be \d+ bytes, over EC2's limit on user data of 16384/,
    ],
  ])('refuses %s, writing nothing', (_case, change, message) => {
    const run = generate([], change);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^user-data: /);
    expect(run.stderr).toMatch(message);
    expect(run.file).toBe(committed(PACKED));
  });
});
