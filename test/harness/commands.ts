/**
 * Workflow commands as the GitHub runner reads them from a step's output (actions/runner `ProcessInvoker`,
 * `ActionCommandManager.TryProcessCommand`, `ActionCommand.TryParseV2` and `TryParse`):
 * - lines end at `\n`, `\r` or `\r\n` (.NET `StreamReader.ReadLine`);
 * - `::name k=v,k2=v2::data` when the line starts with `::` after leading whitespace (.NET `TrimStart`);
 * - else `##[name k=v;k2=v2]data` at the first `##[` anywhere in the line;
 * - only registered names count, in any case; `::stop-commands::token` makes every command but the token
 *   (`::token::` or `##[token]`, which resumes) plain text.
 */

export type AnnotationLevel = 'error' | 'warning' | 'notice';

export interface Annotation {
  level: AnnotationLevel;
  message: string;
  /** `title`, `file`, `line`, `endLine`, `col`, `endColumn`, as given. */
  properties: Record<string, string>;
}

export interface Command {
  /** Lower case. */
  name: string;
  properties: Record<string, string>;
  data: string;
}

/** A command the runner carried out, and the line (of all lines read) that carried it. */
export interface RunCommand extends Command {
  line: number;
}

export interface Commands {
  annotations: Annotation[];
  /** Values registered with `::add-mask::`, which the runner replaces with `***` in the log. */
  masks: string[];
  /**
   * Every line but the `::add-mask::` commands (which the runner consumes), before masking: what the log would
   * show if masking failed, which is where a secret must never be.
   */
  logLines: string[];
  /** Every command the runner would carry out, in order: stops, resumes, groups, outputs, masks, annotations... */
  commands: RunCommand[];
  /** The token of a `stop-commands` never resumed: the rest of the step's commands, its error too, were lost. */
  stoppedBy?: string;
}

/** The runner's command extensions (`ActionCommandManager` and its `IActionCommandExtension`s). */
export const REGISTERED_COMMANDS: readonly string[] = [
  'stop-commands',
  'set-env',
  'set-output',
  'save-state',
  'add-mask',
  'add-path',
  'add-matcher',
  'remove-matcher',
  'debug',
  'warning',
  'error',
  'notice',
  'group',
  'endgroup',
  'echo',
];

const ANNOTATIONS = new Set<string>(['error', 'warning', 'notice']);
/** .NET `char.IsWhiteSpace`, which `TrimStart()` removes. */
const LEADING_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** The runner's unescaping: ordinal, in the runner's order of mappings. */
const DATA_ESCAPES: Array<[string, string]> = [['%0D', '\r'], ['%0A', '\n'], ['%25', '%']];
const PROPERTY_ESCAPES: Array<[string, string]> = [['%0D', '\r'], ['%0A', '\n'], ['%3A', ':'], ['%2C', ','], ['%25', '%']];
const V1_ESCAPES: Array<[string, string]> = [['%3B', ';'], ['%0D', '\r'], ['%0A', '\n'], ['%5D', ']'], ['%25', '%']];

function unescape(text: string, escapes: Array<[string, string]>): string {
  return escapes.reduce((out, [escaped, plain]) => out.replaceAll(escaped, plain), text);
}

/** A step's output as the runner's lines. */
export function splitLines(text: string): string[] {
  return text === '' ? [] : text.replace(/(?:\r\n|\r|\n)$/, '').split(/\r\n|\r|\n/);
}

function isRegistered(name: string, registered: readonly string[]): boolean {
  return name !== '' && registered.some((known) => known.toLowerCase() === name.toLowerCase());
}

/** `name k=v<sep>k=v` -> properties, as the runner splits them (empty parts and halves dropped). */
function properties(text: string, separator: string, escapes: Array<[string, string]>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of text.split(separator).filter((part) => part !== '')) {
    const at = pair.indexOf('=');
    const parts = at < 0 ? [pair] : [pair.slice(0, at), pair.slice(at + 1)];
    // Split(..., count: 2, RemoveEmptyEntries): "a=" and "=b" have one part.
    const kept = parts.filter((part) => part !== '');
    if (kept.length === 2 && at > 0) result[kept[0]] = unescape(kept[1], escapes);
  }
  return result;
}

/** `::name props::data` (`ActionCommand.TryParseV2`). */
function parseV2(line: string, registered: readonly string[]): Command | undefined {
  const text = line.replace(LEADING_SPACE, '');
  if (!text.startsWith('::')) return undefined;
  const end = text.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = text.slice(2, end);
  const space = info.indexOf(' ');
  const name = space < 0 ? info : info.slice(0, space);
  if (!isRegistered(name, registered)) return undefined;
  return {
    name: name.toLowerCase(),
    properties: space > 0 ? properties(info.slice(space + 1).trim(), ',', PROPERTY_ESCAPES) : {},
    data: unescape(text.slice(end + 2), DATA_ESCAPES),
  };
}

/** `##[name props]data` at the first `##[` of the line (`ActionCommand.TryParse`). */
function parseV1(line: string, registered: readonly string[]): Command | undefined {
  const start = line.indexOf('##[');
  if (start < 0) return undefined;
  const end = line.indexOf(']', start);
  if (end < 0) return undefined;
  const info = line.slice(start + 3, end);
  const space = info.indexOf(' ');
  const name = space < 0 ? info : info.slice(0, space);
  if (!isRegistered(name, registered)) return undefined;
  return {
    name: name.toLowerCase(),
    properties: space > 0 ? properties(info.slice(space + 1), ';', V1_ESCAPES) : {},
    data: unescape(line.slice(end + 1), V1_ESCAPES),
  };
}

/** One line as a command, or undefined when it is not one: the `::` form first, then `##[`. */
export function parseCommand(line: string, registered: readonly string[] = REGISTERED_COMMANDS): Command | undefined {
  return parseV2(line, registered) ?? parseV1(line, registered);
}

/** Reads the commands in the given lines, in order (stdout, then stderr: the runner reads both). */
export function parseCommands(lines: string[]): Commands {
  const result: Commands = { annotations: [], masks: [], logLines: [], commands: [] };
  let stopToken: string | undefined;
  lines.forEach((line, index) => {
    const registered = stopToken ? [...REGISTERED_COMMANDS, stopToken] : REGISTERED_COMMANDS;
    const command = parseCommand(line, registered);
    const run = () => result.commands.push({ ...command!, line: index });
    if (stopToken !== undefined) {
      // An empty token never resumes (the runner checks for one before comparing).
      if (stopToken !== '' && command?.name === stopToken.toLowerCase()) {
        stopToken = undefined;
        run();
      }
      result.logLines.push(line);
    } else if (command?.name === 'add-mask') {
      run();
      result.masks.push(...command.data.split(/\r?\n/).filter((part) => part.trim() !== ''));
    } else {
      result.logLines.push(line);
      if (!command) return;
      run();
      if (command.name === 'stop-commands') stopToken = command.data;
      if (ANNOTATIONS.has(command.name)) {
        result.annotations.push({
          level: command.name as AnnotationLevel,
          message: command.data,
          properties: command.properties,
        });
      }
    }
  });
  if (stopToken !== undefined) result.stoppedBy = stopToken;
  return result;
}
