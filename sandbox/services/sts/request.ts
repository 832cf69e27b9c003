/** The checks of AssumeRoleWithWebIdentity parameters that STS makes beyond its model, before looking at the token. */
import { deflateRawSync } from 'node:zlib';
import { AwsError } from '../../errors.js';

export interface WebIdentityRequest {
  roleArn: string;
  roleSessionName: string;
  webIdentityToken: string;
  durationSeconds: number;
  /** Only when session policies were passed, as AWS reports it. */
  packedPolicySize?: number;
}

const DEFAULT_DURATION_SECONDS = 3600;
/** Bytes of compressed session policy that count as 100% in `PackedPolicySize`. */
const PACKED_POLICY_LIMIT = 2048;
const ROLE_ARN = /^arn:aws:iam::\d{12}:role\/(?:[\x21-\x7e]*\/)?[\w+=,.@-]{1,64}$/;

/**
 * What STS checks after the model's constraints (`../../models/validate.ts`, already applied to `params`, with
 * the documented limit of ten managed policy ARNs): the role ARN's form, then the session policies.
 */
export function validateWebIdentityRequest(params: Record<string, unknown>): WebIdentityRequest {
  const { RoleArn, RoleSessionName, WebIdentityToken, Policy } = params as Record<string, string>;
  const policyArns = Array.isArray(params.PolicyArns) ? (params.PolicyArns as { arn?: string }[]) : [];
  const durationSeconds = params.DurationSeconds === undefined ? DEFAULT_DURATION_SECONDS : Number(params.DurationSeconds);
  if (!ROLE_ARN.test(RoleArn)) throw new AwsError('ValidationError', 'Request ARN is invalid');
  if (Policy !== undefined) checkPolicyDocument(Policy);
  return {
    roleArn: RoleArn,
    roleSessionName: RoleSessionName,
    webIdentityToken: WebIdentityToken,
    durationSeconds,
    packedPolicySize: packedPolicySize(Policy, policyArns),
  };
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
