import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { parseFileCommands, tempFile } from '../shared/fixtures/runner-files.js';
import { KEY_FILE_STATE } from './cleanup.js';
import { writeKeyFile } from './key-file.js';

const KEY = `cache-1:${'A'.repeat(86)}==`;

describe('writeKeyFile', () => {
  const state = tempFile('state');
  const saved = process.env.GITHUB_STATE;
  const runnerTemp = dirname(state.path);
  beforeEach(() => {
    process.env.GITHUB_STATE = state.path;
    state.clear();
  });
  afterAll(() => {
    process.env.GITHUB_STATE = saved;
    state.remove();
  });

  it('writes the key under RUNNER_TEMP, readable by its owner only, named in the state; remove() deletes it', async () => {
    const file = await writeKeyFile(KEY, { RUNNER_TEMP: runnerTemp });
    expect(dirname(file.path)).toBe(runnerTemp);
    expect(readFileSync(file.path, 'utf8')).toBe(KEY);
    expect(statSync(file.path).mode & 0o777).toBe(0o600);
    expect(parseFileCommands(state.read())).toEqual({ [KEY_FILE_STATE]: file.path });
    await file.remove();
    expect(existsSync(file.path)).toBe(false);
    await expect(file.remove()).resolves.toBeUndefined();
  });

  it('uses a new name each time', async () => {
    const [first, second] = [await writeKeyFile(KEY, { RUNNER_TEMP: runnerTemp }), await writeKeyFile(KEY, { RUNNER_TEMP: runnerTemp })];
    expect(first.path).not.toBe(second.path);
    await Promise.all([first.remove(), second.remove()]);
  });
});
