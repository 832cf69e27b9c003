/**
 * Role trust policies as IAM evaluates them for AssumeRoleWithWebIdentity: a matching `Deny` wins, else
 * some matching `Allow` is needed. Within a condition key the values are ORed; keys and operators are ANDed.
 */
import { GITHUB_ISSUER } from '../oidc/oidc.js';

type OneOrMany<T> = T | T[];

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal: '*' | { Federated?: OneOrMany<string>; AWS?: OneOrMany<string>; Service?: OneOrMany<string> };
  Action: OneOrMany<string>;
  Condition?: Record<string, Record<string, OneOrMany<string>>>;
}

export interface TrustPolicy {
  Version?: string;
  Statement: OneOrMany<PolicyStatement>;
}

/** What the trust policy is asked about: who, what, and the request's condition keys (any case). */
export interface TrustRequest {
  federatedPrincipal: string;
  action: string;
  context: Record<string, string>;
}

const OPERATORS = ['StringEquals', 'StringNotEquals', 'StringLike', 'StringNotLike'] as const;
type Operator = (typeof OPERATORS)[number];

/** `arn:aws:iam::<account>:oidc-provider/<issuer host and path>`, the principal a trust policy names. */
export function oidcProviderArn(accountId: string, issuer: string): string {
  return `arn:aws:iam::${accountId}:oidc-provider/${providerId(issuer)}`;
}

/** The issuer URL without its scheme: the provider's name in ARNs and condition keys. */
export function providerId(issuer: string): string {
  return issuer.replace(/^https:\/\//, '').replace(/\/$/, '');
}

/**
 * The trust policy GitHub and AWS document for Actions: the GitHub provider as federated principal,
 * `StringEquals` on the audience and `StringLike` on the subject.
 */
export function githubTrustPolicy(accountId: string, match: { sub: OneOrMany<string>; aud?: string }): TrustPolicy {
  const provider = providerId(GITHUB_ISSUER);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: oidcProviderArn(accountId, GITHUB_ISSUER) },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: { [`${provider}:aud`]: match.aud ?? 'sts.amazonaws.com' },
          StringLike: { [`${provider}:sub`]: match.sub },
        },
      },
    ],
  };
}

/**
 * Parses and checks a trust policy when a test seeds a role, as IAM does on CreateRole: a policy the
 * evaluator would misread must fail the test setup, not silently deny.
 */
export function parseTrustPolicy(policy: TrustPolicy | string): TrustPolicy {
  const parsed = (typeof policy === 'string' ? JSON.parse(policy) : policy) as TrustPolicy;
  for (const statement of statements(parsed)) {
    const unsupported = Object.keys(statement).filter((k) => !['Sid', 'Effect', 'Principal', 'Action', 'Condition'].includes(k));
    if (unsupported.length > 0) throw new Error(`trust policy: unsupported elements ${unsupported.join(', ')}`);
    if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') throw new Error('trust policy: Effect must be Allow or Deny');
    if (!statement.Principal || !statement.Action) throw new Error('trust policy: every statement needs Principal and Action');
    for (const operator of Object.keys(statement.Condition ?? {})) {
      if (!OPERATORS.includes(operator as Operator)) {
        throw new Error(`trust policy: condition operator ${operator} is not supported (use ${OPERATORS.join(', ')})`);
      }
    }
  }
  return parsed;
}

export function trustPolicyAllows(policy: TrustPolicy, request: TrustRequest): boolean {
  const context = new Map(Object.entries(request.context).map(([key, value]) => [key.toLowerCase(), value]));
  const applies = (statement: PolicyStatement) =>
    principalMatches(statement.Principal, request.federatedPrincipal) &&
    list(statement.Action).some((action) => glob(action.toLowerCase(), request.action.toLowerCase())) &&
    Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
      Object.entries(keys).every(([key, values]) =>
        conditionHolds(operator as Operator, context.get(key.toLowerCase()), list(values).map(String)),
      ),
    );
  const matching = statements(policy).filter(applies);
  return !matching.some((s) => s.Effect === 'Deny') && matching.some((s) => s.Effect === 'Allow');
}

function conditionHolds(operator: Operator, actual: string | undefined, values: string[]): boolean {
  switch (operator) {
    case 'StringEquals':
      return actual !== undefined && values.includes(actual);
    case 'StringLike':
      return actual !== undefined && values.some((pattern) => glob(pattern, actual));
    // A negated operator holds when the key is absent, as in IAM.
    case 'StringNotEquals':
      return actual === undefined || !values.includes(actual);
    case 'StringNotLike':
      return actual === undefined || !values.some((pattern) => glob(pattern, actual));
  }
}

function principalMatches(principal: PolicyStatement['Principal'], federated: string): boolean {
  if (principal === '*') return true;
  return list(principal.Federated ?? []).some((p) => p === '*' || p === federated);
}

/** IAM's `*` (any run of characters) and `?` (one character); everything else is literal. */
function glob(pattern: string, value: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's').test(value);
}

const statements = (policy: TrustPolicy): PolicyStatement[] => list(policy.Statement);
const list = <T>(value: OneOrMany<T>): T[] => (Array.isArray(value) ? value : [value]);
