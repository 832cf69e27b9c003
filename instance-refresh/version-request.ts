/**
 * The `CreateLaunchTemplateVersion` request of a deploy: made from the source version, tags merged, described by
 * store path and run, and idempotent within one attempt of one job. Pure.
 */
import { createHash } from 'node:crypto';
import type { CreateLaunchTemplateVersionCommandInput, LaunchTemplateTagSpecification } from '@aws-sdk/client-ec2';
import { mergeTagSpecifications, type Tag } from './tag-specifications.js';

/** EC2's limit on `VersionDescription`. */
const MAX_DESCRIPTION = 255;

export interface VersionRequestInput {
  templateId: string;
  sourceVersion: number;
  sourceTagSpecifications: readonly LaunchTemplateTagSpecification[] | undefined;
  storePath: string;
  storePathTag: string;
  tags: readonly Tag[];
  groupName: string;
  env: NodeJS.ProcessEnv;
}

export function versionRequest(input: VersionRequestInput): CreateLaunchTemplateVersionCommandInput {
  return {
    LaunchTemplateId: input.templateId,
    SourceVersion: String(input.sourceVersion),
    VersionDescription: versionDescription(input.storePath, input.env),
    ClientToken: clientToken(input.env, input.groupName, input.storePath),
    LaunchTemplateData: {
      TagSpecifications: mergeTagSpecifications(input.sourceTagSpecifications, [
        { key: input.storePathTag, value: input.storePath },
        ...input.tags,
      ]),
    },
  };
}

/**
 * The same for every try within one attempt of a job run (the SDK's retries, the step run again by hand), and
 * different for every other attempt, group or store path. None outside a workflow run: there a fixed token would
 * hand one deploy the version an earlier one made.
 */
export function clientToken(env: NodeJS.ProcessEnv, groupName: string, storePath: string): string | undefined {
  if (!env.GITHUB_RUN_ID) return undefined;
  const parts = ['nixos-aws/instance-refresh', env.GITHUB_REPOSITORY ?? '', env.GITHUB_RUN_ID, env.GITHUB_RUN_ATTEMPT ?? '1'];
  return createHash('sha256').update([...parts, groupName, storePath].join('\0')).digest('hex');
}

/** `<store path>, <repository> run <id> attempt <n>`; the run is cut first when EC2's limit needs it. */
export function versionDescription(storePath: string, env: NodeJS.ProcessEnv): string {
  const run = env.GITHUB_RUN_ID
    ? `, ${env.GITHUB_REPOSITORY ?? 'GitHub'} run ${env.GITHUB_RUN_ID} attempt ${env.GITHUB_RUN_ATTEMPT ?? '1'}`
    : '';
  return `${storePath}${run}`.slice(0, MAX_DESCRIPTION);
}
