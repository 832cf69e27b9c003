/** The `StartInstanceRefresh` request of a deploy, from the inputs. Pure. */
import type { StartInstanceRefreshCommandInput } from '@aws-sdk/client-auto-scaling';
import type { InstanceRefreshInputs } from './inputs.js';

/**
 * `DesiredConfiguration` names the new version by number: AutoRollback needs it to return the group to the version
 * it had, and `$Latest` would follow whatever version someone makes next. Unset inputs stay unset, so AWS's own
 * defaults (and the group's `DefaultInstanceWarmup`) apply.
 */
export function refreshRequest(
  inputs: InstanceRefreshInputs,
  target: { templateId: string; version: number },
): StartInstanceRefreshCommandInput {
  const checkpoints = inputs.checkpointPercentages.length > 0;
  return {
    AutoScalingGroupName: inputs.autoScalingGroupName,
    Strategy: 'Rolling',
    DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: target.templateId, Version: String(target.version) } },
    Preferences: {
      MinHealthyPercentage: inputs.minHealthyPercentage,
      MaxHealthyPercentage: inputs.maxHealthyPercentage,
      InstanceWarmup: inputs.instanceWarmup,
      CheckpointPercentages: checkpoints ? inputs.checkpointPercentages : undefined,
      CheckpointDelay: checkpoints ? inputs.checkpointDelay : undefined,
      SkipMatching: inputs.skipMatching,
      AutoRollback: inputs.autoRollback,
      AlarmSpecification: inputs.alarms.length > 0 ? { Alarms: inputs.alarms } : undefined,
      BakeTime: inputs.bakeTime,
      ScaleInProtectedInstances: inputs.scaleInProtectedInstances,
      StandbyInstances: inputs.standbyInstances,
    },
  };
}
