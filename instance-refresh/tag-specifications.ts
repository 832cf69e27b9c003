/**
 * The new launch template version's tag specifications. `CreateLaunchTemplateVersion` replaces the source version's
 * whole `TagSpecifications` list with the one in the request, so the request must carry every specification and
 * every tag the source had, with the deploy's tags merged into the instance specification.
 */
import type { LaunchTemplateTagSpecification, LaunchTemplateTagSpecificationRequest } from '@aws-sdk/client-ec2';

export interface Tag {
  key: string;
  value: string;
}

/** EC2's limit of tags per resource. */
export const MAX_TAGS_PER_RESOURCE = 50;

/**
 * Every specification of `existing` in its order, the `instance` one with `tags` set: a key it has keeps its
 * place and takes the new value, a new key is appended. Without an `instance` specification one is appended.
 */
export function mergeTagSpecifications(
  existing: readonly LaunchTemplateTagSpecification[] | undefined,
  tags: readonly Tag[],
): LaunchTemplateTagSpecificationRequest[] {
  const specifications = (existing ?? []).map((spec) => ({
    ResourceType: spec.ResourceType,
    Tags: (spec.Tags ?? []).map((tag) => ({ Key: tag.Key, Value: tag.Value })),
  }));
  let instance = specifications.find((spec) => spec.ResourceType === 'instance');
  if (!instance) {
    instance = { ResourceType: 'instance', Tags: [] };
    specifications.push(instance);
  }
  for (const { key, value } of tags) {
    const held = instance.Tags.find((tag) => tag.Key === key);
    if (held) held.Value = value;
    else instance.Tags.push({ Key: key, Value: value });
  }
  if (instance.Tags.length > MAX_TAGS_PER_RESOURCE) {
    throw new Error(
      `The instance tags would number ${instance.Tags.length}, over EC2's limit of ${MAX_TAGS_PER_RESOURCE} per instance.`,
    );
  }
  return specifications;
}
