/**
 * The part of IAM's evaluation of identity policies that decides whether an action is allowed, on a resource when one
 * is named: `Action` and `NotAction` with `*` and `?` wildcards, case-insensitive; `Resource` and `NotResource` ARN
 * patterns with the same wildcards, case-sensitive; an explicit `Deny` over any `Allow`. Conditions are evaluated
 * when a request context is given (see {@link RequestContext}); without one, a conditioned statement counts as
 * applying, and what it scopes is argued in docs/security.md.
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
 * The condition keys of a request, as IAM sees them: `aws:ResourceTag/Environment` (the resource's tag, absent when it
 * has none), `aws:RequestTag/Environment` and `aws:TagKeys` (the tags the request sets). A key not in it is absent.
 */
export type RequestContext = Record<string, string | string[]>;

/**
 * Whether the statement's conditions hold in `context`, as IAM's condition operators read them: `StringEquals`
 * (case-sensitive; an absent key fails it), `StringEqualsIfExists` (an absent key passes), `ForAllValues:StringEquals`
 * (every value of the key among the listed; an absent key passes), `ForAnyValue:StringEquals` (some value of the key
 * among the listed; an absent key fails it), `Null` (`"true"`: the key is absent; `"false"`: it is present). Each
 * operator and each key must hold (AND); any of
 * a key's listed values may match (OR). Other operators are refused, so that a policy is never judged by a guess.
 */
function conditionsHold(statement: Statement, context: RequestContext): boolean {
  return Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, wanted]) => {
      const allowed = list(wanted);
      const found = Object.entries(context).find(([name]) => name.toLowerCase() === key.toLowerCase())?.[1];
      const values = found === undefined ? undefined : list(found);
      switch (operator) {
        case 'StringEquals':
          return values !== undefined && values.some((v) => allowed.includes(v));
        case 'StringEqualsIfExists':
          return values === undefined || values.some((v) => allowed.includes(v));
        case 'ForAllValues:StringEquals':
          return values === undefined || values.every((v) => allowed.includes(v));
        case 'ForAnyValue:StringEquals':
          return values !== undefined && values.some((v) => allowed.includes(v));
        case 'Null':
          return allowed.includes(String(values === undefined));
        default:
          throw new Error(`condition operator ${operator} is not evaluated here`);
      }
    }),
  );
}

/**
 * Whether the policy allows `action` (`service:Operation`): on `resource` (an ARN) when given, else on some resource;
 * with `context`, only statements whose conditions hold in it apply.
 */
export function allows(policy: PermissionPolicy, action: string, resource?: string, context?: RequestContext): boolean {
  const applying = list(policy.Statement).filter(
    (statement) =>
      matches(statement, action) &&
      (resource === undefined || coversResource(statement, resource)) &&
      (context === undefined || conditionsHold(statement, context)),
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
