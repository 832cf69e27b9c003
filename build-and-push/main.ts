import * as core from '@actions/core';
import { errorMessage } from '../shared/errors.js';
import { Input, readInputs } from './inputs.js';

/** The build-and-push step: every input is validated before anything else happens. */
export async function run(): Promise<void> {
  try {
    // Masked before it is parsed, so that no message about it, ours or a library's, can show it in the log.
    const signingKey = core.getInput(Input.SigningKey);
    if (signingKey) core.setSecret(signingKey);
    readInputs();
    core.setFailed('build-and-push: not implemented yet in this release (see issue #6); inputs are valid');
  } catch (error) {
    core.setFailed(errorMessage(error));
  }
}
