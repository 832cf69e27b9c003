import * as core from '@actions/core';
import { errorMessage } from '../shared/errors.js';
import { readInputs } from './inputs.js';

/** The instance-refresh step: every input is validated before anything else happens. */
export async function run(): Promise<void> {
  try {
    readInputs();
    core.setFailed('instance-refresh: not implemented yet in this release (see issue #4); inputs are valid');
  } catch (error) {
    core.setFailed(errorMessage(error));
  }
}
