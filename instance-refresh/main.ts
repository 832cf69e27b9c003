/**
 * The instance-refresh step: a launch template version tagged with the store path, made from the version the group
 * runs; an instance refresh to exactly that version (the group itself is never switched first, so AutoRollback
 * returns it to where it was); a wait on that refresh by its ID until it succeeds, fails or rolls back; and on a
 * timeout or cancellation, `on-abort`. The steps below record what they learn in the state; `report` alone makes the
 * outputs, the summary and the failure from it (shared/step.ts writes them on every exit path).
 */
import { AutoScalingClient, type InstanceRefresh } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { actionClients } from '../shared/action-clients.js';
import { errorMessage } from '../shared/errors.js';
import * as log from '../shared/log.js';
import { runStep, type StepReport } from '../shared/step.js';
import {
  carryOutAbort,
  clearOtherRefresh,
  createVersion,
  describeGroup,
  describeImages,
  describeLifecycleHooks,
  describeVersion,
  startWhenFree,
  watchRefresh,
  type OtherRefresh,
} from './aws.js';
import { readInputs, type InstanceRefreshInputs } from './inputs.js';
import {
  abandonedInstances,
  checkGate,
  checkGroupVersion,
  chooseTemplate,
  gateTags,
  rollbackGateProblem,
  groupTemplate,
  imageCheck,
  imagesToDescribe,
  launchProblems,
  progressPoint,
  refreshRequest,
  refreshTabUrl,
  rollbackTarget,
  unfinishedWait,
  verdict,
  versionRequest,
  type DeployState,
} from './plan.js';
import { deploySummary } from './summary.js';

/** The action's outputs, as named in action.yml. */
export interface Outputs {
  'instance-refresh-id'?: string;
  'launch-template-id'?: string;
  'launch-template-version'?: number;
  status?: string;
  'status-reason'?: string;
  'console-url'?: string;
  'abandoned-instances'?: string;
}

export function run(): Promise<void> {
  return runStep<InstanceRefreshInputs, DeployState, Outputs>({
    name: 'instance-refresh',
    readInputs: () => readInputs(),
    initial: (inputs) => ({
      region: inputs.awsRegion,
      groupName: inputs.autoScalingGroupName,
      storePath: inputs.storePath,
      imageId: inputs.imageId || undefined,
      groupFound: false,
      timeline: [],
      steps: [],
      progress: [],
    }),
    body: async (inputs, state, signal) => {
      try {
        await deploy(inputs, state, signal);
      } finally {
        state.endedAt = new Date();
      }
    },
    report,
  });
}

/** Outputs, summary and failure from what the deploy learned; `error` is what its body threw, if anything. */
export function report(state: DeployState, error: unknown): StepReport<Outputs> {
  const failed = state.outcome?.kind === 'failed';
  const failure = failed ? state.outcome?.message : error === undefined ? undefined : errorMessage(error);
  const text = failure ?? state.outcome?.message ?? '';
  return {
    outputs: {
      'instance-refresh-id': state.refreshId,
      // Only once made: before, the template is only the one the version would have been added to.
      'launch-template-id': state.targetVersion === undefined ? undefined : state.templateId,
      'launch-template-version': state.targetVersion,
      status: state.status,
      'status-reason': state.statusReason,
      'console-url': state.groupFound ? refreshTabUrl(state.region, state.groupName) : undefined,
      'abandoned-instances': state.abandoned?.length ? state.abandoned.map((a) => a.instanceId).join(' ') : undefined,
    },
    summary: deploySummary(state, text),
    failure,
    notice: state.outcome?.kind === 'succeeded' ? state.outcome.message : undefined,
  };
}

/** Runs `fn` as a step of the summary's picture: its span from start to end, marked when it throws. */
async function step<T>(state: DeployState, label: string, fn: () => Promise<T>): Promise<T> {
  const span: DeployState['steps'][number] = { label, from: new Date() };
  state.steps.push(span);
  try {
    const result = await fn();
    span.to = new Date();
    return result;
  } catch (error) {
    span.to = new Date();
    span.failed = true;
    throw error;
  }
}

async function deploy(inputs: InstanceRefreshInputs, state: DeployState, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + inputs.timeoutMinutes * 60_000;
  const remaining = () => Math.max(0, deadline - Date.now());
  const groupName = inputs.autoScalingGroupName;
  const { clients } = await actionClients(inputs, { signal });
  const asg = clients(AutoScalingClient);
  const ec2 = clients(EC2Client);
  const waitOptions = { groupName, policy: inputs.ifInProgress, intervalMs: inputs.pollIntervalSeconds * 1000, signal };
  const waitedFor = (other: OtherRefresh) => {
    state.timeline.push(...other.timeline);
    state.steps.push({ label: `Waited for instance refresh ${other.id}`, from: other.from, to: other.to });
  };

  try {
    /** The AMI of `image-id` beside the one the source version launches (for its architecture). */
    const checkImage = async (source: { templateId: string; number: number; data: { ImageId?: string } }) => {
      return imageCheck({
        imageId: inputs.imageId,
        sourceImageId: source.data.ImageId,
        images: await describeImages(ec2, imagesToDescribe(inputs.imageId, source.data.ImageId), signal),
        template: `launch template ${source.templateId} version ${source.number}`,
        region: inputs.awsRegion,
      });
    };
    /**
     * The version to start from, with the group's launch template: refused, with nothing changed, when the group's
     * version cannot be rolled back to or when instances launched from the new version would fail.
     */
    const readSource = async () => {
      const group = await describeGroup(asg, groupName, signal);
      state.groupFound = true;
      const groupRef = groupTemplate(group);
      const chosen = chooseTemplate(groupRef, inputs.launchTemplate);
      const check = checkGroupVersion(groupRef, chosen, inputs.autoRollback);
      if (check.error) throw new Error(`${check.error} Nothing was changed.`);
      const gate = inputs.readiness === 'lifecycle-hook' ? checkGate(groupName, await describeLifecycleHooks(asg, groupName, signal), inputs.lifecycleHookName) : undefined;
      if (gate && 'error' in gate) throw new Error(`${gate.error}\nNothing was changed.`);
      const source = await describeVersion(ec2, chosen, signal);
      if (gate && inputs.autoRollback) {
        // A rollback launches the group's own version: the source, unless the deploy moves the group to another template.
        const back = chosen === groupRef ? source : await describeVersion(ec2, groupRef, signal);
        const problem = rollbackGateProblem(groupName, gate.hook, `launch template ${back.templateId} version ${back.number}`, back.data.TagSpecifications);
        if (problem) throw new Error(`${problem}\nNothing was changed.`);
      }
      const problems = launchProblems({
        template: `launch template ${source.templateId} version ${source.number}`,
        groupName,
        metadataOptions: source.data.MetadataOptions,
        tagSpecifications: source.data.TagSpecifications,
        groupTags: group.Tags,
        storePathTag: inputs.storePathTag,
        storePath: inputs.storePath,
        tags: [...inputs.tags, ...gateTags(groupName, gate?.hook)],
      });
      if (problems.length > 0) throw new Error(`${problems.join('\n')}\nNothing was changed.`);
      const image = inputs.imageId ? await checkImage(source) : {};
      if (image.error) throw new Error(`${image.error}\nNothing was changed.`);
      return { groupRef, chosen, source, warning: check.warning, gate, imageWarning: image.warning };
    };

    // Checked before another refresh is waited for or cancelled (a change), and again after a wait: the other
    // refresh may have moved the group to another version.
    let read = await step(state, 'Checks', readSource);
    const looked = new Date();
    const other = await clearOtherRefresh(asg, {
      ...waitOptions,
      timeoutMs: remaining(),
      doneSoFar: 'no launch template version was made and no refresh started',
    }).catch((error: unknown) => {
      // Refused (if-in-progress: fail), timed out or cancelled while another refresh ran: the picture shows it.
      state.steps.push({ label: 'Another refresh', from: looked, to: new Date(), failed: true });
      throw error;
    });
    if (other) {
      waitedFor(other);
      read = await step(state, 'Checks again', readSource);
    }
    const { groupRef, chosen, source } = read;
    if (read.warning) log.warning(read.warning);
    if (read.gate?.warning) log.warning(read.gate.warning);
    if (read.imageWarning) log.warning(read.imageWarning);
    state.gateHook = read.gate?.hook;
    state.templateId = source.templateId;
    state.sourceVersion = source.number;
    log.info(
      `Group ${groupName} launches launch template ${groupRef.name ?? groupRef.id} version ${groupRef.version}; ` +
        `making a new version of ${source.templateId} from version ${source.number}.`,
    );

    const request = versionRequest({
      templateId: source.templateId,
      sourceVersion: source.number,
      sourceTagSpecifications: source.data.TagSpecifications,
      storePath: inputs.storePath,
      storePathTag: inputs.storePathTag,
      tags: inputs.tags,
      groupName,
      env: process.env,
      gateHook: read.gate?.hook,
      imageId: inputs.imageId || undefined,
    });
    const target = await step(state, `Launch template version from ${source.number}`, () => createVersion(ec2, request));
    state.targetVersion = target;
    const image = inputs.imageId ? `, image ${inputs.imageId}` : '';
    log.info(`Launch template ${source.templateId} version ${target}: ${inputs.storePathTag}=${inputs.storePath}${image}.`);
    const madeButNotDeployed = `launch template version ${target} was made but no refresh started`;
    if (signal.aborted) throw new Error(`The run was cancelled before the instance refresh started: ${madeButNotDeployed}.`);

    const refreshId = await step(state, `Start refresh to version ${target}`, () =>
      startWhenFree(
        asg,
        refreshRequest(inputs, { templateId: source.templateId, version: target }),
        { ...waitOptions, timeoutMs: remaining(), doneSoFar: madeButNotDeployed },
        groupRef,
        waitedFor,
      ),
    );
    state.refreshId = refreshId;
    state.status = 'Pending';
    log.info(`Started instance refresh ${refreshId} of group ${groupName} to launch template version ${target}.`);
    if (!inputs.wait) {
      state.outcome = { kind: 'succeeded', message: `Started instance refresh ${refreshId}; not waiting for it (wait: false).` };
      return;
    }

    const versions = { source: rollbackTarget(groupRef, chosen, source.number), target };
    const seen = (refresh: InstanceRefresh) => {
      state.status = refresh.Status;
      state.statusReason = refresh.StatusReason;
      // The reason may change (a rollback's own words): the first abandon named is kept.
      const abandoned = abandonedInstances(refresh.RollbackDetails?.RollbackReason ?? refresh.StatusReason);
      if (abandoned.length > 0 && !state.abandoned?.length) state.abandoned = abandoned;
      const point = progressPoint(refresh, new Date(), state.progress.at(-1));
      if (point) state.progress.push(point);
    };
    const over = (refresh: InstanceRefresh) => verdict(refresh, versions).kind !== 'waiting';
    const result = await watchRefresh(asg, { groupName, refreshId }, over, { ...waitOptions, timeoutMs: remaining() }, seen);
    state.timeline.push(...result.timeline);
    if (result.outcome === 'done') {
      const outcome = verdict(result.value, versions);
      if (outcome.kind !== 'waiting') state.outcome = outcome;
      return;
    }
    const { why, cause } = unfinishedWait(result, refreshId, inputs.timeoutMinutes);
    const abortTarget = { groupName, refreshId, sourceVersion: versions.source };
    const done = await carryOutAbort(asg, abortTarget, inputs.onAbort, cause, log.info);
    state.outcome = { kind: 'failed', message: `${why}. ${done}` };
  } catch (error) {
    // Only reads take the signal: an aborted call here means nothing had been made yet.
    const cancelled = signal.aborted && (error as Error).name === 'AbortError' && state.targetVersion === undefined;
    throw cancelled ? new Error('The run was cancelled before anything was changed.') : error;
  } finally {
    asg.destroy();
    ec2.destroy();
  }
}
