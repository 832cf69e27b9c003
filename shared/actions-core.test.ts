import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import * as actionsCore from '@actions/core';
import * as ours from './actions-core.js';

type Api = typeof ours;
const FILES = ['OUTPUT', 'ENV', 'STATE', 'STEP_SUMMARY'] as const;
const SAVED = { ...process.env };
let folder = '';

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'actions-core-'));
});
afterEach(() => {
  process.env = { ...SAVED };
  process.exitCode = undefined;
  rmSync(folder, { recursive: true, force: true });
});

/** What one implementation wrote: stdout, each file command's file, the exit code and what it threw. */
async function observe(api: Api, calls: (api: Api) => unknown, withFiles: boolean) {
  process.env = { ...SAVED, INPUT_NAME: '  a value  ', 'INPUT_TWO_WORDS': 'x', INPUT_FLAG: 'True', INPUT_BAD: 'yes', STATE_TOKEN: 't' };
  for (const name of FILES) delete process.env[`GITHUB_${name}`];
  // @actions/core's summary remembers the first file it wrote to; each run here has its own.
  (actionsCore.summary as unknown as { _filePath?: string })._filePath = undefined;
  const run = mkdtempSync(join(folder, 'run-'));
  if (withFiles) {
    for (const name of FILES) {
      writeFileSync(join(run, name), '');
      process.env[`GITHUB_${name}`] = join(run, name);
    }
  }
  let stdout = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => {
    stdout += chunk;
    return true;
  }) as typeof process.stdout.write;
  let value: unknown;
  let thrown: string | undefined;
  try {
    value = await calls(api);
  } catch (error) {
    thrown = `${(error as Error).name}: ${(error as Error).message}`;
  } finally {
    process.stdout.write = write;
  }
  const files = withFiles ? Object.fromEntries(FILES.map((name) => [name, readFileSync(join(run, name), 'utf8')])) : {};
  const exitCode = process.exitCode;
  process.exitCode = undefined;
  const env = { FROM_EXPORT: process.env.FROM_EXPORT };
  // The file commands' delimiters are random.
  return JSON.parse(JSON.stringify({ stdout, files, exitCode, value, thrown, env }).replace(/ghadelimiter_[0-9a-f-]{36}/g, 'ghadelimiter_X')) as unknown;
}

const cases: Array<[string, (api: Api) => unknown]> = [
  ['info, debug, warning and error, with characters to escape', (c) => {
    c.info('plain :: line\r\n%0A');
    c.debug('a%b\rc\nd');
    c.warning('w: 1, 2\n3');
    c.error(new Error('boom'));
  }],
  ['setFailed', (c) => c.setFailed('it failed\nbadly 100%')],
  ['setSecret', (c) => c.setSecret('s3cr3t\nline two')],
  ['group around a value', (c) => c.group('title: a, b', async () => 42)],
  ['group around a throw', (c) => c.group('g', async () => { throw new Error('inner'); })],
  ['setOutput of strings and JSON', (c) => {
    c.setOutput('plain', 'v');
    c.setOutput('multi', 'line 1\nline 2');
    c.setOutput('json', { a: [1, 2] });
    c.setOutput('none', undefined);
  }],
  ['exportVariable', (c) => c.exportVariable('FROM_EXPORT', 'x\ny')],
  ['saveState and getState', (c) => {
    c.saveState('token', 'saved');
    return [c.getState('TOKEN'), c.getState('token'), c.getState('absent')];
  }],
  ['getInput and getBooleanInput', (c) => [
    c.getInput('name'),
    c.getInput('name', { trimWhitespace: false }),
    c.getInput('two words'),
    c.getInput('absent'),
    c.getBooleanInput('flag'),
  ]],
  ['a required input absent', (c) => c.getInput('absent', { required: true })],
  ['a boolean input that is not one', (c) => c.getBooleanInput('bad')],
  ['the summary', (c) =>
    c.summary
      .emptyBuffer()
      .addHeading('Title &amp;', 2)
      .addRaw('<p>text</p>', true)
      .addTable([[{ data: 'Label', header: true }, { data: 'value' }], ['plain', { data: '', colspan: '2' }]])
      .addHeading('bad level', 9)
      .write()
      .then((s) => s.stringify())],
];

describe('actions-core writes what @actions/core writes', () => {
  it.each(cases)('%s, with the file commands', async (_case, calls) => {
    expect(await observe(ours, calls, true)).toEqual(await observe(actionsCore as unknown as Api, calls, true));
  });

  it.each(cases)('%s, without them', async (_case, calls) => {
    expect(await observe(ours, calls, false)).toEqual(await observe(actionsCore as unknown as Api, calls, false));
  });

  it('writes the outputs it is given (the comparison is not of two empty runs)', async () => {
    const seen = (await observe(ours, (c) => c.setOutput('plain', 'v'), true)) as { files: { OUTPUT: string } };
    expect(seen.files.OUTPUT).toBe('plain<<ghadelimiter_X\nv\nghadelimiter_X\n');
  });
});
