/** The step's one report: outputs, summary and failure from what the deploy had learned when it ended. */
import { describe, expect, it } from '@jest/globals';
import { SendUnknownError } from './aws.js';
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
const cancelling: CommandState = {
  ...ok,
  status: 'Cancelling',
  statusDetails: 'Cancelling',
  instances: [ok.instances[0], { instanceId: 'i-00000000000000002', status: 'Cancelling', statusDetails: 'Cancelling', responseCode: -1 }],
};
const unsent = (extra: Partial<DeployState> = {}): DeployState => ({ inputs: inputs(), targets: 'tag:Role=web', ...extra });
const MAYBE = 'SendCommand failed: The run was cancelled (SIGINT); its answer never came and no command of this run was found, so a command may be running: look in https://...';
const sent = (extra: Partial<DeployState> = {}, given = inputs()): DeployState => ({
  inputs: given,
  targets: 'tag:Role=web',
  document: { name: 'NixOS-Deploy', version: '1', change: 'created' },
  commandId: 'c-1',
  sentStatus: 'Pending',
  ...extra,
});

describe('report', () => {
  it.each<[string, DeployState, unknown, Record<string, unknown>, { failure?: string; notice?: string; summary: boolean; title?: string; text?: string }]>([
    [
      'nothing sent: no outputs; the error, and a summary saying nothing was sent',
      unsent(),
      new Error('AccessDenied'),
      {},
      { failure: 'AccessDenied', summary: true, title: 'NixOS deploy through Systems Manager failed', text: 'Nothing was sent: AccessDenied' },
    ],
    [
      'cancelled before the send: the cancellation, never the SDK\'s AbortError',
      unsent({ cancelled: 'The run was cancelled (SIGINT)' }),
      Object.assign(new Error('Request aborted'), { name: 'AbortError' }),
      {},
      {
        failure: 'The run was cancelled (SIGINT) before the command was sent: nothing was changed.',
        summary: true,
        title: 'NixOS deploy through Systems Manager cancelled',
      },
    ],
    [
      'cancelled before the send, after the document was updated: says so',
      unsent({ cancelled: 'The run was cancelled (SIGTERM)', document: { name: 'NixOS-Deploy', version: '2', change: 'updated' } }),
      new Error('Request aborted'),
      {},
      { failure: 'The run was cancelled (SIGTERM) before the command was sent: no command was sent (the document NixOS-Deploy was updated).', summary: true },
    ],
    [
      'cancelled while the send\'s answer was unknown and no command found: where to look, not "nothing was sent"',
      unsent({ cancelled: 'The run was cancelled (SIGINT)' }),
      new SendUnknownError(MAYBE),
      {},
      { failure: MAYBE, summary: true, title: 'NixOS deploy through Systems Manager cancelled', text: MAYBE },
    ],
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
      'cancelled while waiting: the state read after the cancel; a cancelling instance is not a failed one',
      sent({ command: cancelling, ending: { kind: 'aborted', state: cancelling, cancel: { sent: true } } }),
      undefined,
      { 'command-id': 'c-1', 'console-url': URL, status: 'Cancelling', 'succeeded-count': 1, 'failed-count': 0 },
      {
        failure:
          'The run was cancelled; the command c-1 was cancelled (CancelCommand). 1 of 2 instances had succeeded.',
        summary: true,
        title: 'NixOS deploy through Systems Manager cancelled',
      },
    ],
    [
      'timed out: titled so',
      sent({ command: cancelling, ending: { kind: 'timeout', state: cancelling, timeoutMinutes: 1, cancel: { sent: true } } }),
      undefined,
      { status: 'Cancelling', 'failed-count': 0 },
      {
        failure:
          'The command did not end within 1 minute; the command c-1 was cancelled (CancelCommand). 1 of 2 instances had succeeded.',
        summary: true,
        title: 'NixOS deploy through Systems Manager timed out',
      },
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
    if (state.commandId) expect(made.summary!.facts).toContainEqual(['Command', { text: 'c-1', code: true, href: URL }]);
    if (expected.title) expect(made.summary!.title).toBe(expected.title);
    if (expected.text) expect(made.summary!.text).toBe(expected.text);
  });
});
