/**
 * The post step: removes the signing key file the main step wrote (named in the step's state before it was written).
 * The runner runs it after the job's other steps, also when the main step failed or the job was cancelled
 * (`post-if: always()`).
 */
import { rm } from 'node:fs/promises';
import * as core from '../shared/actions-core.js';
import { errorMessage } from '../shared/errors.js';
import * as log from '../shared/log.js';
import { KEY_FILE_STATE } from './plan.js';

async function cleanup(): Promise<void> {
  const file = core.getState(KEY_FILE_STATE);
  if (!file) return;
  try {
    await rm(file, { force: true });
    log.info('Removed the signing key file.');
  } catch (error) {
    log.fail(`Could not remove the signing key file ${file}: ${errorMessage(error)}`);
  }
}

void cleanup();
