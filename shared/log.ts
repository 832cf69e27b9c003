/**
 * The one way the actions print to the step log, so that text they did not write (AWS answers, input values,
 * instance and Nix output, token claims) is never a workflow command.
 *
 * How the runner finds commands (actions/runner: `ProcessInvoker` reads each stream with `StreamReader.ReadLine`;
 * `ActionCommandManager.TryProcessCommand` tries `ActionCommand.TryParseV2`, then `ActionCommand.TryParse`), for
 * stdout and stderr alike:
 * - A line ends at `\n`, `\r` or `\r\n`: a bare `\r` (a progress bar's) starts a new line for the runner.
 * - `::name key=value,...::data` is a command when the line, after .NET's `TrimStart()` (every `char.IsWhiteSpace`:
 *   tab to carriage return, space, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F,
 *   U+3000), starts with `::`. Names are matched without regard to case.
 * - `##[name key=value;...]data` is a command wherever `##[` appears in the line (the first one counts), when no
 *   `::` command was found.
 * - Either form of a registered name counts: add-mask, set-output, set-env, add-path, save-state, error, warning,
 *   notice, debug, group, endgroup, echo, add-matcher, remove-matcher, stop-commands, and while commands are
 *   stopped, the stop token itself (`::TOKEN::` or `##[TOKEN]`), which resumes them. An unresumed
 *   `stop-commands` hides every later command of the step, its own error annotation included.
 *
 * {@link foreign} breaks both forms and keeps the text readable: line ends become `\n`; a line that would start
 * with `::` gets a zero-width space (U+200B, not whitespace to .NET) in front; every `##[` becomes `##`, U+200B,
 * `[`. The marks go only at line starts and between `#` and `[`, so a masked secret (key material, tokens: no
 * `#` or `[`) stays whole in the text and masked in the log.
 *
 * `@actions/core` escapes annotation and group data (`%`, `\r`, `\n` to `%25`, `%0D`, `%0A`): such a line cannot
 * be split, and since it parses as a `::` command first, a `##[` in its data is inert. `core.info` escapes
 * nothing. The helpers here neutralise everything alike, so no call site has to know which is which.
 */
import { randomUUID } from 'node:crypto';
import * as core from './actions-core.js';

/** U+200B ZERO WIDTH SPACE: Unicode category Cf, so .NET's `TrimStart` keeps it and a `::` after it starts nothing. */
const MARK = '\u200b';
const LINE_END = /\r\n|\r|\n/;
/** .NET `char.IsWhiteSpace` (what `TrimStart()` removes), plus U+FEFF for good measure. */
const RUNNER_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
const COMMAND_START = new RegExp(`^[${RUNNER_SPACE}]*::`);

/** `text` made safe to print: no line of it is a workflow command in either form; see the module comment. */
export function foreign(text: string): string {
  return text.split(LINE_END).map(foreignLine).join('\n');
}

function foreignLine(line: string): string {
  const safe = line.replaceAll('##[', `##${MARK}[`);
  return COMMAND_START.test(safe) ? MARK + safe : safe;
}

/** `core.info` of foreign (or partly foreign) text. */
export function info(message: string): void {
  core.info(foreign(message));
}

export function warning(message: string): void {
  core.warning(foreign(message));
}

export function error(message: string): void {
  core.error(foreign(message));
}

/** `core.setFailed`: the step's error annotation, and exit code 1. */
export function fail(message: string): void {
  core.setFailed(foreign(message));
}

/** A log group whose title may hold foreign text, on one line. */
export function group<T>(title: string, fn: () => Promise<T>): Promise<T> {
  return core.group(foreign(title).replace(/\n/g, ' '), fn);
}

/** A held line longer than this is printed as a line of its own: a builder that never ends a line is bounded. */
export const MAX_HELD_CHARS = 65_536;

/**
 * Foreign text that arrives in chunks (a child's output): printed through {@link foreign} a whole line at a time,
 * so that a `::` or `##[` split across chunks is still seen; a partial last line is held until its end, or
 * {@link end}. Output through `write` always ends with a line end after `end()`.
 */
export class ForeignStream {
  private held = '';

  constructor(private readonly write: (text: string) => void = (text) => process.stdout.write(text)) {}

  push(chunk: string): void {
    const text = this.held + chunk;
    // A final `\r` may be the first half of `\r\n`: hold it with the partial line.
    const body = text.endsWith('\r') ? text.slice(0, -1) : text;
    const cut = Math.max(body.lastIndexOf('\n'), body.lastIndexOf('\r')) + 1;
    this.held = text.slice(cut);
    if (cut > 0) this.write(foreign(body.slice(0, cut)));
    if (this.held.length > MAX_HELD_CHARS) this.end();
  }

  /** Prints what is held, ended as a line. */
  end(): void {
    const rest = this.held.replace(/\r$/, '');
    this.held = '';
    if (rest !== '') this.write(`${foreign(rest)}\n`);
  }
}

/**
 * Runs `fn` with `::stop-commands::<token>` in force, `::<token>::` printed on a line of its own after it however
 * it ends. The token is random per use and, when `text` is given, one that does not occur in it (in any case).
 *
 * While commands are stopped, this process's own commands (masks, annotations, groups) are shown, not run:
 * mask secrets before, and keep inside only the untrusted output.
 */
export async function withCommandsStopped<T>(fn: () => Promise<T>, text = ''): Promise<T> {
  let token = randomUUID();
  while (text.toLowerCase().includes(token)) token = randomUUID();
  core.info(`::stop-commands::${token}`);
  try {
    return await fn();
  } finally {
    core.info(`::${token}::`);
  }
}

/**
 * A child's output streamed into the log while `fn` runs: `fn` gets the sink for its chunks. Neutralised line by
 * line and fenced by `stop-commands`, the resume token always on a line of its own.
 */
export function streamForeign<T>(fn: (push: (chunk: string) => void) => Promise<T>): Promise<T> {
  return withCommandsStopped(async () => {
    const stream = new ForeignStream();
    try {
      return await fn((chunk) => stream.push(chunk));
    } finally {
      stream.end();
    }
  });
}

/**
 * A collapsed log group holding `text` (such as the output of an instance that failed), neutralised and fenced by
 * `stop-commands` with a token the text does not contain: two independent guards.
 */
export function showUntrusted(title: string, text: string): Promise<void> {
  const shown = foreign(text);
  return group(title, () => withCommandsStopped(async () => core.info(shown), shown));
}
