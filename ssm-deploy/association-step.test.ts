/** Association mode's one report: outputs, summary and failure from what the step had learned when it ended. */
import { describe, expect, it } from '@jest/globals';
import { desiredSettings } from './association-plan.js';
import { associationReport, type AssociationState } from './association-step.js';
import { readInputs } from './inputs.js';

const STORE_PATH = '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05';
const OLD_PATH = '/nix/store/1c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05';
const ID = '8dfe3659-4309-493a-8755-0123456789ab';
const inputs = (extra: Record<string, string> = {}) =>
  readInputs(
    (name) => ({ mode: 'association', 'association-name': 'nixos-web', targets: 'tag:Role=web', 'store-path': STORE_PATH, ...extra })[name] ?? '',
    { AWS_REGION: 'eu-central-1' },
  );
const OLD = { ...desiredSettings(inputs(), { name: 'NixOS-Deploy', version: '1' }), parameters: { storePath: [OLD_PATH] } };
const base = (extra: Partial<AssociationState> = {}, given = inputs()): AssociationState => ({ inputs: given, targets: 'tag:Role=web', ...extra });
const updated: Partial<AssociationState> = {
  document: { name: 'NixOS-Deploy', version: '1', change: 'unchanged' },
  plan: { kind: 'update', id: ID, version: '4', previous: OLD, changed: ['parameters'] },
  association: { id: ID, version: '5' },
};
const URL = `https://eu-central-1.console.aws.amazon.com/systems-manager/state-manager/${ID}/description?region=eu-central-1`;

describe('associationReport', () => {
  it.each<[string, AssociationState, unknown, { failure?: string; notice?: string; title: string; text?: string; outputs: Record<string, unknown> }]>([
    [
      'an error before the association was changed: no outputs, and a summary saying nothing was changed',
      base(),
      new Error('AccessDeniedException: not allowed'),
      { failure: 'AccessDeniedException: not allowed', title: 'NixOS deploy through a State Manager association failed', text: 'Nothing was changed: AccessDeniedException: not allowed', outputs: {} },
    ],
    [
      'cancelled before the change: in its own words, never the SDK\'s AbortError',
      base({ cancelled: 'The run was cancelled (SIGINT)' }),
      Object.assign(new Error('Request aborted'), { name: 'AbortError' }),
      {
        failure: 'The run was cancelled (SIGINT) before the association was changed: it was left as it was.',
        title: 'NixOS deploy through a State Manager association cancelled',
        outputs: {},
      },
    ],
    [
      'cancelled while the update was out: it may have been changed, and where to look',
      base({ ...updated, association: undefined, changing: true, cancelled: 'The run was cancelled (SIGINT)' }),
      Object.assign(new Error('Request aborted'), { name: 'AbortError' }),
      {
        failure: `The run was cancelled (SIGINT) while updating the association nixos-web: its answer never came, so it may have been changed; look in ${URL}`,
        title: 'NixOS deploy through a State Manager association cancelled',
        outputs: {},
      },
    ],
    [
      'not waited for: the association and its version',
      base(updated, inputs({ wait: 'false' })),
      undefined,
      {
        notice: 'The association nixos-web is at version 5; not waiting for its execution (wait: false).',
        title: 'NixOS association updated through State Manager (not waited for)',
        outputs: { 'association-id': ID, 'association-version': '5', 'console-url': URL, 'succeeded-count': 0, 'failed-count': 0 },
      },
    ],
    [
      'a cancelled wait with the association returned: the counts the execution gave, the revert',
      base({
        ...updated,
        ending: { kind: 'aborted', state: { executionId: 'e-1', status: 'InProgress', detailedStatus: 'InProgress', instances: [], counts: { InProgress: 2, Success: 1 } } },
        execution: { executionId: 'e-1', status: 'InProgress', detailedStatus: 'InProgress', instances: [], counts: { InProgress: 2, Success: 1 } },
        revert: { kind: 'reverted', storePath: OLD_PATH, version: '6' },
      }),
      undefined,
      {
        failure: `The run was cancelled while the association's execution ran. 1 of 3 instances had succeeded. Deploy failed; association returned to ${OLD_PATH}, version 6.`,
        title: 'NixOS deploy through a State Manager association cancelled',
        outputs: { 'association-id': ID, 'association-version': '5', 'execution-id': 'e-1', 'reverted-version': '6', status: 'InProgress', 'succeeded-count': 1, 'failed-count': 0 },
      },
    ],
  ])('%s', (_case, state, error, expected) => {
    const report = associationReport(state, error);
    expect(report.failure).toBe(expected.failure);
    expect(report.notice).toBe(expected.notice);
    expect(report.summary?.title).toBe(expected.title);
    if (expected.text) expect(report.summary?.text).toBe(expected.text);
    expect(report.outputs).toEqual(Object.keys(expected.outputs).length === 0 ? {} : expect.objectContaining(expected.outputs));
  });

  it('the summary names the association, the versions old -> new, the store paths and what became of it', () => {
    const report = associationReport(
      base({ ...updated, revert: { kind: 'reverted', storePath: OLD_PATH, version: '6' }, ending: { kind: 'failed', error: 'gave up' } }),
      undefined,
    );
    const facts = Object.fromEntries(report.summary!.facts!.map(([label, value]) => [label, value]));
    expect(facts).toMatchObject({
      Association: { text: `nixos-web (${ID})`, href: URL },
      Versions: '4 -> 5 -> 6 (updated, then reverted)',
      'After the failure': `returned to ${OLD_PATH}, version 6`,
      'Store path': `${OLD_PATH} -> ${STORE_PATH}`,
      Schedule: 'none (applied on change)',
    });
  });
});
