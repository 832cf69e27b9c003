import { describe, expect, it } from '@jest/globals';
import type { StepResult } from '../test/harness/runner.js';
import { masked, renderReport } from './report.js';
import type { StepOutcome } from './steps.js';

describe('masked', () => {
  it.each([
    [['key abc:SECRET used'], ['abc:SECRET', 'SECRET'], ['key *** used']],
    [['SECRET twice SECRET'], ['SECRET'], ['*** twice ***']],
    [['nothing to hide'], [], ['nothing to hide']],
    [['an empty mask changes nothing'], [''], ['an empty mask changes nothing']],
  ])('%j with masks %j', (lines, masks, expected) => {
    expect(masked(lines, masks)).toEqual(expected);
  });
});

describe('renderReport', () => {
  const result = {
    exitCode: 1,
    durationMs: 1500,
    summary: '<h2>Deploy failed</h2>\n<table><tr><th>Status</th><td>Failed</td></tr></table>\n',
    annotations: [{ level: 'error', message: 'i-1 <failed>', properties: {} }],
    logLines: ['token t0ps3cret'],
    masks: ['t0ps3cret'],
  } as unknown as StepResult;
  const step: StepOutcome = { action: 'ssm-deploy', title: 'Deploy & check', job: 'deploy', expected: 'fails', result, problems: [] };

  it('holds each step\'s summary as is, its title, errors and log escaped and masked', () => {
    const page = renderReport({ startedAt: new Date(0), durationMs: 4200, steps: [step] });
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain(result.summary);
    expect(page).toContain('<h2>1. Deploy &amp; check</h2>');
    expect(page).toContain('<li>i-1 &lt;failed&gt;</li>');
    expect(page).toContain('token ***');
    expect(page).not.toContain('t0ps3cret');
    expect(page).toContain('Every step did what the demo expected.');
  });

  it('says what went wrong', () => {
    const page = renderReport({ startedAt: new Date(0), durationMs: 4200, steps: [{ ...step, problems: ['exited 0, not 1'] }], failure: 'ssm-deploy: exited 0, not 1' });
    expect(page).toContain('Something unexpected happened: ssm-deploy: exited 0, not 1');
    expect(page).toContain('Not as expected (fails): exited 0, not 1.');
  });
});
