import { describe, expect, it } from '@jest/globals';
import { ABORT_BUDGET_MS, abortAttemptMs, abortBudgetMs, CANCELLED_ABORT_BUDGET_MS, type AbortCause } from './abort-budget.js';
import { TEST_TIMEOUT_VARIABLE } from './aws-clients.js';

describe('abortBudgetMs', () => {
  it.each<[AbortCause, number]>([
    ['cancelled', CANCELLED_ABORT_BUDGET_MS],
    ['timeout', ABORT_BUDGET_MS],
    ['gave-up', ABORT_BUDGET_MS],
  ])('%s: %i ms', (cause, ms) => expect(abortBudgetMs(cause)).toBe(ms));
});

describe('abortAttemptMs: a third of the budget, never above the client\'s own per-attempt timeout', () => {
  it.each<[number, Record<string, string>, number]>([
    [5_000, {}, 1_666],
    [60_000, {}, 15_000],
    [5_000, { [TEST_TIMEOUT_VARIABLE]: '1000' }, 1_000],
    [60_000, { [TEST_TIMEOUT_VARIABLE]: '1000' }, 1_000],
  ])('budget %i ms, env %j: %i ms', (budget, env, ms) => expect(abortAttemptMs(budget, env)).toBe(ms));
});
