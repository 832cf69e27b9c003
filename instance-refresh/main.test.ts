import { describe, expect, it } from '@jest/globals';
import { report, type Outputs } from './main.js';
import type { DeployState } from './plan.js';

const URL = 'https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#AutoScalingGroupDetails:id=web;view=instanceRefresh';
const initial: DeployState = {
  region: 'eu-west-1',
  groupName: 'web',
  storePath: '/nix/store/x-web',
  groupFound: false,
  timeline: [],
  steps: [],
  progress: [],
};
const made = { groupFound: true, templateId: 'lt-1', sourceVersion: 3, targetVersion: 4 };
const started = { ...made, refreshId: 'r-1', status: 'Pending' };

describe('report: the outputs, failure and notice from what the deploy learned', () => {
  it.each<[string, Partial<DeployState>, unknown, Outputs, string | undefined, string | undefined]>([
    ['nothing learned, the first call failed', {}, new Error('no credentials'), {}, 'no credentials', undefined],
    ['the group found, refused by the checks', { groupFound: true, templateId: 'lt-1', sourceVersion: 3 }, new Error('Tag key "a/b". Nothing was changed.'), { 'console-url': URL }, 'Tag key "a/b". Nothing was changed.', undefined],
    [
      'a version made, the start refused',
      made,
      new Error('LimitExceeded'),
      { 'launch-template-id': 'lt-1', 'launch-template-version': 4, 'console-url': URL },
      'LimitExceeded',
      undefined,
    ],
    [
      'started, not waited for',
      { ...started, outcome: { kind: 'succeeded', message: 'Started instance refresh r-1.' } },
      undefined,
      { 'instance-refresh-id': 'r-1', 'launch-template-id': 'lt-1', 'launch-template-version': 4, status: 'Pending', 'console-url': URL },
      undefined,
      'Started instance refresh r-1.',
    ],
    [
      'rolled back: a failure, with the status and its reason',
      { ...started, status: 'RollbackSuccessful', statusReason: 'Health checks failed.', outcome: { kind: 'failed', message: 'Deploy failed, group rolled back to version 3' } },
      undefined,
      { 'instance-refresh-id': 'r-1', 'launch-template-id': 'lt-1', 'launch-template-version': 4, status: 'RollbackSuccessful', 'status-reason': 'Health checks failed.', 'console-url': URL },
      'Deploy failed, group rolled back to version 3',
      undefined,
    ],
    [
      'on-abort carried out after a timeout: the verdict before a later error',
      { ...started, status: 'InProgress', outcome: { kind: 'failed', message: 'did not end. Rolling back.' } },
      new Error('later'),
      { 'instance-refresh-id': 'r-1', 'launch-template-id': 'lt-1', 'launch-template-version': 4, status: 'InProgress', 'console-url': URL },
      'did not end. Rolling back.',
      undefined,
    ],
  ])('%s', (_case, state, error, outputs, failure, notice) => {
    const got = report({ ...initial, ...state }, error);
    expect(Object.fromEntries(Object.entries(got.outputs).filter(([, value]) => value !== undefined))).toEqual(outputs);
    expect(got.failure).toBe(failure);
    expect(got.notice).toBe(notice);
    expect(got.summary?.text).toBe(failure ?? notice ?? '');
  });
});
