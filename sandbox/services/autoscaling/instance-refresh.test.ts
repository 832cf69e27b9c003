import { describe, expect, it } from '@jest/globals';
import type { ActionEvent } from './lifecycle-hooks.js';
import {
  batchSize,
  MANUAL_ROLLBACK_REASON,
  refreshStateAt,
  type RefreshOutcome,
  type RefreshPlan,
  type RefreshRequest,
  type SlotState,
} from './instance-refresh.js';

const s = (seconds: number): number => seconds * 1000;

/** Four instances, two at a time, a checkpoint at 50% held for 10 minutes, then 2 minutes of baking. */
const checkpointed: RefreshPlan = {
  startMs: 0,
  total: 4,
  skipped: 0,
  batchSize: 2,
  warmupMs: s(60),
  pendingMs: s(10),
  checkpoints: [50, 100],
  checkpointDelayMs: s(600),
  bakeMs: s(120),
  autoRollback: false,
};

/** Four instances, one at a time, no pauses. */
const oneByOne: RefreshPlan = {
  startMs: 0,
  total: 4,
  skipped: 0,
  batchSize: 1,
  warmupMs: s(60),
  pendingMs: 0,
  checkpoints: [],
  checkpointDelayMs: 0,
  bakeMs: 0,
  autoRollback: false,
};

/** The user guide's example: 10 instances, checkpoints [20, 50], 15-minute delay, 80% healthy, 10-minute warmup. */
const userGuide: RefreshPlan = {
  ...oneByOne,
  total: 10,
  batchSize: 2,
  warmupMs: s(600),
  checkpoints: [20, 50],
  checkpointDelayMs: s(900),
};

const fails: RefreshOutcome = { failAtPercent: 50, failReason: 'health checks failed' };
const cancelAt = (seconds: number): RefreshRequest[] => [{ kind: 'cancel', atMs: s(seconds) }];
const rollbackAt = (seconds: number): RefreshRequest[] => [{ kind: 'rollback', atMs: s(seconds) }];

const O = 'old';
const N = 'new';
const L = 'launching';
const B = 'broken';
const R = 'restored';
const RL = 'restoring';
const code = (slot: SlotState): string =>
  slot.generation === 0
    ? O
    : slot.generation === 2
      ? slot.lifecycle === 'Pending'
        ? RL
        : R
      : slot.lifecycle === 'Pending'
        ? L
        : slot.health === 'Unhealthy'
          ? B
          : N;

type Row = [
  string,
  RefreshPlan,
  RefreshOutcome,
  RefreshRequest[],
  number,
  { status: string; pct: number; toUpdate: number; slots: string[]; reason?: RegExp; end?: number },
];

describe('refreshStateAt', () => {
  it.each<Row>([
    ['pending', checkpointed, {}, [], 0, { status: 'Pending', pct: 0, toUpdate: 4, slots: [O, O, O, O] }],
    ['still pending', checkpointed, {}, [], 9.999, { status: 'Pending', pct: 0, toUpdate: 4, slots: [O, O, O, O] }],
    ['first batch warming', checkpointed, {}, [], 10, { status: 'InProgress', pct: 0, toUpdate: 4, slots: [L, L, O, O], reason: /warm up/ }],
    ['first batch nearly warm', checkpointed, {}, [], 69, { status: 'InProgress', pct: 0, toUpdate: 4, slots: [L, L, O, O] }],
    ['at the checkpoint', checkpointed, {}, [], 70, { status: 'InProgress', pct: 50, toUpdate: 2, slots: [N, N, O, O], reason: /Checkpoint 50% reached.*600 seconds/ }],
    ['end of the checkpoint delay', checkpointed, {}, [], 669, { status: 'InProgress', pct: 50, toUpdate: 2, slots: [N, N, O, O], reason: /Checkpoint/ }],
    ['second batch warming', checkpointed, {}, [], 670, { status: 'InProgress', pct: 50, toUpdate: 2, slots: [N, N, L, L], reason: /warm up/ }],
    ['baking', checkpointed, {}, [], 730, { status: 'Baking', pct: 100, toUpdate: 0, slots: [N, N, N, N], reason: /BakeTime/ }],
    ['successful', checkpointed, {}, [], 850, { status: 'Successful', pct: 100, toUpdate: 0, slots: [N, N, N, N], end: 850 }],
    ['successful long after', checkpointed, {}, [], 9999, { status: 'Successful', pct: 100, toUpdate: 0, slots: [N, N, N, N], end: 850 }],

    ['one by one', oneByOne, {}, [], 61, { status: 'InProgress', pct: 25, toUpdate: 3, slots: [N, L, O, O] }],
    ['one by one done', oneByOne, {}, [], 240, { status: 'Successful', pct: 100, toUpdate: 0, slots: [N, N, N, N], end: 240 }],

    ['skip matching starts at the skipped share', { ...oneByOne, skipped: 2 }, {}, [], 0, { status: 'InProgress', pct: 50, toUpdate: 2, slots: [L, O] }],
    ['skip matching', { ...oneByOne, skipped: 2 }, {}, [], 60, { status: 'InProgress', pct: 75, toUpdate: 1, slots: [N, L] }],
    ['skip matching done', { ...oneByOne, skipped: 2 }, {}, [], 120, { status: 'Successful', pct: 100, toUpdate: 0, slots: [N, N], end: 120 }],
    ['nothing to replace', { ...oneByOne, skipped: 4 }, {}, [], 0, { status: 'Successful', pct: 100, toUpdate: 0, slots: [], end: 0 }],
    ['empty group', { ...oneByOne, total: 0 }, {}, [], 0, { status: 'Successful', pct: 100, toUpdate: 0, slots: [], end: 0 }],

    ['user guide: two warming', userGuide, {}, [], 599, { status: 'InProgress', pct: 0, toUpdate: 10, slots: [L, L, O, O, O, O, O, O, O, O] }],
    ['user guide: first checkpoint', userGuide, {}, [], 600, { status: 'InProgress', pct: 20, toUpdate: 8, slots: [N, N, O, O, O, O, O, O, O, O], reason: /Checkpoint 20%/ }],
    ['user guide: 0:25 two more', userGuide, {}, [], 1500, { status: 'InProgress', pct: 20, toUpdate: 8, slots: [N, N, L, L, O, O, O, O, O, O] }],
    ['user guide: 0:35 only one more', userGuide, {}, [], 2100, { status: 'InProgress', pct: 40, toUpdate: 6, slots: [N, N, N, N, L, O, O, O, O, O] }],
    ['user guide: 0:45 partial refresh ends', userGuide, {}, [], 2700, { status: 'Successful', pct: 50, toUpdate: 5, slots: [N, N, N, N, N, O, O, O, O, O], end: 2700 }],
    ['passing two checkpoints pauses once', { ...oneByOne, total: 2, checkpoints: [10, 40, 100], checkpointDelayMs: s(300) }, {}, [], 60, { status: 'InProgress', pct: 50, toUpdate: 1, slots: [N, O], reason: /Checkpoint 40%/ }],
    ['... and then goes on', { ...oneByOne, total: 2, checkpoints: [10, 40, 100], checkpointDelayMs: s(300) }, {}, [], 360, { status: 'InProgress', pct: 50, toUpdate: 1, slots: [N, L], reason: /warm up/ }],

    ['failing batch still warming', oneByOne, fails, [], 119, { status: 'InProgress', pct: 25, toUpdate: 3, slots: [N, L, O, O] }],
    ['failed without auto rollback', oneByOne, fails, [], 120, { status: 'Failed', pct: 25, toUpdate: 3, slots: [N, B, O, O], reason: /health checks failed/, end: 120 }],
    ['auto rollback starts', { ...oneByOne, autoRollback: true }, fails, [], 120, { status: 'RollbackInProgress', pct: 25, toUpdate: 3, slots: [RL, B, O, O], reason: /health checks failed/ }],
    ['auto rollback halfway', { ...oneByOne, autoRollback: true }, fails, [], 180, { status: 'RollbackInProgress', pct: 0, toUpdate: 3, slots: [R, RL, O, O] }],
    ['auto rollback done', { ...oneByOne, autoRollback: true }, fails, [], 240, { status: 'RollbackSuccessful', pct: 0, toUpdate: 3, slots: [R, R, O, O], end: 240 }],
    ['rollback fails', { ...oneByOne, autoRollback: true }, { ...fails, rollbackOutcome: 'failure' }, [], 240, { status: 'RollbackFailed', pct: 0, toUpdate: 3, slots: [R, B, O, O], reason: /rollback failed/, end: 240 }],
    ['failing at 0% fails the first batch', oneByOne, { failAtPercent: 0 }, [], 60, { status: 'Failed', pct: 0, toUpdate: 4, slots: [B, O, O, O], reason: /failed their health checks/, end: 60 }],

    ['cancel waits for the batch in flight', oneByOne, {}, cancelAt(90), 90, { status: 'Cancelling', pct: 25, toUpdate: 3, slots: [N, L, O, O], reason: /before cancelling/ }],
    ['cancelled once it warmed up', oneByOne, {}, cancelAt(90), 120, { status: 'Cancelled', pct: 50, toUpdate: 2, slots: [N, N, O, O], end: 120 }],
    ['scripted cancel time', oneByOne, { cancelMs: s(5) }, cancelAt(90), 95, { status: 'Cancelled', pct: 50, toUpdate: 2, slots: [N, N, O, O], end: 95 }],
    ['cancel while pending', checkpointed, {}, cancelAt(5), 5, { status: 'Cancelled', pct: 0, toUpdate: 4, slots: [O, O, O, O], end: 5 }],
    ['cancel at a checkpoint', checkpointed, { cancelMs: s(30) }, cancelAt(100), 110, { status: 'Cancelling', pct: 50, toUpdate: 2, slots: [N, N, O, O] }],
    ['cancel while baking', checkpointed, {}, cancelAt(800), 800, { status: 'Cancelled', pct: 100, toUpdate: 0, slots: [N, N, N, N], end: 800 }],
    ['requests before the time asked about do not count', oneByOne, {}, cancelAt(90), 89, { status: 'InProgress', pct: 25, toUpdate: 3, slots: [N, L, O, O] }],

    ['manual rollback at a checkpoint', checkpointed, {}, rollbackAt(100), 100, { status: 'RollbackInProgress', pct: 50, toUpdate: 2, slots: [RL, RL, O, O], reason: /RollbackInstanceRefresh/ }],
    ['manual rollback done', checkpointed, {}, rollbackAt(100), 160, { status: 'RollbackSuccessful', pct: 0, toUpdate: 2, slots: [R, R, O, O], end: 160 }],
    ['manual rollback mid-batch rolls the launching ones back too', oneByOne, {}, rollbackAt(90), 150, { status: 'RollbackInProgress', pct: 0, toUpdate: 3, slots: [R, RL, O, O] }],
    ['manual rollback while pending', checkpointed, {}, rollbackAt(5), 5, { status: 'RollbackSuccessful', pct: 0, toUpdate: 4, slots: [O, O, O, O], end: 5 }],
    ['cancelling a rollback', { ...oneByOne, autoRollback: true }, fails, cancelAt(150), 150, { status: 'Cancelling', pct: 25, toUpdate: 3, slots: [RL, B, O, O] }],
    ['rollback cancelled', { ...oneByOne, autoRollback: true }, fails, cancelAt(150), 180, { status: 'Cancelled', pct: 0, toUpdate: 3, slots: [R, B, O, O], end: 180 }],
    ['a second rollback request changes nothing', checkpointed, {}, [...rollbackAt(100), ...rollbackAt(110)], 160, { status: 'RollbackSuccessful', pct: 0, toUpdate: 2, slots: [R, R, O, O], end: 160 }],
  ])('%s', (_name, plan, outcome, requests, atSeconds, expected) => {
    const state = refreshStateAt(plan, outcome, requests, s(atSeconds));
    expect({
      status: state.status,
      pct: state.percentageComplete,
      toUpdate: state.instancesToUpdate,
      slots: state.slots.map(code),
    }).toEqual({ status: expected.status, pct: expected.pct, toUpdate: expected.toUpdate, slots: expected.slots });
    if (expected.reason) expect(state.statusReason).toMatch(expected.reason);
    expect(state.endMs).toBe(expected.end === undefined ? undefined : s(expected.end));
  });

  it.each<[string, RefreshOutcome, RefreshRequest[], number, object]>([
    ['auto', fails, [], 120, { reason: 'health checks failed', startMs: s(120), percentageCompleteOnRollback: 25, instancesToUpdateOnRollback: 3 }],
    ['manual', {}, rollbackAt(90), 90, { reason: MANUAL_ROLLBACK_REASON, startMs: s(90), percentageCompleteOnRollback: 25, instancesToUpdateOnRollback: 3 }],
  ])('records the %s rollback', (_name, outcome, requests, atSeconds, details) => {
    expect(refreshStateAt({ ...oneByOne, autoRollback: true }, outcome, requests, s(atSeconds)).rollback).toEqual(details);
  });

  it('has no rollback details without a rollback', () => {
    expect(refreshStateAt(oneByOne, {}, [], s(500)).rollback).toBeUndefined();
  });
});

describe('batchSize', () => {
  it.each([
    [10, 90, 100, 1],
    [10, 80, 100, 2],
    [2, 90, 100, 1],
    [10, 100, 100, 1],
    [4, 0, 100, 4],
    [4, 50, 150, 4],
    [10, 90, 110, 2],
    [0, 90, 100, 1],
  ])('capacity %i, min %i%%, max %i%% -> %i', (capacity, min, max, expected) => {
    expect(batchSize(capacity, min, max)).toBe(expected);
  });
});

describe('refreshStateAt with a launching lifecycle hook', () => {
  /** Two instances one at a time, warmup 60 s, a hook with a 300 s heartbeat; replacements i-a and i-b. */
  const hooked = (defaultResult: 'CONTINUE' | 'ABANDON' = 'ABANDON', autoRollback = false): RefreshPlan => ({
    ...oneByOne,
    total: 2,
    autoRollback,
    hooks: [{ name: 'ready', heartbeatMs: s(300), globalMs: s(30_000), defaultResult }],
    replacements: [
      { instanceId: 'i-a', tokens: { ready: 'token-a' } },
      { instanceId: 'i-b', tokens: { ready: 'token-b' } },
      // The instances a rollback launches, slot i's at 2 + i.
      { instanceId: 'i-ra', tokens: { ready: 'token-ra' } },
      { instanceId: 'i-rb', tokens: { ready: 'token-rb' } },
    ],
  });
  const W = 'waiting';
  const T = 'terminating';
  const hookCode = (slot: SlotState): string =>
    slot.lifecycle === 'Pending:Wait' ? W : slot.lifecycle === 'Terminating' ? T : code(slot);
  const done = (slot: number, seconds: number, result: 'CONTINUE' | 'ABANDON' = 'CONTINUE'): ActionEvent => ({
    slot,
    hook: 'ready',
    kind: 'complete',
    atMs: s(seconds),
    result,
  });
  const beat = (slot: number, seconds: number): ActionEvent => ({ slot, hook: 'ready', kind: 'heartbeat', atMs: s(seconds) });

  it.each<[string, RefreshPlan, ActionEvent[], RefreshRequest[], number, { status: string; slots: string[]; reason?: RegExp; end?: number; launch?: number }]>([
    ['the first replacement waits', hooked(), [], [], 0, { status: 'InProgress', slots: [W, O], reason: /lifecycle actions/, launch: 0 }],
    ['it waits however long warmup is', hooked(), [], [], 299, { status: 'InProgress', slots: [W, O], launch: 0 }],
    ['CONTINUE starts its warmup', hooked(), [done(0, 100)], [], 100, { status: 'InProgress', slots: [L, O], reason: /warm up/ }],
    ['warmed up 60 s after CONTINUE: the next one waits', hooked(), [done(0, 100)], [], 160, { status: 'InProgress', slots: [N, W], launch: 160 }],
    ['all continued: successful', hooked(), [done(0, 100), done(1, 200)], [], 260, { status: 'Successful', slots: [N, N], end: 260 }],
    ['ABANDON fails at once, naming the instance and why', hooked(), [done(0, 100, 'ABANDON')], [], 100, { status: 'Failed', slots: [T, O], end: 100, reason: /abandoned by lifecycle hook ready\. Launching a new EC2 instance: i-a\. .*token token-a was abandoned: Lifecycle Action Completed with ABANDON Result/ }],
    ['heartbeat timeout applies ABANDON', hooked(), [], [], 300, { status: 'Failed', slots: [T, O], end: 300, reason: /i-a\..*Heartbeat Timeout/ }],
    ['heartbeat timeout applies CONTINUE', hooked('CONTINUE'), [], [], 300, { status: 'InProgress', slots: [L, O] }],
    ['a heartbeat keeps it waiting', hooked(), [beat(0, 250)], [], 500, { status: 'InProgress', slots: [W, O], launch: 0 }],
    ['... until it times out', hooked(), [beat(0, 250)], [], 550, { status: 'Failed', slots: [T, O], end: 550 }],
    ['ABANDON of the second rolls back with AutoRollback: the rollback\'s launch waits on the hook too', hooked('ABANDON', true), [done(0, 100), done(1, 170, 'ABANDON')], [], 170, { status: 'RollbackInProgress', slots: [W, T], reason: /i-b/, launch: 170 }],
    ['... its CONTINUE starts its warmup', hooked('ABANDON', true), [done(0, 100), done(1, 170, 'ABANDON'), done(2, 200)], [], 200, { status: 'RollbackInProgress', slots: [RL, T] }],
    ['... then the next rollback launch waits', hooked('ABANDON', true), [done(0, 100), done(1, 170, 'ABANDON'), done(2, 200)], [], 260, { status: 'RollbackInProgress', slots: [R, W], launch: 260 }],
    ['... both continued: rolled back', hooked('ABANDON', true), [done(0, 100), done(1, 170, 'ABANDON'), done(2, 200), done(3, 300)], [], 360, { status: 'RollbackSuccessful', slots: [R, R], end: 360 }],
    ['a rollback launch nobody completes: RollbackFailed at its heartbeat timeout', hooked('ABANDON', true), [done(0, 100), done(1, 170, 'ABANDON')], [], 470, { status: 'RollbackFailed', slots: [N, T], end: 470, reason: /^The rollback failed: .*instance the rollback launched was abandoned by lifecycle hook ready\. Launching a new EC2 instance: i-ra\. .*token token-ra was abandoned: Heartbeat Timeout/ }],
    ['a rollback launch that reports ABANDON: RollbackFailed at once', hooked('ABANDON', true), [done(0, 100), done(1, 170, 'ABANDON'), done(2, 180, 'ABANDON')], [], 180, { status: 'RollbackFailed', slots: [N, T], end: 180, reason: /i-ra\..*ABANDON Result/ }],
    ['cancel while waiting: cancelling until the action ends', hooked(), [], cancelAt(50), 100, { status: 'Cancelling', slots: [W, O], launch: 0 }],
    ['... CONTINUE, warmup, then cancelled', hooked(), [done(0, 100)], cancelAt(50), 160, { status: 'Cancelled', slots: [N, O], end: 160 }],
    ['... ABANDON: cancelled at once, nothing replaced', hooked(), [done(0, 100, 'ABANDON')], cancelAt(50), 100, { status: 'Cancelled', slots: [O, O], end: 100 }],
  ])('%s', (_name, plan, events, requests, atSeconds, expected) => {
    const state = refreshStateAt(plan, {}, requests, s(atSeconds), events);
    expect({ status: state.status, slots: state.slots.map(hookCode) }).toEqual({ status: expected.status, slots: expected.slots });
    if (expected.reason) expect(state.statusReason).toMatch(expected.reason);
    if (expected.end !== undefined) expect(state.endMs).toBe(s(expected.end));
    expect(state.batchLaunchMs).toBe(expected.launch === undefined ? undefined : s(expected.launch));
  });
});
