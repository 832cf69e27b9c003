/** Reads a command's state: one ListCommands call and a walk over every page of ListCommandInvocations. */
import {
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  type CommandInvocation,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { normaliseDetails, type CommandState, type InstanceResult } from './command-state.js';

/** The largest page ListCommandInvocations serves. */
export const PAGE_SIZE = 50;

/**
 * `details` also reads each invocation's plugin results (exit code, start and end): more bytes per page, so it is
 * asked for once, when the command has ended.
 */
export async function readCommand(
  ssm: SSMClient,
  commandId: string,
  options: { signal?: AbortSignal; details?: boolean } = {},
): Promise<CommandState> {
  const listed = await ssm.send(new ListCommandsCommand({ CommandId: commandId }), { abortSignal: options.signal });
  const command = listed.Commands?.find((c) => c.CommandId === commandId);
  if (!command) throw new Error(`ListCommands does not know the command ${commandId}`);
  const instances: InstanceResult[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ssm.send(
      new ListCommandInvocationsCommand({
        CommandId: commandId,
        MaxResults: PAGE_SIZE,
        NextToken: nextToken,
        Details: options.details === true,
      }),
      { abortSignal: options.signal },
    );
    instances.push(...(page.CommandInvocations ?? []).map(toResult));
    nextToken = page.NextToken;
  } while (nextToken);
  return {
    commandId,
    status: command.Status ?? 'Pending',
    statusDetails: normaliseDetails(command.StatusDetails),
    instances,
  };
}

function toResult(invocation: CommandInvocation): InstanceResult {
  const plugins = invocation.CommandPlugins ?? [];
  // The document has one step; were there more, the first that did not succeed explains the outcome.
  const telling = plugins.find((p) => (p.ResponseCode ?? 0) !== 0) ?? plugins[plugins.length - 1];
  const starts = plugins.flatMap((p) => (p.ResponseStartDateTime ? [p.ResponseStartDateTime.getTime()] : []));
  const ends = plugins.flatMap((p) => (p.ResponseFinishDateTime ? [p.ResponseFinishDateTime.getTime()] : []));
  return {
    instanceId: invocation.InstanceId ?? '',
    status: invocation.Status ?? 'Pending',
    statusDetails: normaliseDetails(invocation.StatusDetails),
    responseCode: telling?.ResponseCode ?? -1,
    ...(starts.length > 0 ? { startedAt: new Date(Math.min(...starts)) } : {}),
    ...(ends.length > 0 ? { endedAt: new Date(Math.max(...ends)) } : {}),
  };
}
