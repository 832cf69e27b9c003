/**
 * The runner's command protocol, as `@actions/core` 3.x speaks it: the part of its API these actions use, written
 * byte for byte as it writes (`actions-core.test.ts` runs both side by side), without importing it. `@actions/core`'s
 * index loads its OIDC client, and with it `@actions/http-client`, `undici` and `tunnel`, and `@actions/exec` for
 * `platform`: about 1.3 MB of modules and, measured with `node --cpu-prof`, the larger part of a bundle's start-up,
 * for calls that are a line on stdout or a line appended to a file.
 *
 * - Workflow commands go to stdout as `::name key=value,...::data`, data escaped `%`, `\r`, `\n` to `%25`, `%0D`,
 *   `%0A` (properties also `:` and `,`).
 * - File commands (`GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_STATE`) append `name<<ghadelimiter_<uuid>`, the value and
 *   the delimiter, each on its own line; without the file, the older `::set-output`/`::save-state` commands.
 * - The job summary is appended to `GITHUB_STEP_SUMMARY` as the HTML `core.summary` builds.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync } from 'node:fs';
import { access, appendFile, constants, writeFile } from 'node:fs/promises';
import { EOL } from 'node:os';

type Properties = Record<string, string | number | undefined>;

const commandValue = (value: unknown): string =>
  value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
const escapeData = (value: unknown) => commandValue(value).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (value: unknown) => escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** `::command key=value,...::message` on stdout; properties without a value are left out. */
export function issueCommand(command: string, properties: Properties, message: unknown): void {
  const given = Object.entries(properties).filter(([, value]) => value);
  const props = given.length ? ` ${given.map(([key, value]) => `${key}=${escapeProperty(value)}`).join(',')}` : '';
  process.stdout.write(`::${command}${props}::${escapeData(message)}${EOL}`);
}

function issueFileCommand(command: 'OUTPUT' | 'ENV' | 'STATE', message: string): void {
  const path = process.env[`GITHUB_${command}`];
  if (!path) throw new Error(`Unable to find environment variable for file command ${command}`);
  if (!existsSync(path)) throw new Error(`Missing file at path: ${path}`);
  appendFileSync(path, `${message}${EOL}`, { encoding: 'utf8' });
}

function keyValueMessage(key: string, value: unknown): string {
  const delimiter = `ghadelimiter_${randomUUID()}`;
  const text = commandValue(value);
  if (key.includes(delimiter)) throw new Error(`Unexpected input: name should not contain the delimiter "${delimiter}"`);
  if (text.includes(delimiter)) throw new Error(`Unexpected input: value should not contain the delimiter "${delimiter}"`);
  return `${key}<<${delimiter}${EOL}${text}${EOL}${delimiter}`;
}

export interface InputOptions {
  required?: boolean;
  trimWhitespace?: boolean;
}

/** `INPUT_<NAME>` (upper case, spaces to `_`), trimmed; throws when required and empty. */
export function getInput(name: string, options: InputOptions = {}): string {
  const value = process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || '';
  if (options.required && !value) throw new Error(`Input required and not supplied: ${name}`);
  return options.trimWhitespace === false ? value : value.trim();
}

/** The YAML 1.2 core schema booleans; anything else throws a TypeError naming the input. */
export function getBooleanInput(name: string, options?: InputOptions): boolean {
  const value = getInput(name, options);
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw new TypeError(
    `Input does not meet YAML 1.2 "Core Schema" specification: ${name}\n` +
      'Support boolean input list: `true | True | TRUE | false | False | FALSE`',
  );
}

export function setOutput(name: string, value: unknown): void {
  if (process.env.GITHUB_OUTPUT) return issueFileCommand('OUTPUT', keyValueMessage(name, value));
  process.stdout.write(EOL);
  issueCommand('set-output', { name }, commandValue(value));
}

/** For later steps (`GITHUB_ENV`) and for this process. */
export function exportVariable(name: string, value: unknown): void {
  process.env[name] = commandValue(value);
  if (process.env.GITHUB_ENV) return issueFileCommand('ENV', keyValueMessage(name, value));
  issueCommand('set-env', { name }, commandValue(value));
}

/** For the post step, which reads it as `STATE_<name>`. */
export function saveState(name: string, value: unknown): void {
  if (process.env.GITHUB_STATE) return issueFileCommand('STATE', keyValueMessage(name, value));
  issueCommand('save-state', { name }, commandValue(value));
}

export function getState(name: string): string {
  return process.env[`STATE_${name}`] || '';
}

export function setSecret(secret: string): void {
  issueCommand('add-mask', {}, secret);
}

export function info(message: string): void {
  process.stdout.write(message + EOL);
}

export function debug(message: string): void {
  issueCommand('debug', {}, message);
}

export function warning(message: string | Error): void {
  issueCommand('warning', {}, message instanceof Error ? message.toString() : message);
}

export function error(message: string | Error): void {
  issueCommand('error', {}, message instanceof Error ? message.toString() : message);
}

/** An error annotation, and exit code 1 when the process ends. */
export function setFailed(message: string | Error): void {
  process.exitCode = 1;
  error(message);
}

export function startGroup(name: string): void {
  issueCommand('group', {}, name);
}

export function endGroup(): void {
  issueCommand('endgroup', {}, '');
}

export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  startGroup(name);
  try {
    return await fn();
  } finally {
    endGroup();
  }
}

export interface SummaryTableCell {
  data: string;
  header?: boolean;
  colspan?: string;
  rowspan?: string;
}

/** `core.summary`'s builder, for the methods used here: the same HTML, appended to `GITHUB_STEP_SUMMARY`. */
class Summary {
  private buffer = '';

  private wrap(tag: string, content: string, attrs: Record<string, string> = {}): string {
    const html = Object.entries(attrs)
      .map(([key, value]) => ` ${key}="${value}"`)
      .join('');
    return content ? `<${tag}${html}>${content}</${tag}>` : `<${tag}${html}>`;
  }

  async write(options: { overwrite?: boolean } = {}): Promise<Summary> {
    const path = process.env.GITHUB_STEP_SUMMARY;
    if (!path) {
      throw new Error('Unable to find environment variable for $GITHUB_STEP_SUMMARY. Check if your runtime environment supports job summaries.');
    }
    try {
      await access(path, constants.R_OK | constants.W_OK);
    } catch {
      throw new Error(`Unable to access summary file: '${path}'. Check if the file has correct read/write permissions.`);
    }
    await (options.overwrite ? writeFile : appendFile)(path, this.buffer, { encoding: 'utf8' });
    return this.emptyBuffer();
  }

  stringify(): string {
    return this.buffer;
  }

  emptyBuffer(): Summary {
    this.buffer = '';
    return this;
  }

  addRaw(text: string, addEOL = false): Summary {
    this.buffer += text;
    return addEOL ? this.addEOL() : this;
  }

  addEOL(): Summary {
    return this.addRaw(EOL);
  }

  addHeading(text: string, level: number | string = 1): Summary {
    const tag = `h${level}`;
    return this.addRaw(this.wrap(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].includes(tag) ? tag : 'h1', text)).addEOL();
  }

  addTable(rows: Array<Array<SummaryTableCell | string>>): Summary {
    const body = rows
      .map((row) =>
        this.wrap(
          'tr',
          row
            .map((cell) => {
              if (typeof cell === 'string') return this.wrap('td', cell);
              const { header, data, colspan, rowspan } = cell;
              return this.wrap(header ? 'th' : 'td', data, { ...(colspan && { colspan }), ...(rowspan && { rowspan }) });
            })
            .join(''),
        ),
      )
      .join('');
    return this.addRaw(this.wrap('table', body)).addEOL();
  }
}

export const summary = new Summary();
