/** The SendCommand request of a deploy, from the inputs, the prepared document and the workflow run. */
import type { SendCommandCommandInput } from '@aws-sdk/client-ssm';
import { documentParameters } from './document.js';
import type { SsmDeployInputs, TagTarget } from './inputs.js';

export interface PinnedDocument {
  name: string;
  version: string;
  /** SHA-256 of the content: SSM refuses the command if that version holds anything else. */
  hash: string;
}

export interface RunContext {
  repository: string;
  sha: string;
  runId: string;
  runAttempt: string;
}

/** SendCommand's limit on `Comment`. */
export const MAX_COMMENT = 100;

export function runContext(env: NodeJS.ProcessEnv): RunContext {
  return {
    repository: env.GITHUB_REPOSITORY ?? '',
    sha: env.GITHUB_SHA ?? '',
    runId: env.GITHUB_RUN_ID ?? '',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '',
  };
}

/** `octo-org/octo-repo@a1b2c3d run 4242424242/1`: who sent the command, for the console and CloudTrail. */
export function commandComment(run: RunContext): string {
  const commit = run.sha ? `@${run.sha.slice(0, 7)}` : '';
  const attempt = run.runAttempt ? `/${run.runAttempt}` : '';
  const runPart = run.runId ? ` run ${run.runId}${attempt}` : '';
  const text = `${run.repository || 'nixos-aws'}${commit}${runPart}`;
  return text.length <= MAX_COMMENT ? text : `${text.slice(0, MAX_COMMENT - 3)}...`;
}

export function sendCommandInput(
  inputs: SsmDeployInputs,
  document: PinnedDocument,
  run: RunContext,
): SendCommandCommandInput {
  return {
    DocumentName: document.name,
    DocumentVersion: document.version,
    DocumentHash: document.hash,
    DocumentHashType: 'Sha256',
    ...(inputs.instanceIds.length > 0 ? { InstanceIds: inputs.instanceIds } : { Targets: inputs.targets }),
    Parameters: documentParameters(inputs),
    MaxConcurrency: inputs.maxConcurrency,
    MaxErrors: inputs.maxErrors,
    TimeoutSeconds: inputs.deliveryTimeoutSeconds,
    Comment: commandComment(run),
    ...(inputs.cloudwatchLogGroup
      ? { CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: inputs.cloudwatchLogGroup } }
      : {}),
    ...(inputs.outputS3Bucket ? { OutputS3BucketName: inputs.outputS3Bucket, OutputS3Region: inputs.awsRegion } : {}),
  };
}

/** `tag:Role=web,api AND tag:Environment=production`, as a user wrote the selectors. */
export function describeTargets(targets: TagTarget[]): string {
  return targets.map((target) => `${target.Key}=${target.Values.join(',')}`).join(' AND ');
}
