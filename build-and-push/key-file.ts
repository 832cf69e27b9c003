/**
 * The file through which the signing key reaches Nix (`nix store sign --key-file`, `secret-key=` of the store URI).
 * Created readable by the runner user only, with that mode from the start, under RUNNER_TEMP; named in the step's
 * state before it exists, so that the post step removes it even if this process is killed.
 */
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { KEY_FILE_STATE } from './cleanup.js';

export interface KeyFile {
  path: string;
  remove(): Promise<void>;
}

export async function writeKeyFile(key: string, env: NodeJS.ProcessEnv = process.env): Promise<KeyFile> {
  const path = join(env.RUNNER_TEMP || tmpdir(), `nix-signing-key-${randomUUID()}`);
  core.saveState(KEY_FILE_STATE, path);
  // `wx`: never through a file or link someone else put there.
  await writeFile(path, key, { mode: 0o600, flag: 'wx' });
  return { path, remove: () => rm(path, { force: true }) };
}
