/**
 * Workflow commands as the GitHub runner reads them from a step's output: `::error file=a.ts,line=3::message`,
 * `::add-mask::value`, and `::stop-commands::token` ... `::token::`, between which nothing is a command.
 */

export type AnnotationLevel = 'error' | 'warning' | 'notice';

export interface Annotation {
  level: AnnotationLevel;
  message: string;
  /** `title`, `file`, `line`, `endLine`, `col`, `endColumn`, as given. */
  properties: Record<string, string>;
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
}

const ANNOTATIONS = new Set<string>(['error', 'warning', 'notice']);

/** The runner's escapes: `%25`, `%0D`, `%0A` in data, and also `%3A`, `%2C` in property values. */
function unescape(text: string, property: boolean): string {
  const pattern = property ? /%(25|0D|0A|3A|2C)/gi : /%(25|0D|0A)/gi;
  return text.replace(pattern, (_match, code: string) => String.fromCharCode(parseInt(code, 16)));
}

interface Command {
  name: string;
  properties: Record<string, string>;
  data: string;
}

/** One line as a command, or undefined when it is not one (as the runner's `ActionCommand.TryParseV2`). */
export function parseCommand(line: string): Command | undefined {
  const text = line.trimStart();
  if (!text.startsWith('::')) return undefined;
  const end = text.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = text.slice(2, end);
  const space = info.indexOf(' ');
  const name = (space < 0 ? info : info.slice(0, space)).toLowerCase();
  if (!name) return undefined;
  const properties: Record<string, string> = {};
  for (const pair of space < 0 ? [] : info.slice(space + 1).split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) properties[pair.slice(0, at).trim()] = unescape(pair.slice(at + 1), true);
  }
  return { name, properties, data: unescape(text.slice(end + 2), false) };
}

/** Reads the commands in the given lines, in order (stdout, then stderr: the runner reads both). */
export function parseCommands(lines: string[]): Commands {
  const result: Commands = { annotations: [], masks: [], logLines: [] };
  let stopToken: string | undefined;
  for (const line of lines) {
    const command = parseCommand(line);
    if (stopToken !== undefined) {
      if (command?.name === stopToken.toLowerCase() && command.data === '') stopToken = undefined;
      result.logLines.push(line);
    } else if (command?.name === 'add-mask') {
      result.masks.push(...command.data.split(/\r?\n/).filter((part) => part.trim() !== ''));
    } else {
      result.logLines.push(line);
      if (command?.name === 'stop-commands') stopToken = command.data;
      if (command && ANNOTATIONS.has(command.name)) {
        result.annotations.push({
          level: command.name as AnnotationLevel,
          message: command.data,
          properties: command.properties,
        });
      }
    }
  }
  return result;
}
