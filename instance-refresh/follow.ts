/**
 * The wait on this deploy's refresh, by its ID: it ends the step as the refresh's status says, or, when the timeout
 * passes or the run is cancelled, carries out `on-abort` and fails the step saying what was done.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { setOutputs } from '../shared/outputs.js';
import { errorMessage } from '../shared/errors.js';
import { poll } from '../shared/poller.js';
import { carryOutAbort } from './abort.js';
import { describeRefresh } from './auto-scaling.js';
import type { InstanceRefreshInputs } from './inputs.js';
import type { Outputs } from './outputs.js';
import { progressLine, verdict, type DeployVersions } from './refresh-status.js';
import type { DeployReport } from './report.js';
import * as log from '../shared/log.js';

export async function follow(
  asg: AutoScalingClient,
  inputs: InstanceRefreshInputs,
  report: DeployReport,
  deploy: { refreshId: string; versions: DeployVersions },
  wait: { timeoutMs: number; signal: AbortSignal },
): Promise<void> {
  const { refreshId, versions } = deploy;
  const groupName = inputs.autoScalingGroupName;
  const result = await poll({
    check: (attempt) => describeRefresh(asg, groupName, refreshId, attempt),
    done: (refresh) => verdict(refresh, versions).kind !== 'waiting',
    describe: progressLine,
    intervalMs: inputs.pollIntervalSeconds * 1000,
    timeoutMs: wait.timeoutMs,
    signal: wait.signal,
  });
  report.timeline.push(...result.timeline);
  if (result.last) {
    report.status = result.last.Status;
    report.statusReason = result.last.StatusReason;
    setOutputs<Outputs>({ status: result.last.Status, 'status-reason': result.last.StatusReason });
  }
  if (result.outcome === 'done') {
    const outcome = verdict(result.value, versions);
    if (outcome.kind === 'failed') throw new Error(outcome.message);
    if (outcome.kind === 'succeeded') {
      log.info(outcome.message);
      report.outcome = outcome.message;
    }
    return;
  }
  // Every other ending leaves the refresh running unwatched: on-abort applies to all of them alike.
  const why =
    result.outcome === 'timeout'
      ? `Instance refresh ${refreshId} did not end within ${inputs.timeoutMinutes} minutes`
      : result.outcome === 'aborted'
        ? `The run was cancelled while instance refresh ${refreshId} was running`
        : `Lost sight of instance refresh ${refreshId} (${errorMessage(result.error)})`;
  const cause = result.outcome === 'timeout' ? 'timeout' : result.outcome === 'aborted' ? 'cancelled' : 'gave-up';
  const target = { groupName, refreshId, sourceVersion: versions.source };
  const done = await carryOutAbort(asg, target, inputs.onAbort, cause, log.info);
  throw new Error(`${why}. ${done}`);
}
