/**
 * The part of IAM's evaluation of identity policies that decides whether an action is allowed at all: `Action` and
 * `NotAction` with `*` and `?` wildcards, case-insensitive, an explicit `Deny` over any `Allow`. Resources and
 * conditions are not evaluated: what they scope is argued in the README, not decided here.
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

function glob(pattern: string, value: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 'i').test(value);
}

function matches(statement: Statement, action: string): boolean {
  if (statement.NotAction !== undefined) return !list(statement.NotAction).some((pattern) => glob(pattern, action));
  return list(statement.Action).some((pattern) => glob(pattern, action));
}

/** Whether the policy allows `action` (`service:Operation`) on some resource. */
export function allows(policy: PermissionPolicy, action: string): boolean {
  const applying = list(policy.Statement).filter((statement) => matches(statement, action));
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
