/**
 * The instance refresh state machine: a pure function of the refresh's plan, the test's script, the
 * cancel/rollback requests made so far and the time. Nothing runs in the background; every answer is
 * derived again from sandbox time, so a fast or pushed clock moves refreshes forward without timers.
 *
 * Instances are replaced in batches that MinHealthyPercentage/MaxHealthyPercentage allow, each batch taking
 * the warmup. Batches stop at checkpoints (then wait CheckpointDelay), the refresh bakes for BakeTime after
 * its last replacement, and a failure (scripted at a percentage) either fails it or, with AutoRollback, rolls
 * the replaced instances back in batches of the same size. With launching lifecycle hooks, each replacement waits in
 * `Pending:Wait` until its actions end (`lifecycle-hooks.ts`): its warmup starts then, and an ABANDON fails the
 * refresh at once. The instances a rollback launches wait on the hooks too (on AWS a launch hook holds every launch),
 * and one abandoned fails the rollback (RollbackFailed).
 */
import { resolveLaunch, abandonedLaunchReason, type ActionEvent, type GateHook, type Resolution } from './lifecycle-hooks.js';

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
  /** Launching lifecycle hooks every replacement waits on; none: no wait. */
  hooks?: readonly GateHook[];
  /** The replacements in slot order, with their lifecycle action tokens by hook, for the words of an abandon. */
  replacements?: ReadonlyArray<{ instanceId: string; tokens: Readonly<Record<string, string>> }>;
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
  lifecycle: 'Pending' | 'Pending:Wait' | 'InService' | 'Terminating';
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
  /** While a batch waits on lifecycle hooks: when it was launched, which the hooks' timeouts count from. */
  batchLaunchMs?: number;
}

const ORIGINAL: SlotState = { generation: 0, lifecycle: 'InService', health: 'Healthy' };
const REPLACED: SlotState = { generation: 1, lifecycle: 'InService', health: 'Healthy' };
const LAUNCHING: SlotState = { generation: 1, lifecycle: 'Pending', health: 'Healthy' };
const BROKEN: SlotState = { generation: 1, lifecycle: 'InService', health: 'Unhealthy' };
const RESTORED: SlotState = { generation: 2, lifecycle: 'InService', health: 'Healthy' };
const RESTORING: SlotState = { generation: 2, lifecycle: 'Pending', health: 'Healthy' };
const WAITING: SlotState = { generation: 1, lifecycle: 'Pending:Wait', health: 'Healthy' };
const ABANDONED: SlotState = { generation: 1, lifecycle: 'Terminating', health: 'Unhealthy' };
const RESTORE_WAITING: SlotState = { generation: 2, lifecycle: 'Pending:Wait', health: 'Healthy' };
const RESTORE_ABANDONED: SlotState = { generation: 2, lifecycle: 'Terminating', health: 'Unhealthy' };

export const WAITING_FOR_HOOKS_REASON = 'Waiting for instances to complete lifecycle actions before continuing.';

export const MANUAL_ROLLBACK_REASON = 'A rollback was requested (RollbackInstanceRefresh).';

/** The state of the refresh at `nowMs`; `events` are the lifecycle actions completed or extended so far. */
export function refreshStateAt(
  plan: RefreshPlan,
  outcome: RefreshOutcome,
  requests: readonly RefreshRequest[],
  nowMs: number,
  events: readonly ActionEvent[] = [],
): RefreshState {
  return new Timeline(plan, outcome, requests, nowMs, events).state();
}

/** A batch launched at some time, as its lifecycle hooks let it go: when it ends, and how its slots look until then. */
interface BatchGate {
  launchMs: number;
  /** When the batch has warmed up, or when its first instance was abandoned; Infinity while actions are open. */
  endMs: number;
  abandon?: { slot: number; resolution: Resolution };
  /** The batch's slots while it runs. */
  launching: Segment[];
}

type Segment = [count: number, state: SlotState];

/**
 * One reading of a refresh at `nowMs`: walks its phases (Pending, the batches with their checkpoint pauses,
 * Baking) from the start and stops at the first that is not over at `nowMs`, or that a request interrupts.
 */
class Timeline {
  private readonly toReplace: number;
  /** Requests already made, oldest first: the state at a past time must not change when later ones arrive. */
  private readonly queue: RefreshRequest[];
  private nextRequest = 0;

  constructor(
    private readonly plan: RefreshPlan,
    private readonly outcome: RefreshOutcome,
    requests: readonly RefreshRequest[],
    private readonly nowMs: number,
    private readonly events: readonly ActionEvent[] = [],
  ) {
    this.toReplace = plan.total - plan.skipped;
    this.queue = requests.filter((r) => r.atMs <= nowMs).sort((a, b) => a.atMs - b.atMs);
  }

  state(): RefreshState {
    const t = this.plan.startMs + this.plan.pendingMs;
    const early = this.interruption(t, ['cancel', 'rollback']);
    if (early) return this.interrupted(early, 0);
    if (this.nowMs < t) return this.forward('Pending', 'Waiting for the instance refresh to start.', 0);
    return this.inProgress(t);
  }

  private percent(replaced: number): number {
    const { total, skipped } = this.plan;
    return total === 0 ? 100 : Math.floor((100 * (skipped + replaced)) / total);
  }

  /** Replacements needed before PercentageComplete reaches `checkpoint`. */
  private neededFor(checkpoint: number): number {
    const { total, skipped } = this.plan;
    return Math.min(this.toReplace, Math.max(0, Math.ceil((total * checkpoint) / 100) - skipped));
  }

  /** The first request of an accepted kind made before `endMs`: it interrupts the phase that would end then. */
  private interruption(endMs: number, kinds: RefreshRequest['kind'][]): RefreshRequest | undefined {
    while (this.nextRequest < this.queue.length && this.queue[this.nextRequest].atMs < endMs) {
      const request = this.queue[this.nextRequest++];
      if (kinds.includes(request.kind)) return request;
    }
    return undefined;
  }

  private layout(segments: Segment[]): SlotState[] {
    const slots = segments.flatMap(([count, state]) => Array.from({ length: Math.max(0, count) }, () => state));
    return [...slots, ...Array.from({ length: this.toReplace - slots.length }, () => ORIGINAL)];
  }

  private forward(
    status: RefreshStatus,
    statusReason: string | undefined,
    replaced: number,
    extra: Segment[] = [],
    endMs?: number,
  ): RefreshState {
    return {
      status,
      statusReason,
      percentageComplete: this.percent(replaced),
      instancesToUpdate: this.toReplace - replaced,
      endMs,
      slots: this.layout([[replaced, REPLACED], ...extra]),
    };
  }

  /** InProgress: batches, pausing at checkpoints, then Baking. */
  private inProgress(startMs: number): RefreshState {
    const { plan, outcome } = this;
    const checkpoints = plan.checkpoints.length > 0 ? plan.checkpoints : [100];
    const target = this.neededFor(checkpoints[checkpoints.length - 1]);
    const passed = new Set(checkpoints.filter((cp) => this.neededFor(cp) <= 0));
    let t = startMs;
    let replaced = 0;
    while (replaced < target) {
      const upcoming = checkpoints.find((cp) => this.neededFor(cp) > replaced) ?? 100;
      const batch = Math.min(plan.batchSize, this.neededFor(upcoming) - replaced);
      const gate = this.gate(t, replaced, batch);
      const end = gate.endMs;
      const request = this.interruption(end, ['cancel', 'rollback']);
      if (request?.kind === 'cancel') return this.cancel(request.atMs, replaced, batch, end, gate);
      if (request) return this.rollback(request.atMs, MANUAL_ROLLBACK_REASON, replaced, [batch, REPLACED]);
      if (this.nowMs < end) {
        const reason = waits(gate) ? WAITING_FOR_HOOKS_REASON : 'Waiting for instances to warm up before continuing.';
        return withGate(this.forward('InProgress', reason, replaced, gate.launching), gate);
      }
      if (gate.abandon) return this.failed(end, replaced, batch, this.abandonReason(gate.abandon), ABANDONED);
      if (outcome.failAtPercent !== undefined && this.percent(replaced + batch) >= outcome.failAtPercent) {
        return this.failed(end, replaced, batch);
      }
      replaced += batch;
      t = end;
      const reached = checkpoints.filter((cp) => !passed.has(cp) && this.neededFor(cp) <= replaced);
      reached.forEach((cp) => passed.add(cp));
      if (reached.length > 0 && replaced < target) {
        const paused = this.checkpointPause(t, replaced, reached[reached.length - 1]);
        if ('status' in paused) return paused;
        t = paused.resumeMs;
      }
    }
    return this.baking(t, replaced);
  }

  /**
   * The batch of `count` replacements from slot `first`, launched at `launchMs`: without hooks it warms up at once;
   * with them each waits in Pending:Wait, and the batch warms up after its last CONTINUE or fails at its first ABANDON.
   */
  private gate(launchMs: number, first: number, count: number, restoring = false): BatchGate {
    const hooks = this.plan.hooks ?? [];
    const [pending, waiting, abandoned] = restoring ? [RESTORING, RESTORE_WAITING, RESTORE_ABANDONED] : [LAUNCHING, WAITING, ABANDONED];
    if (hooks.length === 0) return { launchMs, endMs: launchMs + this.plan.warmupMs, launching: [[count, pending]] };
    // A rollback's launches have their own lifecycle actions, keyed after the replacements'.
    const key = restoring ? this.toReplace : 0;
    const ends = Array.from({ length: count }, (_, i) => resolveLaunch(hooks, key + first + i, launchMs, this.events, this.nowMs));
    const abandons = ends
      .map((resolution, i) => ({ slot: first + i, resolution }))
      .filter((a): a is { slot: number; resolution: Resolution } => a.resolution?.result === 'ABANDON')
      .sort((a, b) => a.resolution.atMs - b.resolution.atMs);
    const launching = ends.map((r): Segment => [1, r === undefined ? waiting : r.result === 'ABANDON' ? abandoned : pending]);
    if (abandons.length > 0) return { launchMs, endMs: abandons[0].resolution.atMs, abandon: abandons[0], launching };
    if (ends.some((r) => r === undefined)) return { launchMs, endMs: Infinity, launching };
    return { launchMs, endMs: Math.max(...ends.map((r) => r!.atMs)) + this.plan.warmupMs, launching };
  }

  private abandonReason({ slot, resolution }: { slot: number; resolution: Resolution }): string {
    const replacement = this.plan.replacements?.[slot];
    const launch = abandonedLaunchReason(replacement?.instanceId ?? 'unknown', replacement?.tokens[resolution.hook] ?? 'unknown', resolution);
    const which = slot >= this.toReplace ? 'an instance the rollback launched' : 'a replacement instance';
    return `The instance refresh failed because ${which} was abandoned by lifecycle hook ${resolution.hook}. ${launch}`;
  }

  /** A batch failed (its health checks by default) at `atMs`: the refresh fails, or rolls back with AutoRollback. */
  private failed(atMs: number, replaced: number, batch: number, why?: string, broken: SlotState = BROKEN): RefreshState {
    const reason =
      why ?? this.outcome.failReason ?? `${batch} new instance(s) failed their health checks during the instance refresh.`;
    if (this.plan.autoRollback) return this.rollback(atMs, reason, replaced, [batch, broken]);
    return this.forward('Failed', reason, replaced, [[batch, broken]], atMs);
  }

  /** The CheckpointDelay after `checkpoint` was reached at `atMs`: the state while it lasts, or when it ends. */
  private checkpointPause(atMs: number, replaced: number, checkpoint: number): RefreshState | { resumeMs: number } {
    const resumeMs = atMs + this.plan.checkpointDelayMs;
    const pause = this.interruption(resumeMs, ['cancel', 'rollback']);
    if (pause) return this.interrupted(pause, replaced);
    if (this.nowMs >= resumeMs) return { resumeMs };
    const seconds = Math.round(this.plan.checkpointDelayMs / 1000);
    return this.forward(
      'InProgress',
      `Checkpoint ${checkpoint}% reached (${this.percent(replaced)}% complete). ` +
        `Waiting ${seconds} seconds (CheckpointDelay) before continuing.`,
      replaced,
    );
  }

  /** BakeTime after the last replacement (if any), then Successful. */
  private baking(atMs: number, replaced: number): RefreshState {
    if (this.plan.bakeMs === 0) return this.forward('Successful', undefined, replaced, [], atMs);
    const baked = atMs + this.plan.bakeMs;
    const request = this.interruption(baked, ['cancel', 'rollback']);
    if (request) return this.interrupted(request, replaced);
    if (this.nowMs < baked) {
      return this.forward('Baking', `Waiting ${Math.round(this.plan.bakeMs / 1000)} seconds (BakeTime) before completing.`, replaced);
    }
    return this.forward('Successful', undefined, replaced, [], baked);
  }

  /** What a request made during a phase with no batch in flight does. */
  private interrupted(request: RefreshRequest, replaced: number): RefreshState {
    return request.kind === 'cancel'
      ? this.cancel(request.atMs, replaced, 0, request.atMs)
      : this.rollback(request.atMs, MANUAL_ROLLBACK_REASON, replaced, [0, REPLACED]);
  }

  /**
   * Cancelling lets the batch in flight finish (unless the script says how long it takes), then stops; a batch
   * waiting on lifecycle hooks finishes when they end, and an abandoned one replaces nothing.
   */
  private cancel(atMs: number, replaced: number, launching: number, batchEndMs: number, gate?: BatchGate): RefreshState {
    const endMs = atMs + (this.outcome.cancelMs ?? Math.max(0, batchEndMs - atMs));
    if (this.nowMs < endMs) {
      const cancelling = this.forward('Cancelling', 'Replacing instances before cancelling.', replaced, gate?.launching ?? [[launching, LAUNCHING]]);
      return gate ? withGate(cancelling, gate) : cancelling;
    }
    const finished = gate?.abandon ? 0 : launching;
    return this.forward('Cancelled', 'The instance refresh was cancelled.', replaced + finished, [], endMs);
  }

  /** Replaces the instances the refresh launched (`replaced` healthy ones, then `others`) with old-configuration ones. */
  private rollback(atMs: number, reason: string, replaced: number, others: Segment): RefreshState {
    const { plan, outcome } = this;
    const state = this.rollbackState(atMs, reason, replaced, others);
    const units = replaced + others[0];
    let t = atMs;
    let restored = 0;
    while (restored < units) {
      const batch = Math.min(plan.batchSize, units - restored);
      // On AWS a launch hook holds a rollback's launches as it holds the replacements.
      const gate = this.gate(t, restored, batch, true);
      const end = gate.endMs;
      const request = this.interruption(end, ['cancel']);
      if (request) {
        const cancelEnd = request.atMs + (outcome.cancelMs ?? end - request.atMs);
        if (this.nowMs < cancelEnd) return withGate(state('Cancelling', 'Replacing instances before cancelling.', restored, batch, undefined, gate.launching), gate);
        return state('Cancelled', 'The rollback was cancelled.', restored + batch, 0, cancelEnd);
      }
      if (this.nowMs < end) return withGate(state('RollbackInProgress', reason, restored, batch, undefined, gate.launching), gate);
      if (gate.abandon) {
        const abandoned = this.abandonReason({ slot: this.toReplace + gate.abandon.slot, resolution: gate.abandon.resolution });
        return state('RollbackFailed', `The rollback failed: ${abandoned} ${reason}`, restored, 0, end);
      }
      if (restored + batch === units && outcome.rollbackOutcome === 'failure') {
        return state('RollbackFailed', `The rollback failed: ${batch} instance(s) could not be replaced. ${reason}`, restored, 0, end);
      }
      restored += batch;
      t = end;
    }
    return state('RollbackSuccessful', reason, units, 0, t);
  }

  /** The states of a rollback that started at `atMs`, by how many instances it has restored and is restoring. */
  private rollbackState(atMs: number, reason: string, replaced: number, others: Segment) {
    const details: RollbackState = {
      reason,
      startMs: atMs,
      percentageCompleteOnRollback: this.percent(replaced),
      instancesToUpdateOnRollback: this.toReplace - replaced,
    };
    const units = replaced + others[0];
    return (status: RefreshStatus, statusReason: string, restored: number, restoring: number, endMs?: number, launching?: Segment[]): RefreshState => ({
      status,
      statusReason,
      percentageComplete: this.percent(Math.max(0, replaced - restored)),
      instancesToUpdate: details.instancesToUpdateOnRollback,
      endMs,
      rollback: details,
      slots: this.layout([
        [restored, RESTORED],
        ...(launching ?? [[restoring, RESTORING] as Segment]),
        [replaced - restored - restoring, REPLACED],
        [units - Math.max(replaced, restored + restoring), others[1]],
      ]),
    });
  }
}

const waits = (gate: BatchGate): boolean => gate.launching.some(([, state]) => state.lifecycle === 'Pending:Wait');

/** A state while `gate`'s batch runs: with its launch time while an instance of it waits on a hook. */
const withGate = (state: RefreshState, gate: BatchGate): RefreshState =>
  waits(gate) ? { ...state, batchLaunchMs: gate.launchMs } : state;

/**
 * How many instances one batch replaces: what may be out of service (desired capacity minus the minimum
 * healthy count, rounded up as AWS does) plus what MaxHealthyPercentage lets launch above capacity, at least one.
 */
export function batchSize(capacity: number, minHealthyPercentage: number, maxHealthyPercentage: number): number {
  const minHealthy = Math.ceil((capacity * minHealthyPercentage) / 100);
  const maxInService = Math.floor((capacity * maxHealthyPercentage) / 100);
  return Math.max(1, maxInService - minHealthy);
}
