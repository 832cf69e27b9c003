/** The inputs of assume-role: their names, defaults and the typed object the action works with. */
import { InputError, parseInputs, type InputSource } from '../shared/inputs.js';
import { resolveRegion } from '../shared/region.js';
import { defaultSessionName, readRoleInputs, RoleInput, type RoleInputs } from '../shared/role-inputs.js';

export const Input = {
  ...RoleInput,
  RoleSessionName: 'role-session-name',
  RoleDurationSeconds: 'role-duration-seconds',
  InlineSessionPolicy: 'inline-session-policy',
  ManagedSessionPolicies: 'managed-session-policies',
  AllowedAccountIds: 'allowed-account-ids',
  ExportCredentials: 'export-credentials',
  OutputCredentials: 'output-credentials',
  MaskAccountId: 'mask-account-id',
} as const;

export interface AssumeRoleInputs extends RoleInputs {
  roleSessionName: string;
  roleDurationSeconds: number;
  /** The policy document as given, `''` for none. */
  inlineSessionPolicy: string;
  managedSessionPolicies: string[];
  allowedAccountIds: string[];
  exportCredentials: boolean;
  outputCredentials: boolean;
  maskAccountId: boolean;
}

/** STS's `roleSessionNameType`. */
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const POLICY_ARN = /^arn:aws(?:-[a-z]+)*:iam::(?:\d{12}|aws):policy\/[\x21-\x7e]{1,1024}$/;
/** STS rejects packed inline policies above 2048 characters. */
const MAX_INLINE_POLICY = 2048;

export function readInputs(source?: InputSource, env: NodeJS.ProcessEnv = process.env): AssumeRoleInputs {
  const inputs = parseInputs(
    (read): AssumeRoleInputs => ({
      ...readRoleInputs(read, { roleRequired: true }),
      roleSessionName: read.string(Input.RoleSessionName, {
        default: defaultSessionName(env),
        pattern: SESSION_NAME,
        form: '2-64 letters, digits or +=,.@_-',
      }),
      roleDurationSeconds: read.integer(Input.RoleDurationSeconds, { min: 900, max: 43200, default: 3600 })!,
      inlineSessionPolicy: read.string(Input.InlineSessionPolicy),
      managedSessionPolicies: read.list(Input.ManagedSessionPolicies, {
        max: 10,
        pattern: POLICY_ARN,
        form: 'an IAM policy ARN, arn:aws:iam::<account or aws>:policy/<name>',
      }),
      allowedAccountIds: read.list(Input.AllowedAccountIds, {
        separator: 'comma-or-lines',
        pattern: /^\d{12}$/,
        form: 'a 12-digit AWS account ID',
      }),
      exportCredentials: read.boolean(Input.ExportCredentials, true),
      outputCredentials: read.boolean(Input.OutputCredentials, false),
      maskAccountId: read.boolean(Input.MaskAccountId, false),
    }),
    source,
  );
  const policyProblem = checkPolicy(inputs.inlineSessionPolicy);
  if (policyProblem) throw new InputError([{ input: Input.InlineSessionPolicy, message: policyProblem }]);
  return { ...inputs, awsRegion: resolveRegion(inputs.awsRegion, env) };
}

function checkPolicy(policy: string): string | undefined {
  if (!policy) return undefined;
  const prefix = `Input '${Input.InlineSessionPolicy}' must be a JSON IAM policy document`;
  let document: unknown;
  try {
    document = JSON.parse(policy);
  } catch (error) {
    return `${prefix}: ${(error as Error).message}`;
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document) || !('Statement' in document)) {
    return `${prefix}: an object with a "Statement"`;
  }
  const packed = JSON.stringify(document).length;
  if (packed > MAX_INLINE_POLICY) {
    return `${prefix} of at most ${MAX_INLINE_POLICY} characters without spaces, got ${packed}`;
  }
  return undefined;
}
