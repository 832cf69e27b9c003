import { describe, expect, it } from '@jest/globals';
import type { StepResult } from '../test/harness/runner.js';
import { expectedFleetFailure } from './steps.js';

const FLEET = ['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002', 'i-0a1b2c3d4e5f60003'];
const [ONE, FAILING, THREE] = FLEET;
const ROLLED_BACK = `The command ended Success (Incomplete); 1 of 3 instances did not deploy: ${FAILING} Failed (exit 2: rolled back to the previous generation).`;

const ok = (instanceId: string) => ({ instanceId, status: 'Success', statusDetails: 'Success', responseCode: 0 });
const failed = (instanceId: string, responseCode: number) => ({ instanceId, status: 'Failed', statusDetails: 'Failed', responseCode });

function step(exitCode: number, instances: unknown[], errors: string[] = [ROLLED_BACK], timedOut = false): StepResult {
  return {
    exitCode,
    exitSignal: null,
    stdout: '',
    stderr: '',
    outputs: { instances: JSON.stringify(instances) },
    exportedEnv: {},
    state: {},
    addedPath: [],
    summary: '',
    annotations: errors.map((message) => ({ level: 'error', message, properties: {} })),
    masks: [],
    logLines: [],
    signals: [],
    durationMs: 2000,
    timedOut,
  };
}

const problems = (result: StepResult) => expectedFleetFailure(result, FAILING, FLEET).filter(Boolean);

describe('the SSM step\'s expected failure', () => {
  it('is no problem when exactly the scripted instance failed with exit 2 and the step says so', () => {
    expect(problems(step(1, [failed(FAILING, 2), ok(ONE), ok(THREE)]))).toEqual([]);
  });

  it.each<[string, StepResult, RegExp]>([
    ['the step succeeding', step(0, [ok(FAILING), ok(ONE), ok(THREE)], []), /^exited 0, not 1$/],
    ['the step killed', step(1, [], [], true), /did not end within 2 s/],
    ['another instance failing too', step(1, [failed(FAILING, 2), failed(ONE, 1), ok(THREE)]), new RegExp(`${ONE} Failed \\(exit 1\\)`)],
    ['the instance failing without a rollback', step(1, [failed(FAILING, 3), ok(ONE), ok(THREE)]), new RegExp(`${FAILING} Failed \\(exit 3\\)`)],
    ['an instance missing', step(1, [failed(FAILING, 2), ok(ONE)]), /reported 2 instances, not 3/],
    ['a different error', step(1, [failed(FAILING, 2), ok(ONE), ok(THREE)], ['Could not send the command: AccessDeniedException']), /the step's errors: Could not send/],
    ['no instances output', { ...step(1, []), outputs: { instances: 'not json' } }, /not JSON/],
  ])('is a problem: %s', (_case, result, problem) => {
    expect(problems(result)).toContainEqual(expect.stringMatching(problem));
  });
});
