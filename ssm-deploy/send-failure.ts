/**
 * What a failed SendCommand means for the deploy. AWS refuses the whole command when any instance given by ID is
 * not an online SSM managed node, with `InvalidInstanceId` and a bare `Instances [[i-...]] not in a valid state
 * for account ...`: the message a user needs names the instances, the usual causes, and that nothing ran anywhere.
 */
import { errorMessage } from '../shared/errors.js';

/** The instance IDs in AWS's `Instances [[i-0abc, i-0def]] not in a valid state` message; none if it names none. */
export function refusedInstances(message: string): string[] {
  const listed = /\[\[([^\]]*)\]\]/.exec(message)?.[1] ?? '';
  return listed.match(/\bi-[0-9a-f]{8,17}\b/g) ?? [];
}

/**
 * The step's error message for a SendCommand that threw `error`. `InvalidInstanceId` is an answer from AWS that
 * created no command, so it says that nothing was sent; any other error is passed through as it is (a timeout, for
 * one, leaves unknown whether AWS created the command).
 */
export function explainSendFailure(error: unknown, region: string): string {
  const message = errorMessage(error);
  if ((error as Error | undefined)?.name !== 'InvalidInstanceId') return `SendCommand failed: ${message}`;
  const ids = refusedInstances(message);
  const which =
    ids.length > 1
      ? `Instances ${ids.join(', ')} are not online SSM managed nodes`
      : `${ids.length === 1 ? `Instance ${ids[0]}` : 'An instance in instance-ids'} is not an online SSM managed node`;
  return (
    `SendCommand refused the command (${message}). ${which} in ${region} for these ` +
    'credentials: the instance is stopped or terminated, its SSM Agent is stopped, not registered or too old, its ' +
    'instance profile lacks AmazonSSMManagedInstanceCore, or it is in another region or account (Fleet Manager ' +
    'lists the managed nodes). Nothing was sent to any instance.'
  );
}
