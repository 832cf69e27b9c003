/**
 * The instance refresh state machine: a pure function of the refresh's plan, the test's script, the
 * cancel/rollback requests made so far and the time. Nothing runs in the background; every answer is
 * derived again from sandbox time, so a fast or pushed clock moves refreshes forward without timers.
 *
 * Instances are replaced in batches that MinHealthyPercentage/MaxHealthyPercentage allow, each batch taking
 * the warmup. Batches stop at checkpoints (then wait CheckpointDelay), the refresh bakes for BakeTime after
 * its last replacement, and a failure (scripted at a percentage) either fails it or, with AutoRollback, rolls
 * the replaced instances back in batches of the same size.
 */

export type RefreshStatus =
  | 'Pending'
  | 'InProgress'
  | 'Baking'
  | 'Successful'
  | 'Failed'
  | 'Cancelling'
  | 'Cancelled'
  | 'RollbackInProgress'
  | 'RollbackSuccessful'
  | 'RollbackFailed';

/** Statuses during which AWS refuses to start another refresh on the group. */
export const ACTIVE_STATUSES: ReadonlySet<RefreshStatus> = new Set<RefreshStatus>([
  'Pending',
  'InProgress',
  'Baking',
  'Cancelling',
  'RollbackInProgress',
]);

/** What the refresh was asked to do, fixed when it starts. Times in milliseconds. */
export interface RefreshPlan {
  startMs: number;
  /** Instances in the group when the refresh started. */
  total: number;
  /** Of those, instances already on the desired configuration that SkipMatching leaves alone. */
  skipped: number;
  /** Instances replaced at once, from the healthy percentages. */
  batchSize: number;
  /** How long one batch takes to launch and warm up. */
  warmupMs: number;
  pendingMs: number;
  /** Ascending percentages of the group; the last one ends the refresh (a partial refresh when below 100). */
  checkpoints: readonly number[];
  checkpointDelayMs: number;
  bakeMs: number;
  autoRollback: boolean;
}

/** The outcome a test scripted for the group. */
export interface RefreshOutcome {
  /** The batch that would bring PercentageComplete to this value or above fails its health checks. */
  failAtPercent?: number;
  failReason?: string;
  rollbackOutcome?: 'success' | 'failure';
  /** How long Cancelling lasts; by default until the batch being replaced has warmed up. */
  cancelMs?: number;
}

export interface RefreshRequest {
  kind: 'cancel' | 'rollback';
  atMs: number;
}

/**
 * One instance the refresh replaces, in replacement order: generation 0 is the instance the group had,
 * 1 its replacement on the desired configuration, 2 the instance a rollback put back on the old one.
 */
export interface SlotState {
  generation: 0 | 1 | 2;
  lifecycle: 'Pending' | 'InService';
  health: 'Healthy' | 'Unhealthy';
}

export interface RollbackState {
  reason: string;
  startMs: number;
  percentageCompleteOnRollback: number;
  instancesToUpdateOnRollback: number;
}

export interface RefreshState {
  status: RefreshStatus;
  statusReason?: string;
  percentageComplete: number;
  instancesToUpdate: number;
  /** Set once the status is final. */
  endMs?: number;
  rollback?: RollbackState;
  /** One entry per instance that is not skipped (`total - skipped`). */
  slots: SlotState[];
}

const ORIGINAL: SlotState = { generation: 0, lifecycle: 'InService', health: 'Healthy' };
const REPLACED: SlotState = { generation: 1, lifecycle: 'InService', health: 'Healthy' };
const LAUNCHING: SlotState = { generation: 1, lifecycle: 'Pending', health: 'Healthy' };
const BROKEN: SlotState = { generation: 1, lifecycle: 'InService', health: 'Unhealthy' };
const RESTORED: SlotState = { generation: 2, lifecycle: 'InService', health: 'Healthy' };
const RESTORING: SlotState = { generation: 2, lifecycle: 'Pending', health: 'Healthy' };

export const MANUAL_ROLLBACK_REASON = 'A rollback was requested (RollbackInstanceRefresh).';

/** The state of the refresh at `nowMs`. */
export function refreshStateAt(
  plan: RefreshPlan,
  outcome: RefreshOutcome,
  requests: readonly RefreshRequest[],
  nowMs: number,
): RefreshState {
  const toReplace = plan.total - plan.skipped;
  const percent = (replaced: number): number =>
    plan.total === 0 ? 100 : Math.floor((100 * (plan.skipped + replaced)) / plan.total);
  /** Replacements needed before PercentageComplete reaches `checkpoint`. */
  const neededFor = (checkpoint: number): number =>
    Math.min(toReplace, Math.max(0, Math.ceil((plan.total * checkpoint) / 100) - plan.skipped));

  // Only requests already made count: the state at a past time must not change when later ones arrive.
  const queue = requests.filter((r) => r.atMs <= nowMs).sort((a, b) => a.atMs - b.atMs);
  let nextRequest = 0;
  /** The first request of an accepted kind made before `endMs`: it interrupts the phase that would end then. */
  const interruption = (endMs: number, kinds: RefreshRequest['kind'][]): RefreshRequest | undefined => {
    while (nextRequest < queue.length && queue[nextRequest].atMs < endMs) {
      const request = queue[nextRequest++];
      if (kinds.includes(request.kind)) return request;
    }
    return undefined;
  };

  const layout = (segments: Array<[number, SlotState]>): SlotState[] => {
    const slots = segments.flatMap(([count, state]) => Array.from({ length: Math.max(0, count) }, () => state));
    return [...slots, ...Array.from({ length: toReplace - slots.length }, () => ORIGINAL)];
  };
  const forward = (
    status: RefreshStatus,
    statusReason: string | undefined,
    replaced: number,
    extra: Array<[number, SlotState]> = [],
    endMs?: number,
  ): RefreshState => ({
    status,
    statusReason,
    percentageComplete: percent(replaced),
    instancesToUpdate: toReplace - replaced,
    endMs,
    slots: layout([[replaced, REPLACED], ...extra]),
  });

  /** Cancelling lets the batch in flight finish (unless the script says how long it takes), then stops. */
  const cancel = (atMs: number, replaced: number, launching: number, batchEndMs: number): RefreshState => {
    const endMs = atMs + (outcome.cancelMs ?? Math.max(0, batchEndMs - atMs));
    if (nowMs < endMs) return forward('Cancelling', 'Replacing instances before cancelling.', replaced, [[launching, LAUNCHING]]);
    return forward('Cancelled', 'The instance refresh was cancelled.', replaced + launching, [], endMs);
  };

  /** Replaces the instances the refresh launched (`replaced` healthy ones, then `others`) with old-configuration ones. */
  const rollback = (atMs: number, reason: string, replaced: number, others: [number, SlotState]): RefreshState => {
    const details: RollbackState = {
      reason,
      startMs: atMs,
      percentageCompleteOnRollback: percent(replaced),
      instancesToUpdateOnRollback: toReplace - replaced,
    };
    const units = replaced + others[0];
    const state = (status: RefreshStatus, statusReason: string, restored: number, restoring: number, endMs?: number): RefreshState => ({
      status,
      statusReason,
      percentageComplete: percent(Math.max(0, replaced - restored)),
      instancesToUpdate: details.instancesToUpdateOnRollback,
      endMs,
      rollback: details,
      slots: layout([
        [restored, RESTORED],
        [restoring, RESTORING],
        [replaced - restored - restoring, REPLACED],
        [units - Math.max(replaced, restored + restoring), others[1]],
      ]),
    });
    let t = atMs;
    let restored = 0;
    while (restored < units) {
      const batch = Math.min(plan.batchSize, units - restored);
      const end = t + plan.warmupMs;
      const request = interruption(end, ['cancel']);
      if (request) {
        const cancelEnd = request.atMs + (outcome.cancelMs ?? end - request.atMs);
        if (nowMs < cancelEnd) return state('Cancelling', 'Replacing instances before cancelling.', restored, batch);
        return state('Cancelled', 'The rollback was cancelled.', restored + batch, 0, cancelEnd);
      }
      if (nowMs < end) return state('RollbackInProgress', reason, restored, batch);
      if (restored + batch === units && outcome.rollbackOutcome === 'failure') {
        return state('RollbackFailed', `The rollback failed: ${batch} instance(s) could not be replaced. ${reason}`, restored, 0, end);
      }
      restored += batch;
      t = end;
    }
    return state('RollbackSuccessful', reason, units, 0, t);
  };

  /** What a request made during a phase with no batch in flight does. */
  const interrupted = (request: RefreshRequest, replaced: number): RefreshState =>
    request.kind === 'cancel'
      ? cancel(request.atMs, replaced, 0, request.atMs)
      : rollback(request.atMs, MANUAL_ROLLBACK_REASON, replaced, [0, REPLACED]);

  // Pending
  let t = plan.startMs + plan.pendingMs;
  const early = interruption(t, ['cancel', 'rollback']);
  if (early) return interrupted(early, 0);
  if (nowMs < t) return forward('Pending', 'Waiting for the instance refresh to start.', 0);

  // InProgress: batches, pausing at checkpoints
  const checkpoints = plan.checkpoints.length > 0 ? plan.checkpoints : [100];
  const target = neededFor(checkpoints[checkpoints.length - 1]);
  const passed = new Set(checkpoints.filter((cp) => neededFor(cp) <= 0));
  let replaced = 0;
  while (replaced < target) {
    const upcoming = checkpoints.find((cp) => neededFor(cp) > replaced) ?? 100;
    const batch = Math.min(plan.batchSize, neededFor(upcoming) - replaced);
    const end = t + plan.warmupMs;
    const request = interruption(end, ['cancel', 'rollback']);
    if (request?.kind === 'cancel') return cancel(request.atMs, replaced, batch, end);
    if (request) return rollback(request.atMs, MANUAL_ROLLBACK_REASON, replaced, [batch, REPLACED]);
    if (nowMs < end) {
      return forward('InProgress', 'Waiting for instances to warm up before continuing.', replaced, [[batch, LAUNCHING]]);
    }
    if (outcome.failAtPercent !== undefined && percent(replaced + batch) >= outcome.failAtPercent) {
      const reason =
        outcome.failReason ?? `${batch} new instance(s) failed their health checks during the instance refresh.`;
      if (plan.autoRollback) return rollback(end, reason, replaced, [batch, BROKEN]);
      return forward('Failed', reason, replaced, [[batch, BROKEN]], end);
    }
    replaced += batch;
    t = end;
    const reached = checkpoints.filter((cp) => !passed.has(cp) && neededFor(cp) <= replaced);
    reached.forEach((cp) => passed.add(cp));
    if (reached.length > 0 && replaced < target) {
      const resume = t + plan.checkpointDelayMs;
      const pause = interruption(resume, ['cancel', 'rollback']);
      if (pause) return interrupted(pause, replaced);
      if (nowMs < resume) {
        const seconds = Math.round(plan.checkpointDelayMs / 1000);
        return forward(
          'InProgress',
          `Checkpoint ${reached[reached.length - 1]}% reached (${percent(replaced)}% complete). ` +
            `Waiting ${seconds} seconds (CheckpointDelay) before continuing.`,
          replaced,
        );
      }
      t = resume;
    }
  }

  // Baking
  if (plan.bakeMs > 0) {
    const baked = t + plan.bakeMs;
    const request = interruption(baked, ['cancel', 'rollback']);
    if (request) return interrupted(request, replaced);
    if (nowMs < baked) {
      return forward('Baking', `Waiting ${Math.round(plan.bakeMs / 1000)} seconds (BakeTime) before completing.`, replaced);
    }
    t = baked;
  }
  return forward('Successful', undefined, replaced, [], t);
}

/**
 * How many instances one batch replaces: what may be out of service (desired capacity minus the minimum
 * healthy count, rounded up as AWS does) plus what MaxHealthyPercentage lets launch above capacity, at least one.
 */
export function batchSize(capacity: number, minHealthyPercentage: number, maxHealthyPercentage: number): number {
  const minHealthy = Math.ceil((capacity * minHealthyPercentage) / 100);
  const maxInService = Math.floor((capacity * maxHealthyPercentage) / 100);
  return Math.max(1, maxInService - minHealthy);
}
