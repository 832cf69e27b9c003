/** The EC2 calls of a deploy: read the version to start from, make the new one. */
import {
  CreateLaunchTemplateVersionCommand,
  DescribeLaunchTemplateVersionsCommand,
  type CreateLaunchTemplateVersionCommandInput,
  type EC2Client,
  type ResponseLaunchTemplateData,
} from '@aws-sdk/client-ec2';
import type { TemplateRef } from './template-ref.js';

export interface ResolvedVersion {
  templateId: string;
  templateName?: string;
  /** `$Latest` and `$Default` resolved to the number they stand for now. */
  number: number;
  data: ResponseLaunchTemplateData;
}

export async function describeVersion(ec2: EC2Client, ref: TemplateRef, signal?: AbortSignal): Promise<ResolvedVersion> {
  const answer = await ec2.send(
    new DescribeLaunchTemplateVersionsCommand({
      LaunchTemplateId: ref.id,
      LaunchTemplateName: ref.id ? undefined : ref.name,
      Versions: [ref.version],
    }),
    { abortSignal: signal },
  );
  const version = answer.LaunchTemplateVersions?.[0];
  if (!version?.LaunchTemplateId || version.VersionNumber === undefined) {
    throw new Error(`Launch template ${ref.id ?? ref.name} has no version ${ref.version}.`);
  }
  return {
    templateId: version.LaunchTemplateId,
    templateName: version.LaunchTemplateName,
    number: version.VersionNumber,
    data: version.LaunchTemplateData ?? {},
  };
}

export async function createVersion(ec2: EC2Client, request: CreateLaunchTemplateVersionCommandInput): Promise<number> {
  const answer = await ec2.send(new CreateLaunchTemplateVersionCommand(request));
  const number = answer.LaunchTemplateVersion?.VersionNumber;
  if (number === undefined) throw new Error('CreateLaunchTemplateVersion answered without a version number.');
  return number;
}
