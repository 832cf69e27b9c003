/**
 * The instance-refresh step: a launch template version tagged with the store path, made from the version the group
 * runs; an instance refresh to exactly that version (the group itself is never switched first, so AutoRollback
 * returns it to where it was); a wait on that refresh by its ID until it succeeds, fails or rolls back; and on a
 * timeout or cancellation, `on-abort`.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { actionClients } from '../shared/action-clients.js';
import { installCancellation } from '../shared/cancellation.js';
import { errorMessage } from '../shared/errors.js';
import { setOutputs } from '../shared/outputs.js';
import { writeSummary } from '../shared/summary.js';
import { describeGroup } from './auto-scaling.js';
import { follow } from './follow.js';
import { readInputs, type InstanceRefreshInputs } from './inputs.js';
import { launchProblems } from './launch-checks.js';
import { createVersion, describeVersion } from './launch-templates.js';
import { clearOtherRefresh, startWhenFree } from './other-refresh.js';
import type { Outputs } from './outputs.js';
import { refreshRequest } from './refresh-request.js';
import { deploySummary, type DeployReport } from './report.js';
import { checkGroupVersion, chooseTemplate, groupTemplate, rollbackTarget } from './template-ref.js';
import { versionRequest } from './version-request.js';
import * as log from '../shared/log.js';

export async function run(): Promise<void> {
  let inputs: InstanceRefreshInputs;
  try {
    inputs = readInputs();
  } catch (error) {
    log.fail(errorMessage(error));
    return;
  }
  const cancellation = installCancellation();
  try {
    await deploy(inputs, cancellation.signal);
  } catch (error) {
    log.fail(errorMessage(error));
  } finally {
    cancellation.dispose();
  }
}

async function deploy(inputs: InstanceRefreshInputs, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + inputs.timeoutMinutes * 60_000;
  const remaining = () => Math.max(0, deadline - Date.now());
  const groupName = inputs.autoScalingGroupName;
  const report: DeployReport = {
    region: inputs.awsRegion,
    groupName,
    storePath: inputs.storePath,
    outcome: '',
    timeline: [],
  };
  const { clients } = await actionClients(inputs, { signal });
  const asg = clients(AutoScalingClient);
  const ec2 = clients(EC2Client);
  const waitOptions = { groupName, policy: inputs.ifInProgress, intervalMs: inputs.pollIntervalSeconds * 1000, signal };

  try {
    /**
     * The version to start from, with the group's launch template: refused, with nothing changed, when the group's
     * version cannot be rolled back to or when instances launched from the new version would fail.
     */
    const readSource = async () => {
      const group = await describeGroup(asg, groupName, signal);
      const groupRef = groupTemplate(group);
      const chosen = chooseTemplate(groupRef, inputs.launchTemplate);
      const check = checkGroupVersion(groupRef, chosen, inputs.autoRollback);
      if (check.error) throw new Error(`${check.error} Nothing was changed.`);
      const source = await describeVersion(ec2, chosen, signal);
      const problems = launchProblems({
        template: `launch template ${source.templateId} version ${source.number}`,
        groupName,
        metadataOptions: source.data.MetadataOptions,
        tagSpecifications: source.data.TagSpecifications,
        groupTags: group.Tags,
        storePathTag: inputs.storePathTag,
        storePath: inputs.storePath,
        tags: inputs.tags,
      });
      if (problems.length > 0) throw new Error(`${problems.join('\n')}\nNothing was changed.`);
      return { groupRef, chosen, source, warning: check.warning };
    };

    // Checked before another refresh is waited for or cancelled (a change), and again after a wait: the other
    // refresh may have moved the group to another version.
    let read = await readSource();
    const waitedFor = await clearOtherRefresh(asg, {
      ...waitOptions,
      timeoutMs: remaining(),
      doneSoFar: 'no launch template version was made and no refresh started',
    });
    report.timeline.push(...waitedFor);
    if (waitedFor.length > 0) read = await readSource();
    const { groupRef, chosen, source } = read;
    if (read.warning) log.warning(read.warning);
    report.templateId = source.templateId;
    report.sourceVersion = source.number;
    log.info(
      `Group ${groupName} launches launch template ${groupRef.name ?? groupRef.id} version ${groupRef.version}; ` +
        `making a new version of ${source.templateId} from version ${source.number}.`,
    );

    const target = await createVersion(
      ec2,
      versionRequest({
        templateId: source.templateId,
        sourceVersion: source.number,
        sourceTagSpecifications: source.data.TagSpecifications,
        storePath: inputs.storePath,
        storePathTag: inputs.storePathTag,
        tags: inputs.tags,
        groupName,
        env: process.env,
      }),
    );
    report.targetVersion = target;
    setOutputs<Outputs>({ 'launch-template-id': source.templateId, 'launch-template-version': target });
    log.info(`Launch template ${source.templateId} version ${target}: ${inputs.storePathTag}=${inputs.storePath}.`);
    const madeButNotDeployed = `launch template version ${target} was made but no refresh started`;
    if (signal.aborted) throw new Error(`The run was cancelled before the instance refresh started: ${madeButNotDeployed}.`);

    const request = refreshRequest(inputs, { templateId: source.templateId, version: target });
    const startOptions = { ...waitOptions, timeoutMs: remaining(), doneSoFar: madeButNotDeployed };
    const refreshId = await startWhenFree(asg, request, startOptions, { groupRef, timeline: report.timeline });
    report.refreshId = refreshId;
    report.status = 'Pending';
    setOutputs<Outputs>({ 'instance-refresh-id': refreshId, status: 'Pending' });
    log.info(`Started instance refresh ${refreshId} of group ${groupName} to launch template version ${target}.`);
    if (!inputs.wait) {
      report.outcome = `Started instance refresh ${refreshId}; not waiting for it (wait: false).`;
      return;
    }
    const versions = { source: rollbackTarget(groupRef, chosen, source.number), target };
    await follow(asg, inputs, report, { refreshId, versions }, { timeoutMs: remaining(), signal });
  } catch (error) {
    // Only reads take the signal: an aborted call here means nothing had been made yet.
    const cancelled = signal.aborted && (error as Error).name === 'AbortError' && report.targetVersion === undefined;
    report.outcome = cancelled ? 'The run was cancelled before anything was changed.' : errorMessage(error);
    throw cancelled ? new Error(report.outcome) : error;
  } finally {
    await writeSummary(deploySummary(report));
    asg.destroy();
    ec2.destroy();
  }
}
