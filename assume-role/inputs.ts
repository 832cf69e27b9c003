/** The inputs of assume-role: their names, defaults and the typed object the action works with. */
import { InputError, parseInputs, type InputSource } from '../shared/inputs.js';
import { minifyJson } from '../shared/json-text.js';
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
  /** The policy document minified, as it is sent to STS; `''` for none. */
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
/**
 * STS's `sessionPolicyDocumentType`: 1-2048 characters of `\u0009\u000A\u000D\u0020-\u00FF`, measured on the
 * document as sent. The action sends it without the whitespace between tokens, so a pretty-printed policy's
 * indentation does not count.
 */
const MAX_INLINE_POLICY = 2048;
const POLICY_CHARACTER = /[^\t\n\r\u0020-\u00FF]/u;

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
  const policy = minifiedPolicy(inputs.inlineSessionPolicy);
  if ('problem' in policy) throw new InputError([{ input: Input.InlineSessionPolicy, message: policy.problem }]);
  return { ...inputs, inlineSessionPolicy: policy.sent, awsRegion: resolveRegion(inputs.awsRegion, env) };
}

/**
 * The policy as STS will receive it: the text as written, less the whitespace between JSON tokens (see
 * `minifyJson`: no key dropped, no number rewritten), or why STS would refuse it or read it otherwise than written.
 */
function minifiedPolicy(policy: string): { sent: string } | { problem: string } {
  if (!policy) return { sent: '' };
  const failed = (problem: string) => ({ problem });
  const prefix = `Input '${Input.InlineSessionPolicy}' must be a JSON IAM policy document`;
  const minified = minifyJson(policy);
  if ('problem' in minified) return failed(`${prefix}: ${minified.problem}`);
  const sent = minified.text;
  const document: unknown = JSON.parse(sent);
  if (typeof document !== 'object' || document === null || Array.isArray(document) || !('Statement' in document)) {
    return failed(`${prefix}: an object with a "Statement"`);
  }
  if (sent.length > MAX_INLINE_POLICY) {
    return failed(`${prefix} of at most ${MAX_INLINE_POLICY} characters once minified (as sent to STS), got ${sent.length}`);
  }
  const outside = POLICY_CHARACTER.exec(sent);
  if (outside) {
    const code = outside[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return failed(`${prefix} of characters U+0020-U+00FF, tab and line breaks only (STS refuses others), got U+${code} '${outside[0]}'`);
  }
  return { sent };
}
