import * as core from '@actions/core';
import { errorMessage } from '../shared/errors.js';
import { readInputs } from './inputs.js';

/** The assume-role step: every input is validated before anything else happens. */
export async function run(): Promise<void> {
  try {
    readInputs();
    core.setFailed('assume-role: not implemented yet in this release (see issue #3); inputs are valid');
  } catch (error) {
    core.setFailed(errorMessage(error));
  }
}
