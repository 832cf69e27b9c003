/**
 * The inputs every action shares to assume a role in-process: `role-to-assume`, `aws-region`, `audience`.
 * assume-role requires the role; the other actions assume it only when it is given.
 */
import type { InputReader } from './inputs.js';

export const RoleInput = {
  RoleToAssume: 'role-to-assume',
  AwsRegion: 'aws-region',
  Audience: 'audience',
} as const;

export const DEFAULT_AUDIENCE = 'sts.amazonaws.com';

/**
 * IAM's own limits: path `/` or `/.../` of printable ASCII, at most 512 characters with its slashes, name of
 * 1-64 `[\w+=,.@-]`; so the ARN stays within STS's `RoleArn` (20-2048 printable characters).
 */
export const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/(?:[\x21-\x7e]{1,510}\/)?[\w+=,.@-]{1,64}$/;
const ROLE_ARN_FORM = 'an IAM role ARN, arn:aws:iam::<12-digit account>:role/<name>';

export interface RoleInputs {
  /** `''` when the action should use the credentials already in the environment. */
  roleToAssume: string;
  /** As given; `''` means the environment's region (see `resolveRegion`). */
  awsRegion: string;
  audience: string;
}

export function readRoleInputs(read: InputReader, opts: { roleRequired: boolean }): RoleInputs {
  return {
    roleToAssume: read.string(RoleInput.RoleToAssume, {
      required: opts.roleRequired,
      pattern: ROLE_ARN,
      form: ROLE_ARN_FORM,
    }),
    awsRegion: read.string(RoleInput.AwsRegion),
    audience: read.string(RoleInput.Audience, {
      default: DEFAULT_AUDIENCE,
      pattern: /^[\x21-\x7e]{1,255}$/,
      form: 'an audience of 1-255 printable characters without spaces',
    }),
  };
}

/** `GitHubActions-<run id>-<attempt>`, cut to STS's character set and length. */
export function defaultSessionName(env: NodeJS.ProcessEnv): string {
  const parts = ['GitHubActions', env.GITHUB_RUN_ID, env.GITHUB_RUN_ATTEMPT].filter((part) => part);
  return parts.join('-').replace(/[^\w+=,.@-]/g, '_').slice(0, 64);
}
