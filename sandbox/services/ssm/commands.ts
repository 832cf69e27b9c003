/**
 * The Run Command state machine. A command's whole future is computed once from its plan (targets and their
 * scripted outcomes, rate controls, timeouts, cancellations so far) as a timeline per invocation; what any call
 * sees is that timeline read at the sandbox clock's "now". No timers: the same plan and time give the same answer.
 *
 * Status and StatusDetails use the values the API returns on the wire (`InProgress`, `ExecutionTimedOut`,
 * `NoInstancesInTag`), which are the ListCommands status filter values; the user guide's tables spell the same
 * details with spaces ("Execution Timed Out").
 */

/** What an instance's agent does with the command, scripted per test. */
export type OutcomeStatus =
  | 'Success'
  | 'Failed'
  /** The script runs past its execution timeout (the agent kills it). */
  | 'TimedOut'
  /** The agent never picks the command up (it shows as Delayed until the command expires). */
  | 'DeliveryTimedOut'
  | 'Undeliverable'
  | 'InvalidPlatform'
  | 'AccessDenied'
  /** Cancelled on the instance while running. */
  | 'Cancelled';

export interface InvocationOutcome {
  status: OutcomeStatus;
  /** Exit code; defaults: 0 for Success, 1 for Failed, 137 (killed) for TimedOut, -1 otherwise. */
  responseCode?: number;
  stdout?: string;
  stderr?: string;
  /** How long the script runs; defaults to `TIMING.defaultDurationSeconds` (the execution timeout for TimedOut). */
  durationSeconds?: number;
}

export interface Cancellation {
  atMs: number;
  /** Only these instances; the whole command when absent. */
  instanceIds?: string[];
}

export interface CommandPlan {
  sentAtMs: number;
  /** Tag targets are resolved to instances a moment after the send; explicit IDs are known at once. */
  byTargets: boolean;
  targets: { instanceId: string; outcome: InvocationOutcome }[];
  /** As sent: `N` or `N%`. */
  maxConcurrency: string;
  /** As sent: `N` or `N%`. */
  maxErrors: string;
  deliveryTimeoutSeconds: number;
  executionTimeoutSeconds: number;
  cancellations: Cancellation[];
}

/** Delays of the simulated service, in sandbox milliseconds (scaled by the clock's speed like everything else). */
export const TIMING = {
  /** Between a targeted send and its invocations appearing (InvocationDoesNotExist until then). */
  targetResolutionMs: 2000,
  /** Between invocations appearing and the first being sent to an agent. */
  dispatchDelayMs: 500,
  /** Between CancelCommand and a running invocation reporting Cancelled. */
  cancelDelayMs: 1000,
  defaultDurationSeconds: 10,
};

export type InvocationStatus =
  | 'Pending'
  | 'InProgress'
  | 'Delayed'
  | 'Success'
  | 'Cancelled'
  | 'TimedOut'
  | 'Failed'
  | 'Cancelling';

export type CommandStatus = 'Pending' | 'InProgress' | 'Success' | 'Cancelled' | 'Failed' | 'TimedOut' | 'Cancelling';

interface Final {
  status: InvocationStatus;
  details: string;
  responseCode: number;
  stdout: string;
  stderr: string;
}

/** One invocation's whole life. */
export interface InvocationTimeline {
  instanceId: string;
  /** When the service sent it to the agent. */
  dispatchAtMs?: number;
  /** When the script started; absent when it never ran. */
  startedAtMs?: number;
  /** The agent never answered: shown as Delayed while in flight. */
  undelivered: boolean;
  cancellingAtMs?: number;
  endAtMs: number;
  final: Final;
}

export interface Schedule {
  /** When the invocations appear. */
  visibleAtMs: number;
  invocations: InvocationTimeline[];
  /** When the whole command was cancelled. */
  cancelledAtMs?: number;
  /** Errors allowed before the rest is Terminated. */
  errorBudget: number;
}

export interface InvocationView {
  instanceId: string;
  status: InvocationStatus;
  statusDetails: string;
  /** -1 until the script has ended (or when it never ran). */
  responseCode: number;
  startedAtMs?: number;
  endedAtMs?: number;
  /** Empty until the invocation ends. */
  stdout: string;
  stderr: string;
}

export interface CommandView {
  status: CommandStatus;
  statusDetails: string;
  targetCount: number;
  completedCount: number;
  errorCount: number;
  deliveryTimedOutCount: number;
  /** Empty until targets are resolved. */
  invocations: InvocationView[];
}

/** `N` or `N%` of the targets, at least one. */
export function concurrencyLimit(maxConcurrency: string, targetCount: number): number {
  const percent = /^(\d+)%$/.exec(maxConcurrency);
  if (percent) return Math.max(1, Math.floor((Number(percent[1]) * targetCount) / 100));
  return Number(maxConcurrency);
}

/** `N` or `N%` of the targets, rounded down: the command stops when one more error than this arrives. */
export function errorBudget(maxErrors: string, targetCount: number): number {
  const percent = /^(\d+)%$/.exec(maxErrors);
  if (percent) return Math.floor((Number(percent[1]) * targetCount) / 100);
  return Number(maxErrors);
}

const TERMINAL: ReadonlySet<InvocationStatus> = new Set(['Success', 'Cancelled', 'TimedOut', 'Failed']);
const final = (status: InvocationStatus, details: string, responseCode = -1, stdout = '', stderr = ''): Final => ({
  status,
  details,
  responseCode,
  stdout,
  stderr,
});

/** What dispatching an invocation at `atMs` leads to, if nothing interrupts it. */
function course(
  outcome: InvocationOutcome,
  atMs: number,
  plan: CommandPlan,
): { endAtMs: number; started: boolean; undelivered: boolean; final: Final } {
  const executionMs = plan.executionTimeoutSeconds * 1000;
  const { stdout = '', stderr = '' } = outcome;
  switch (outcome.status) {
    case 'Undeliverable':
    case 'InvalidPlatform':
    case 'AccessDenied':
      return { endAtMs: atMs, started: false, undelivered: false, final: final('Failed', outcome.status) };
    case 'DeliveryTimedOut': {
      const expiresAtMs = plan.sentAtMs + (plan.deliveryTimeoutSeconds + plan.executionTimeoutSeconds) * 1000;
      return { endAtMs: expiresAtMs, started: false, undelivered: true, final: final('TimedOut', 'DeliveryTimedOut') };
    }
    case 'TimedOut': {
      const runMs = outcome.durationSeconds === undefined ? executionMs : outcome.durationSeconds * 1000;
      const timedOut = final('TimedOut', 'ExecutionTimedOut', outcome.responseCode ?? 137, stdout, stderr);
      return { endAtMs: atMs + Math.min(runMs, executionMs), started: true, undelivered: false, final: timedOut };
    }
    default: {
      const runMs = (outcome.durationSeconds ?? TIMING.defaultDurationSeconds) * 1000;
      if (runMs >= executionMs) {
        const killed = final('TimedOut', 'ExecutionTimedOut', 137, stdout, stderr);
        return { endAtMs: atMs + executionMs, started: true, undelivered: false, final: killed };
      }
      const code = outcome.responseCode ?? { Success: 0, Failed: 1, Cancelled: -1 }[outcome.status];
      const ended = final(outcome.status, outcome.status, code, stdout, stderr);
      return { endAtMs: atMs + runMs, started: true, undelivered: false, final: ended };
    }
  }
}

/**
 * Simulates the service's queue: invocations go out in target order, starting with one at a time and growing by
 * one for every invocation that completes (one, then two more, then four...) up to MaxConcurrency. Once more
 * than MaxErrors have failed (Failed or ExecutionTimedOut), the ones not yet sent are Terminated while those in
 * flight finish. Ones not sent before the delivery timeout never run (DeliveryTimedOut).
 */
export function schedule(plan: CommandPlan): Schedule {
  const visibleAtMs = plan.sentAtMs + (plan.byTargets ? TIMING.targetResolutionMs : 0);
  const cancellations = [...plan.cancellations].sort((a, b) => a.atMs - b.atMs);
  const wholeCancel = cancellations.find((c) => !c.instanceIds);
  const budget = errorBudget(plan.maxErrors, plan.targets.length);
  if (wholeCancel && wholeCancel.atMs < visibleAtMs) {
    return { visibleAtMs, invocations: [], cancelledAtMs: wholeCancel.atMs, errorBudget: budget };
  }
  const invocations = new Dispatch(plan, cancellations, visibleAtMs, budget).run();
  return { visibleAtMs, invocations, cancelledAtMs: wholeCancel?.atMs, errorBudget: budget };
}

interface Slot {
  timeline: InvocationTimeline;
  outcome: InvocationOutcome;
  /** Where it is heading while in flight. */
  pending?: { endAtMs: number; final: Final };
}

/** One run of `schedule`'s queue, event by event: the dispatch opening, completions, cancellations, the deadline. */
class Dispatch {
  private readonly slots: Slot[];
  private readonly firstDispatchMs: number;
  private readonly deliveryDeadlineMs: number;
  private readonly cap: number;
  private queue: number[];
  private readonly running = new Set<number>();
  private allowance = 1;
  private errors = 0;
  private stopped = false;
  private opened = false;
  private nextCancellation = 0;

  constructor(
    private readonly plan: CommandPlan,
    /** Oldest first. */
    private readonly cancellations: CommandPlan['cancellations'],
    private readonly visibleAtMs: number,
    private readonly budget: number,
  ) {
    this.firstDispatchMs = visibleAtMs + TIMING.dispatchDelayMs;
    this.deliveryDeadlineMs = plan.sentAtMs + plan.deliveryTimeoutSeconds * 1000;
    this.slots = plan.targets.map(({ instanceId, outcome }) => ({
      outcome,
      timeline: { instanceId, undelivered: false, endAtMs: Number.POSITIVE_INFINITY, final: final('Pending', 'Pending') },
    }));
    this.cap = concurrencyLimit(plan.maxConcurrency, this.slots.length);
    this.queue = this.slots.map((_, i) => i);
  }

  run(): InvocationTimeline[] {
    for (;;) {
      const now = this.nextEventMs();
      if (!Number.isFinite(now)) break;
      if (this.queue.length === 0 && this.running.size === 0 && this.opened) break;
      this.cancel(now);
      if (now === this.deliveryDeadlineMs) this.endQueued(now, final('TimedOut', 'DeliveryTimedOut'));
      if (now >= this.firstDispatchMs) this.opened = true;
      // Completions free slots and widen the ramp; instant outcomes (Undeliverable) complete as they are sent.
      while (this.complete(now) || this.dispatch(now));
    }
    return this.slots.map((s) => s.timeline);
  }

  private cancellationAt(index: number): number {
    const cancellation = this.cancellations[index];
    return cancellation ? Math.max(cancellation.atMs, this.visibleAtMs) : Number.POSITIVE_INFINITY;
  }

  /** The next moment something happens: the dispatch opening, a completion, a cancellation, the deadline. */
  private nextEventMs(): number {
    const { queue, deliveryDeadlineMs, visibleAtMs } = this;
    return Math.min(
      this.opened ? Number.POSITIVE_INFINITY : this.firstDispatchMs,
      ...[...this.running].map((i) => this.slots[i].pending!.endAtMs),
      this.cancellationAt(this.nextCancellation),
      queue.length > 0 && deliveryDeadlineMs >= visibleAtMs ? deliveryDeadlineMs : Number.POSITIVE_INFINITY,
    );
  }

  private end(i: number, atMs: number, result: Final): void {
    this.slots[i].timeline.endAtMs = atMs;
    this.slots[i].timeline.final = result;
  }

  private endQueued(atMs: number, result: Final, which: (i: number) => boolean = () => true): void {
    for (const i of this.queue.filter(which)) this.end(i, atMs, result);
    this.queue = this.queue.filter((i) => !which(i));
  }

  /** Cancellations due at `now`: queued invocations end, those in flight go Cancelling (unless about to end). */
  private cancel(now: number): void {
    const { slots } = this;
    while (this.cancellationAt(this.nextCancellation) === now) {
      const scope = this.cancellations[this.nextCancellation++].instanceIds;
      const inScope = (i: number) => !scope || scope.includes(slots[i].timeline.instanceId);
      this.endQueued(now, final('Cancelled', 'Cancelled'), inScope);
      for (const i of [...this.running].filter(inScope)) {
        const pending = slots[i].pending!;
        if (pending.endAtMs <= now + TIMING.cancelDelayMs || slots[i].timeline.cancellingAtMs !== undefined) continue;
        slots[i].timeline.cancellingAtMs = now;
        slots[i].pending = { endAtMs: now + TIMING.cancelDelayMs, final: final('Cancelled', 'Cancelled') };
      }
    }
  }

  /** Ends the invocations in flight that are done by `now`; true when any was. */
  private complete(now: number): boolean {
    let changed = false;
    for (const i of [...this.running].sort((a, b) => a - b)) {
      const pending = this.slots[i].pending!;
      if (pending.endAtMs > now) continue;
      this.running.delete(i);
      this.end(i, pending.endAtMs, pending.final);
      this.allowance = Math.min(this.cap, this.allowance + 1);
      if (pending.final.details === 'Failed' || pending.final.details === 'ExecutionTimedOut') this.errors += 1;
      if (this.errors > this.budget && !this.stopped) {
        this.stopped = true;
        this.endQueued(now, final('Cancelled', 'Terminated'));
      }
      changed = true;
    }
    return changed;
  }

  /** Sends what the ramp and MaxConcurrency allow at `now`; true when anything was sent. */
  private dispatch(now: number): boolean {
    let changed = false;
    while (
      this.opened &&
      !this.stopped &&
      this.queue.length > 0 &&
      this.running.size < Math.min(this.allowance, this.cap) &&
      now < this.deliveryDeadlineMs
    ) {
      const i = this.queue.shift()!;
      const next = course(this.slots[i].outcome, now, this.plan);
      const { timeline } = this.slots[i];
      timeline.dispatchAtMs = now;
      timeline.undelivered = next.undelivered;
      if (next.started) timeline.startedAtMs = now;
      this.slots[i].pending = { endAtMs: next.endAtMs, final: next.final };
      this.running.add(i);
      changed = true;
    }
    return changed;
  }
}

export function invocationAt(timeline: InvocationTimeline, nowMs: number): InvocationView {
  const base = { instanceId: timeline.instanceId, startedAtMs: timeline.startedAtMs };
  if (timeline.endAtMs <= nowMs) {
    const { status, details, responseCode, stdout, stderr } = timeline.final;
    const endedAtMs = timeline.startedAtMs === undefined ? undefined : timeline.endAtMs;
    return { ...base, status, statusDetails: details, responseCode, stdout, stderr, endedAtMs };
  }
  const running = (status: InvocationStatus, statusDetails: string): InvocationView => ({
    ...base,
    startedAtMs: timeline.startedAtMs !== undefined && timeline.startedAtMs <= nowMs ? timeline.startedAtMs : undefined,
    status,
    statusDetails,
    responseCode: -1,
    stdout: '',
    stderr: '',
  });
  if (timeline.cancellingAtMs !== undefined && timeline.cancellingAtMs <= nowMs) {
    return running('Cancelling', 'Cancelling');
  }
  if (timeline.dispatchAtMs !== undefined && timeline.dispatchAtMs <= nowMs) {
    return timeline.undelivered ? running('Delayed', 'Delayed') : running('InProgress', 'InProgress');
  }
  return running('Pending', 'Pending');
}

export function commandAt(sched: Schedule, nowMs: number): CommandView {
  const cancelled = sched.cancelledAtMs !== undefined && sched.cancelledAtMs <= nowMs;
  const empty = (status: CommandStatus, statusDetails: string): CommandView => ({
    status,
    statusDetails,
    targetCount: 0,
    completedCount: 0,
    errorCount: 0,
    deliveryTimedOutCount: 0,
    invocations: [],
  });
  if (nowMs < sched.visibleAtMs) return cancelled ? empty('Cancelled', 'Cancelled') : empty('Pending', 'Pending');
  if (sched.invocations.length === 0) {
    return cancelled ? empty('Cancelled', 'Cancelled') : empty('Success', 'NoInstancesInTag');
  }

  const invocations = sched.invocations.map((t) => invocationAt(t, nowMs));
  const count = (details: string) => invocations.filter((v) => v.statusDetails === details).length;
  const terminal = invocations.filter((v) => TERMINAL.has(v.status));
  const errorCount = count('Failed') + count('ExecutionTimedOut');
  const view = (status: CommandStatus, statusDetails: string): CommandView => ({
    status,
    statusDetails,
    targetCount: invocations.length,
    completedCount: terminal.length,
    errorCount,
    deliveryTimedOutCount: count('DeliveryTimedOut'),
    invocations,
  });
  if (terminal.length < invocations.length) {
    if (cancelled) return view('Cancelling', 'Cancelling');
    const started = invocations.some((v) => v.status !== 'Pending');
    return started ? view('InProgress', 'InProgress') : view('Pending', 'Pending');
  }
  if (cancelled) return view('Cancelled', 'Cancelled');
  const [status, details] = aggregate(invocations, errorCount, sched.errorBudget);
  return view(status, details);
}

/**
 * The final status of a command whose invocations have all ended. Failures beyond MaxErrors fail it;
 * Undeliverable, InvalidPlatform and AccessDenied do not count unless nothing else ran; other shortfalls
 * (failures within MaxErrors, delivery timeouts, cancelled or terminated invocations) make it Incomplete.
 */
function aggregate(invocations: InvocationView[], errorCount: number, budget: number): [CommandStatus, string] {
  const all = (...details: string[]) => invocations.every((v) => details.includes(v.statusDetails));
  const failedCount = invocations.filter((v) => v.statusDetails === 'Failed').length;
  if (errorCount > budget) return failedCount > 0 ? ['Failed', 'Failed'] : ['TimedOut', 'ExecutionTimedOut'];
  const notCounted = ['Undeliverable', 'InvalidPlatform', 'AccessDenied'];
  if (invocations.some((v) => v.status === 'Success')) {
    return all('Success', ...notCounted) ? ['Success', 'Success'] : ['Success', 'Incomplete'];
  }
  if (all('DeliveryTimedOut')) return ['TimedOut', 'DeliveryTimedOut'];
  if (all('AccessDenied')) return ['Failed', 'AccessDenied'];
  if (all('Cancelled')) return ['Cancelled', 'Cancelled'];
  if (all(...notCounted)) return ['Failed', 'Failed'];
  return ['Failed', 'Incomplete'];
}

export const isTerminalCommand = (view: CommandView): boolean =>
  !['Pending', 'InProgress', 'Cancelling'].includes(view.status);
