/**
 * Which launch template the deploy adds a version to, and whether the group's way of naming its version allows
 * the deploy at all. Pure: fed by DescribeAutoScalingGroups.
 */
import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';

export interface TemplateRef {
  id?: string;
  name?: string;
  /** As the group holds it: a number, `$Latest` or `$Default`. */
  version: string;
}

const TEMPLATE_ID = /^lt-[0-9a-f]{17}$/;
/** Versions that move by themselves; AWS rolls back only to a version number. */
const MOVING_VERSIONS = new Set(['$Latest', '$Default']);

/** The launch template the group launches from; throws for groups this action cannot deploy to. */
export function groupTemplate(group: AutoScalingGroup): TemplateRef {
  const name = group.AutoScalingGroupName;
  if (group.MixedInstancesPolicy) {
    // A desired configuration with a plain launch template would replace the group's whole mixed instances policy.
    throw new Error(`Auto Scaling group ${name} uses a mixed instances policy, which this action does not deploy to.`);
  }
  const template = group.LaunchTemplate;
  if (!template || !(template.LaunchTemplateId || template.LaunchTemplateName)) {
    throw new Error(
      `Auto Scaling group ${name} has no launch template (a launch configuration cannot carry the store path tag).`,
    );
  }
  return { id: template.LaunchTemplateId, name: template.LaunchTemplateName, version: template.Version ?? '$Default' };
}

/**
 * The template to add the version to: the group's own (at the version the group runs), or the one the
 * `launch-template` input names (at its default version), which the refresh then moves the group to.
 */
export function chooseTemplate(group: TemplateRef, input: string): TemplateRef {
  if (input === '' || input === group.id || input === group.name) return group;
  return TEMPLATE_ID.test(input) ? { id: input, version: '$Default' } : { name: input, version: '$Default' };
}

export interface VersionCheck {
  /** Why the deploy cannot go ahead; nothing has been changed yet. */
  error?: string;
  warning?: string;
}

export function checkGroupVersion(group: TemplateRef, chosen: TemplateRef, autoRollback: boolean): VersionCheck {
  if (!MOVING_VERSIONS.has(group.version)) return {};
  if (autoRollback) {
    return {
      error:
        `The group launches launch template version ${group.version}, and AWS rolls back only to a version number. ` +
        `Set the group to a version number, or set auto-rollback to false.`,
    };
  }
  if (group.version === '$Latest' && chosen === group) {
    return {
      warning:
        'The group launches $Latest: from the moment the new version exists, any instance the group launches ' +
        '(scale-out, replacement) boots the new store path, refresh or not.',
    };
  }
  return {};
}

/**
 * Where a rollback returns the group, as messages name it: the version it runs, which is the new version's source
 * unless the deploy moves the group to another template.
 */
export function rollbackTarget(group: TemplateRef, chosen: TemplateRef, sourceNumber: number): number | string {
  return chosen === group ? sourceNumber : `${group.version} of launch template ${group.name ?? group.id}`;
}
