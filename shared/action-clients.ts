/**
 * The AWS clients of an action. With `role-to-assume`, the role is assumed in-process from the job's OIDC token and
 * its credentials serve this action's clients only: nothing is exported to later steps. Without it, the clients use
 * the credentials already in the environment (for example from an earlier assume-role step).
 */
import { assumeRoleWithOidc, type AssumedRole, type RoleDependencies } from './assume-role-with-oidc.js';
import { clientFactory, type ClientFactory } from './aws-clients.js';
import { defaultSessionName, type RoleInputs } from './role-inputs.js';

export interface ActionClients {
  clients: ClientFactory;
  /** Set when the action assumed `role-to-assume` itself. */
  assumed?: AssumedRole;
}

/** `role.awsRegion` must already be resolved (see `resolveRegion`). */
export async function actionClients(
  role: RoleInputs,
  options: { signal?: AbortSignal; env?: NodeJS.ProcessEnv; deps?: RoleDependencies } = {},
): Promise<ActionClients> {
  const region = role.awsRegion;
  if (!role.roleToAssume) return { clients: clientFactory({ region }) };
  const assumed = await assumeRoleWithOidc(
    {
      roleArn: role.roleToAssume,
      region,
      audience: role.audience,
      sessionName: defaultSessionName(options.env ?? process.env),
      signal: options.signal,
    },
    options.deps,
  );
  return { clients: clientFactory({ region, credentials: assumed.credentials }), assumed };
}
