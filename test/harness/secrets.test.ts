import { describe, expect, it } from '@jest/globals';
import type { StepResult } from './runner.js';
import { assertNoSecrets, findSecrets, type Captured } from './secrets.js';

const result = (parts: Partial<StepResult>): StepResult => ({
  exitCode: 0,
  exitSignal: null,
  stdout: '',
  stderr: '',
  outputs: {},
  exportedEnv: {},
  state: {},
  addedPath: [],
  summary: '',
  annotations: [],
  masks: [],
  logLines: [],
  signals: [],
  durationMs: 0,
  timedOut: false,
  ...parts,
});

describe('findSecrets', () => {
  it.each<[string, Partial<StepResult>, Captured[], string[]]>([
    ['nowhere', { logLines: ['fine'], outputs: { a: 'b' } }, [], []],
    ['in a log line', { logLines: ['ok', 'key=SECRET1'] }, [], ['log line 2 holds the secret SECR...']],
    ['in an output', { outputs: { token: 'xSECRET1x' } }, [], ['outputs.token holds the secret SECR...']],
    ['in the exported env', { exportedEnv: { K: 'SECRET1' } }, [], ['exportedEnv.K holds the secret SECR...']],
    ['in the state', { state: { s: 'SECRET1' } }, [], ['state.s holds the secret SECR...']],
    ['in the summary', { summary: '| SECRET1 |' }, [], ['summary holds the secret SECR...']],
    ['where it is meant to be', { outputs: { token: 'SECRET1' }, exportedEnv: { K: 'SECRET1' } }, ['outputs', 'exportedEnv'], []],
  ])('%s', (_case, parts, except, expected) => {
    expect(findSecrets(result(parts), ['SECRET1', ''], except)).toEqual(expected);
  });
});

describe('assertNoSecrets', () => {
  it('names the step and the place', () => {
    const steps = [result({}), result({ summary: 'SECRET1' })];
    expect(() => assertNoSecrets(steps, ['SECRET1'])).toThrow('step 2: summary holds the secret SECR...');
  });

  it('passes when nothing leaked', () => {
    expect(() => assertNoSecrets(result({ logLines: ['fine'] }), ['SECRET1'])).not.toThrow();
  });
});
