/**
 * The part of IAM's evaluation of identity policies that decides whether an action is allowed, on a resource when one
 * is named: `Action` and `NotAction` with `*` and `?` wildcards, case-insensitive; `Resource` and `NotResource` ARN
 * patterns with the same wildcards, case-sensitive; an explicit `Deny` over any `Allow`. Conditions are not
 * evaluated (a conditioned statement counts as applying): what they scope is argued in the README, not decided here.
 */
type OneOrMany<T> = T | T[];

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: OneOrMany<string>;
  NotAction?: OneOrMany<string>;
  Resource?: OneOrMany<string>;
  NotResource?: OneOrMany<string>;
  Condition?: Record<string, Record<string, OneOrMany<string>>>;
}

export interface PermissionPolicy {
  Version: string;
  Statement: OneOrMany<Statement>;
}

const list = <T>(value: OneOrMany<T> | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

function glob(pattern: string, value: string, flags = 'i'): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, flags).test(value);
}

function matches(statement: Statement, action: string): boolean {
  if (statement.NotAction !== undefined) return !list(statement.NotAction).some((pattern) => glob(pattern, action));
  return list(statement.Action).some((pattern) => glob(pattern, action));
}

/** ARNs are matched case-sensitively (the service and region parts are lower case anyway). */
function coversResource(statement: Statement, resource: string): boolean {
  if (statement.NotResource !== undefined) return !list(statement.NotResource).some((pattern) => glob(pattern, resource, ''));
  return list(statement.Resource).some((pattern) => glob(pattern, resource, ''));
}

/**
 * Whether the policy allows `action` (`service:Operation`): on `resource` (an ARN) when given, else on some resource.
 */
export function allows(policy: PermissionPolicy, action: string, resource?: string): boolean {
  const applying = list(policy.Statement).filter(
    (statement) => matches(statement, action) && (resource === undefined || coversResource(statement, resource)),
  );
  return !applying.some((s) => s.Effect === 'Deny') && applying.some((s) => s.Effect === 'Allow');
}

/**
 * Every action the policy's `Allow` statements name, as written. A wildcard or `NotAction` in an `Allow` would
 * grant actions no list can hold, so it is refused: such a policy cannot be shown to grant only what it needs.
 */
export function grantedActions(policy: PermissionPolicy): string[] {
  const allowing = list(policy.Statement).filter((statement) => statement.Effect === 'Allow');
  const named = allowing.flatMap((statement) => {
    if (statement.NotAction !== undefined) throw new Error(`statement ${statement.Sid ?? ''} allows with NotAction`);
    return list(statement.Action);
  });
  const wild = named.filter((action) => /[*?]/.test(action));
  if (wild.length > 0) throw new Error(`wildcard actions allowed: ${wild.join(', ')}`);
  return [...new Set(named)].filter((action) => allows(policy, action)).sort();
}
