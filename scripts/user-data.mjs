#!/usr/bin/env node
/**
 * Writes `instance-refresh/user-data.packed.sh`, the user data users put in a launch template, from the readable
 * source `instance-refresh/user-data.sh` (which the tests run, and ShellCheck reads). EC2 limits user data to 16 KB
 * (16,384 bytes) in raw form, before base64 (EC2 User Guide, "Work with instance user data";
 * `RequestLaunchTemplateData.UserData`), and the source is larger. The packed file is a short bash header that
 * exports the source's settings with their defaults and comments (so users can read and edit them there, as
 * `export` lines or plain `NAME=value` ones: the block runs under `set -a`), then the source with its whole-line
 * comments emptied, gzip'd and base64'd, which the header decodes and runs with `bash -c` under the PATH the source
 * sets. Emptied, not dropped: the script keeps the source's line numbers, so the line an ERR trap or bash names in
 * the log is the source's line. `npm run build` runs it after scripts/shell-fragments.mjs, which
 * completes the source.
 *
 *   node scripts/user-data.mjs [--check] [--root <folder laid out as the repository>]
 *
 * `--check` writes nothing and exits 1 when the packed file is not what the source makes. What is compared is the
 * header's text and the script the payload decodes to, not the compressed bytes: another zlib (Node's bundled one
 * changes between releases) may compress the same text differently, and a build must not rewrite an up-to-date
 * file. When it writes, the payload is gzip level 9 with no name and time and a fixed OS byte, so one Node makes
 * the same bytes every time. Refuses (throws, writes nothing) when stripping comments would change the program as
 * bash parses it, when the source's settings are not in the form the header copies, or when the result is over
 * 16,384 bytes.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { runAsScript } from './cli.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const SOURCE = 'instance-refresh/user-data.sh';
export const PACKED = 'instance-refresh/user-data.packed.sh';
/** EC2's limit on user data, in raw bytes. */
export const USER_DATA_LIMIT = 16_384;

/** `: "${NIXOS_AWS_NAME:=default}"`, the form of every setting in the source. */
const SETTING = /^: "\$\{(NIXOS_AWS_[A-Z0-9_]+):=([^"$`\\}]*)\}"$/;
const PATH_LINE = /^export PATH=.*$/m;
/** The payload's lines: base64 wrapped as `base64` wraps it. */
const WRAP = 76;

/**
 * The source with each whole-line comment (the shebang too: `bash -c` runs the text) and blank line emptied, so that
 * line N of the result is line N of the source.
 */
export function stripComments(source) {
  return source
    .split('\n')
    .map((line) => (line.trimStart().startsWith('#') ? '' : line.trim() === '' ? '' : line))
    .join('\n');
}

/**
 * The program as bash parses `text`: the text as the body of a function, printed back by `declare -f`, which drops
 * comments and normalises layout. Equal for two texts when they differ only in what bash ignores, so a comment-like
 * line inside a heredoc or a multi-line string, dropped by mistake, shows. Runs bash (10 s at most); throws when
 * bash cannot parse the text.
 */
export function parsedProgram(text) {
  const result = spawnSync('bash', ['-c', 'eval "__nixos_aws_user_data() {\n$1\n}" && declare -f __nixos_aws_user_data', 'bash', text], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (result.error) throw new Error(`bash could not be run to parse ${SOURCE}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`bash cannot parse ${SOURCE}: ${result.stderr.trim()}`);
  return result.stdout;
}

/**
 * The header's settings block: the source's lines from its first setting to its last, each `: "${X:=v}"` as
 * `export X="${X:-v}"` (the same default, for an unset or empty variable, now passed on to `bash -c`) and the
 * comments between them kept. Throws when a line there is neither a setting nor a comment, or there is none.
 */
export function settingsBlock(source) {
  const lines = source.split('\n');
  const first = lines.findIndex((line) => line.startsWith(': "${NIXOS_AWS_'));
  const last = lines.findLastIndex((line) => line.startsWith(': "${NIXOS_AWS_'));
  if (first < 0) throw new Error(`${SOURCE} has no settings (lines : "\${NIXOS_AWS_NAME:=default}")`);
  return lines.slice(first, last + 1).map((line, index) => {
    if (line.startsWith('#')) return line;
    const setting = SETTING.exec(line);
    if (!setting) {
      throw new Error(
        `${SOURCE} line ${first + index + 1} is among the settings but is not one (: "\${NIXOS_AWS_NAME:=default}", ` +
          'the default without $, `, } or \\) nor a comment',
      );
    }
    return `export ${setting[1]}="\${${setting[1]}:-${setting[2]}}"`;
  });
}

/** The header and footer around the payload, from the source; throws as `settingsBlock` does, or without the PATH line. */
export function frame(source) {
  const path = PATH_LINE.exec(source)?.[0];
  if (!path) throw new Error(`${SOURCE} has no line export PATH=..., which the packed header runs base64 and gzip under`);
  const head = [
    '#!/usr/bin/env bash',
    '# nixos-aws instance-refresh: the user data of a NixOS launch template, packed to fit EC2\'s limit on user',
    `# data (16,384 bytes). Made by \`npm run build\` (scripts/user-data.mjs) from ${SOURCE},`,
    '# which says what it does and needs: this is that script without its comments, gzip\'d and base64\'d,',
    '# after its settings. Edit the settings here (or set the variables in the environment); change anything',
    '# else in the source and rebuild.',
    'set -euo pipefail',
    '# set -a: a setting edited here as a plain NAME=value line is passed on to the script too.',
    'set -a',
    ...settingsBlock(source),
    'set +a',
    path,
    // base64 and gzip: coreutils and gzip are among NixOS's required packages, in /run/current-system/sw/bin.
    "packed='",
  ];
  const tail = [
    "'",
    'if ! script=$(printf %s "$packed" | base64 -d | gzip -dc) || [ -z "$script" ]; then',
    "  echo 'nixos-aws: the packed user data does not decode (base64, gzip); rebuild it from the source' >&2",
    '  if [ "$NIXOS_AWS_ON_FAILURE" != stay ]; then systemctl poweroff || systemctl poweroff --force --force || true; fi',
    '  exit 1',
    'fi',
    'exec "$BASH" -c "$script" user-data.sh',
    '',
  ];
  return { head: head.join('\n'), tail: tail.join('\n') };
}

/** gzip as `gzip -9n` would write it on Unix: no name, time 0, OS byte 3, so the bytes depend only on the text. */
function gzip(text) {
  const bytes = gzipSync(Buffer.from(text, 'utf8'), { level: 9 });
  bytes[9] = 3;
  return bytes;
}

/** The packed file's text for `source`; throws when stripping would change the program or the result does not fit. */
export function pack(source) {
  const script = stripComments(source);
  if (parsedProgram(script) !== parsedProgram(source)) {
    throw new Error(`dropping ${SOURCE}'s comment lines changes the program bash parses (a # line inside a heredoc or string?)`);
  }
  const { head, tail } = frame(source);
  const payload = gzip(script).toString('base64').match(new RegExp(`.{1,${WRAP}}`, 'g')).join('\n');
  const text = `${head}${payload}${tail}`;
  const size = Buffer.byteLength(text);
  if (size > USER_DATA_LIMIT) throw new Error(`${PACKED} would be ${size} bytes, over EC2's limit on user data of ${USER_DATA_LIMIT}`);
  return text;
}

/** A packed file's parts: `{ head, script, tail }`, the script decoded from its payload; undefined when it has no payload. */
export function unpack(text) {
  const start = text.indexOf("packed='");
  const end = start < 0 ? -1 : text.indexOf("'", start + "packed='".length);
  if (end < 0) return undefined;
  const head = text.slice(0, start + "packed='".length);
  const tail = text.slice(end);
  const payload = text.slice(head.length, end).replace(/\n/g, '');
  // Node's decoder skips what is not base64, where the instance's `base64 -d` fails: only strict base64 decodes here.
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(payload)) return undefined;
  try {
    const script = gunzipSync(Buffer.from(payload, 'base64')).toString('utf8');
    return { head, script, tail };
  } catch {
    return undefined;
  }
}

/** Whether `packed` (the file's text, or undefined when there is none) holds what `source` makes, compressed by any zlib. */
export function isCurrent(source, packed) {
  const parts = packed === undefined ? undefined : unpack(packed);
  if (!parts) return false;
  const { head, tail } = frame(source);
  return parts.head === head && parts.tail === tail && parts.script === stripComments(source);
}

function main(args) {
  const at = args.indexOf('--root');
  const dir = at >= 0 ? resolve(args[at + 1] ?? '') : root;
  const source = readFileSync(join(dir, SOURCE), 'utf8');
  let current;
  try {
    current = readFileSync(join(dir, PACKED), 'utf8');
  } catch {
    current = undefined;
  }
  const wanted = pack(source);
  if (isCurrent(source, current)) {
    if (!args.includes('--check')) console.log(`${PACKED}: ${Buffer.byteLength(current)} of ${USER_DATA_LIMIT} bytes, up to date`);
    return;
  }
  if (args.includes('--check')) {
    console.error(`${PACKED} is not what ${SOURCE} makes: run npm run build and commit it.`);
    process.exitCode = 1;
    return;
  }
  writeFileSync(join(dir, PACKED), wanted);
  console.log(`${PACKED}: ${Buffer.byteLength(wanted)} of ${USER_DATA_LIMIT} bytes, written`);
}

runAsScript(import.meta.url, 'user-data', main);
