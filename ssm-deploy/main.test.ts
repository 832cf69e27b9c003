/** The step's one report: outputs, summary and failure from what the deploy had learned when it ended. */
import { describe, expect, it } from '@jest/globals';
import { readInputs } from './inputs.js';
import { report, type DeployState } from './main.js';
import type { CommandState } from './plan.js';

const STORE_PATH = '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05';
const inputs = (extra: Record<string, string> = {}) =>
  readInputs((name) => ({ targets: 'tag:Role=web', 'store-path': STORE_PATH, ...extra })[name] ?? '', { AWS_REGION: 'eu-central-1' });
const URL = 'https://eu-central-1.console.aws.amazon.com/systems-manager/run-command/c-1?region=eu-central-1';
const ok: CommandState = {
  commandId: 'c-1',
  status: 'Success',
  statusDetails: 'Success',
  instances: [{ instanceId: 'i-00000000000000001', status: 'Success', statusDetails: 'Success', responseCode: 0 }],
};
const running: CommandState = { ...ok, status: 'InProgress', statusDetails: 'InProgress', instances: [{ ...ok.instances[0], status: 'InProgress', statusDetails: 'InProgress', responseCode: -1 }] };
const sent = (extra: Partial<DeployState> = {}, given = inputs()): DeployState => ({
  inputs: given,
  targets: 'tag:Role=web',
  document: { name: 'NixOS-Deploy', version: '1', change: 'created' },
  commandId: 'c-1',
  sentStatus: 'Pending',
  ...extra,
});

describe('report', () => {
  it.each<[string, DeployState, unknown, Record<string, unknown>, { failure?: string; notice?: string; summary: boolean }]>([
    ['nothing sent: no outputs, no summary, the error alone', { inputs: inputs(), targets: 'tag:Role=web' }, new Error('AccessDenied'), {}, { summary: false }],
    [
      'sent, not waiting: the command, its link and SendCommand\'s status',
      sent({}, inputs({ wait: 'false' })),
      undefined,
      { 'command-id': 'c-1', 'console-url': URL, status: 'Pending', instances: [], 'succeeded-count': 0, 'failed-count': 0 },
      { notice: 'Sent the command c-1; not waiting for it (wait: false).', summary: true },
    ],
    [
      'deployed',
      sent({ command: ok, ending: { kind: 'done', state: ok } }),
      undefined,
      { 'command-id': 'c-1', 'console-url': URL, status: 'Success', 'succeeded-count': 1, 'failed-count': 0 },
      { notice: 'Deployed to 1 instance.', summary: true },
    ],
    [
      'cancelled while waiting: the last state read, and the cancel',
      sent({ command: running, ending: { kind: 'aborted', state: running, cancel: { sent: true } } }),
      undefined,
      { 'command-id': 'c-1', 'console-url': URL, status: 'InProgress', 'succeeded-count': 0, 'failed-count': 1 },
      { failure: 'The run was cancelled; the command c-1 was cancelled (CancelCommand). 0 of 1 instances had succeeded.', summary: true },
    ],
    [
      'ended before the wait did (the hard deadline): the last state read',
      sent({ command: running }),
      undefined,
      { 'command-id': 'c-1', 'console-url': URL, status: 'InProgress' },
      { failure: 'The step ended before the command c-1 did.', summary: true },
    ],
    [
      'threw after the send: the command still named',
      sent(),
      new Error('socket hang up'),
      { 'command-id': 'c-1', 'console-url': URL, status: 'Pending' },
      { failure: 'socket hang up', summary: true },
    ],
  ])('%s', (_case, state, error, outputs, expected) => {
    const made = report(state, error);
    expect(made.outputs).toMatchObject(outputs);
    if (Object.keys(outputs).length === 0) expect(made.outputs).toEqual({});
    expect(made.failure).toBe(expected.failure);
    expect(made.notice).toBe(expected.notice);
    expect(made.summary !== undefined).toBe(expected.summary);
    if (made.summary) expect(made.summary.facts).toContainEqual(['Command', { text: 'c-1', code: true, href: URL }]);
  });
});
