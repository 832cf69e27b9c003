/**
 * Printing text this project did not write (command output from instances, `nix build` logs) into the step log.
 * The runner treats any stdout line starting with `::` as a workflow command, so such text could otherwise add
 * annotations, open groups or register masks; inside `::stop-commands::<token>` it is shown verbatim. The token is
 * random per use so the text cannot guess it and resume commands itself.
 *
 * While commands are stopped, this process's own commands (masks, annotations, groups) are shown, not run:
 * mask secrets before, and keep inside only the untrusted output.
 */
import { randomUUID } from 'node:crypto';
import * as core from '@actions/core';

export async function withCommandsStopped<T>(fn: () => Promise<T>): Promise<T> {
  const token = randomUUID();
  core.info(`::stop-commands::${token}`);
  try {
    return await fn();
  } finally {
    core.info(`::${token}::`);
  }
}

/** A collapsed log group holding `text` verbatim, such as the output of an instance that failed. */
export function showUntrusted(title: string, text: string): Promise<void> {
  return core.group(title.replace(/[\r\n]+/g, ' '), () => withCommandsStopped(async () => core.info(text)));
}
