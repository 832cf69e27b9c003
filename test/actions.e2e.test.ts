/**
 * Every action's bundle, run as the runner runs it, against a started sandbox: a bad input fails the step with an
 * error naming that input before any AWS call; valid inputs reach the action's body.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Sandbox } from '../sandbox/server.js';
import { ACTIONS, SIGNING_KEY, STORE_PATH } from './actions.js';
import { Job, runAction, type StepResult } from './harness/runner.js';
import { assertNoSecrets } from './harness/secrets.js';

const sandbox = new Sandbox();
beforeAll(() => sandbox.start());
afterAll(() => sandbox.stop());
beforeEach(() => sandbox.reset());

const errors = (result: StepResult) => result.annotations.filter((a) => a.level === 'error').map((a) => a.message);

/** [action, inputs over the valid ones (`''` is an absent input, as on the runner), the input the error must name]. */
// assume-role's own table is in assume-role.e2e.test.ts.
const BAD_INPUTS: Array<[string, Record<string, string>, string]> = [
  ['build-and-push', { installable: '' }, 'installable'],
  ['build-and-push', { installable: '--impure' }, 'installable'],
  ['build-and-push', { 'store-uri': '' }, 'store-uri'],
  ['build-and-push', { push: 'maybe' }, 'push'],
  ['build-and-push', { 'signing-key': '' }, 'signing-key'],
  ['build-and-push', { 'signing-key-parameter': '/nix/signing-key' }, 'signing-key'],
  ['build-and-push', { compression: 'lzma9' }, 'compression'],
  ['instance-refresh', { 'auto-scaling-group-name': '' }, 'auto-scaling-group-name'],
  ['instance-refresh', { 'store-path': '/nix/store/short-name' }, 'store-path'],
  ['instance-refresh', { 'store-path': `${STORE_PATH}; reboot` }, 'store-path'],
  ['instance-refresh', { 'min-healthy-percentage': '101' }, 'min-healthy-percentage'],
  ['instance-refresh', { 'checkpoint-percentages': '50,20' }, 'checkpoint-percentages'],
  ['instance-refresh', { tags: `NixStorePath=${STORE_PATH}` }, 'tags'],
  ['instance-refresh', { 'if-in-progress': 'ignore' }, 'if-in-progress'],
  ['instance-refresh', { 'timeout-minutes': '0' }, 'timeout-minutes'],
  ['ssm-deploy', { targets: '' }, 'targets'],
  ['ssm-deploy', { 'instance-ids': 'i-0123456789abcdef0' }, 'targets'],
  ['ssm-deploy', { targets: 'Role=web' }, 'targets'],
  ['ssm-deploy', { targets: '', 'instance-ids': 'i-123' }, 'instance-ids'],
  ['ssm-deploy', { 'health-check-url': 'http://example.com/health' }, 'health-check-url'],
  ['ssm-deploy', { 'max-concurrency': '0' }, 'max-concurrency'],
  ['ssm-deploy', { action: 'rollback' }, 'action'],
];

function inputsFor(action: string, changes: Record<string, string>): Record<string, string> {
  return { ...ACTIONS.find((a) => a.action === action)!.valid, ...changes };
}

describe('a bad input', () => {
  it.each(BAD_INPUTS)('%s %j fails naming %s, before any AWS call', async (action, changes, input) => {
    const result = await runAction(action, { env: sandbox.env(), inputs: inputsFor(action, changes) });
    expect(result.exitCode).toBe(1);
    expect(errors(result)).toEqual([expect.stringContaining(`'${input}'`)]);
    expect(sandbox.calls.all()).toEqual([]);
  });

  it('never shows a malformed signing key', async () => {
    const key = 'cache-1:this-is-not-base64-but-still-secret';
    const result = await runAction('build-and-push', { env: sandbox.env(), inputs: inputsFor('build-and-push', { 'signing-key': key }) });
    expect(errors(result)).toEqual([expect.stringContaining("Input 'signing-key' must be a Nix secret key")]);
    expect(result.masks).toContain(key);
    assertNoSecrets(result, [key]);
  });
});

describe('build-and-push post step', () => {
  it('removes the signing key file the main step named in its state', async () => {
    const job = new Job({ env: sandbox.env() });
    try {
      // A main step that stops at its inputs: this is about the post step alone (the action's own e2e tests build).
      await job.step('build-and-push', { inputs: inputsFor('build-and-push', { push: 'maybe' }) });
      const keyFile = join(job.runnerTemp, 'signing-key');
      await writeFile(keyFile, SIGNING_KEY, { mode: 0o600 });
      const post = await job.post('build-and-push', { state: { 'signing-key-file': keyFile } });
      expect(post.exitCode).toBe(0);
      expect(existsSync(keyFile)).toBe(false);
    } finally {
      await job.cleanup();
    }
  });
});
