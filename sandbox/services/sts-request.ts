/**
 * Validation of AssumeRoleWithWebIdentity parameters as STS does it before looking at the token: the
 * model's constraints (all reported in one ValidationError), the role ARN, then the session policies.
 */
import { deflateRawSync } from 'node:zlib';
import { AwsError } from '../errors.js';

export interface WebIdentityRequest {
  roleArn: string;
  roleSessionName: string;
  webIdentityToken: string;
  durationSeconds: number;
  /** Only when session policies were passed, as AWS reports it. */
  packedPolicySize?: number;
}

const DEFAULT_DURATION_SECONDS = 3600;
const MAX_DURATION_SECONDS = 43200;
const MIN_DURATION_SECONDS = 900;
const MAX_POLICY_ARNS = 10;
/** Bytes of compressed session policy that count as 100% in `PackedPolicySize`. */
const PACKED_POLICY_LIMIT = 2048;
const SESSION_NAME = /^[\w+=,.@-]*$/;
const ROLE_ARN = /^arn:aws:iam::\d{12}:role\/(?:[\x21-\x7e]*\/)?[\w+=,.@-]{1,64}$/;

export function validateWebIdentityRequest(params: Record<string, unknown>): WebIdentityRequest {
  const { RoleArn, RoleSessionName, WebIdentityToken, Policy } = params as Record<string, string | undefined>;
  const policyArns = Array.isArray(params.PolicyArns) ? (params.PolicyArns as { arn?: string }[]) : [];
  const durationSeconds = params.DurationSeconds === undefined ? DEFAULT_DURATION_SECONDS : Number(params.DurationSeconds);

  const constraints = new Constraints();
  constraints.length('roleArn', RoleArn, 20, 2048);
  constraints.length('roleSessionName', RoleSessionName, 2, 64);
  if (RoleSessionName !== undefined && !SESSION_NAME.test(RoleSessionName)) {
    constraints.fail('roleSessionName', RoleSessionName, 'Member must satisfy regular expression pattern: [\\w+=,.@-]*');
  }
  // The token is a credential: its value never goes into a message.
  if (WebIdentityToken === undefined) constraints.fail('webIdentityToken', undefined, 'Member must not be null');
  constraints.range('durationSeconds', durationSeconds, params.DurationSeconds, MIN_DURATION_SECONDS, MAX_DURATION_SECONDS);
  if (Policy !== undefined) constraints.length('policy', Policy, 1, 2048);
  if (policyArns.length > MAX_POLICY_ARNS) {
    const shown = `[${policyArns.map((p) => p.arn).join(', ')}]`;
    constraints.fail('policyArns', shown, `Member must have length less than or equal to ${MAX_POLICY_ARNS}`);
  }
  constraints.throwIfAny();

  if (!ROLE_ARN.test(RoleArn!)) throw new AwsError('ValidationError', 'Request ARN is invalid');
  if (Policy !== undefined) checkPolicyDocument(Policy);
  return {
    roleArn: RoleArn!,
    roleSessionName: RoleSessionName!,
    webIdentityToken: WebIdentityToken!,
    durationSeconds,
    packedPolicySize: packedPolicySize(Policy, policyArns),
  };
}

/** Collects "Value 'x' at 'member' failed to satisfy constraint: ..." problems, reported together. */
class Constraints {
  private readonly problems: string[] = [];

  fail(member: string, value: unknown, constraint: string): void {
    const shown = value === undefined ? 'null' : `'${String(value)}'`;
    this.problems.push(`Value ${shown} at '${member}' failed to satisfy constraint: ${constraint}`);
  }

  /** A required string between `min` and `max` characters. */
  length(member: string, value: string | undefined, min: number, max: number): void {
    if (value === undefined) this.fail(member, value, 'Member must not be null');
    else if (value.length < min) this.fail(member, value, `Member must have length greater than or equal to ${min}`);
    else if (value.length > max) this.fail(member, value, `Member must have length less than or equal to ${max}`);
  }

  range(member: string, value: number, raw: unknown, min: number, max: number): void {
    if (!(value >= min)) this.fail(member, raw, `Member must have value greater than or equal to ${min}`);
    else if (value > max) this.fail(member, raw, `Member must have value less than or equal to ${max}`);
  }

  throwIfAny(): void {
    if (this.problems.length === 0) return;
    const count = `${this.problems.length} validation error${this.problems.length === 1 ? '' : 's'} detected`;
    throw new AwsError('ValidationError', `${count}: ${this.problems.join('; ')}`);
  }
}

function checkPolicyDocument(policy: string): void {
  let document: unknown;
  try {
    document = JSON.parse(policy);
  } catch {
    throw new AwsError('MalformedPolicyDocument', 'This policy contains invalid Json');
  }
  if (typeof document !== 'object' || document === null || !('Statement' in document)) {
    throw new AwsError('MalformedPolicyDocument', 'Syntax errors in policy.');
  }
}

/**
 * AWS packs session policies into a compressed binary form and reports its size as a percentage of the
 * limit; deflate stands in for the undocumented packing.
 */
function packedPolicySize(policy: string | undefined, policyArns: { arn?: string }[]): number | undefined {
  if (policy === undefined && policyArns.length === 0) return undefined;
  const plain = [policy ?? '', ...policyArns.map((p) => p.arn ?? '')].join('\n');
  const percent = Math.ceil((deflateRawSync(plain).length * 100) / PACKED_POLICY_LIMIT);
  if (percent > 100) {
    throw new AwsError('PackedPolicyTooLarge', `Packed size of session policies exceeds the limit: ${percent}% of allowed value.`);
  }
  return percent;
}
