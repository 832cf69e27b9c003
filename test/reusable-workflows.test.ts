/**
 * The contract of the reusable workflows in .github/workflows: each mirrors its action (every input, with the same
 * name, default and requiredness, passed through unchanged; every output), runs the action of its own commit
 * (`$/<action>`), asks for no more than `contents: read` and `id-token: write`, and each deploy job runs under the
 * caller's environment, one at a time per target, with a timeout. No workflow pastes an expression into a script.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { readActionMetadata, REPO_ROOT } from './harness/runner.js';

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  environment?: unknown;
  concurrency?: { group?: string; 'cancel-in-progress'?: unknown };
  'timeout-minutes'?: unknown;
  permissions?: unknown;
  outputs?: Record<string, string>;
  steps?: Step[];
}
interface InputSpec {
  type: string;
  required?: boolean;
  default?: unknown;
}
interface Workflow {
  on: { workflow_call?: { inputs?: Record<string, InputSpec>; secrets?: Record<string, unknown>; outputs?: Record<string, { value: string }> } };
  permissions?: unknown;
  jobs: Record<string, Job>;
}

const readWorkflow = (path: string) => parse(readFileSync(join(REPO_ROOT, path), 'utf8')) as Workflow;
const outputsOf = (action: string) =>
  Object.keys((parse(readFileSync(join(REPO_ROOT, action, 'action.yml'), 'utf8')) as { outputs: Record<string, unknown> }).outputs);

interface Case {
  action: string;
  /** Inputs the workflow has beyond the action's. */
  extra: string[];
  /** Action inputs that are the workflow's secrets instead (a secret is never a plain input). */
  secrets: string[];
  /** The input naming where a deploy goes, part of the concurrency group; none for the build. */
  targets?: string[];
}

const CASES: Case[] = [
  { action: 'build-and-push', extra: ['job-timeout-minutes', 'nix-installer'], secrets: ['signing-key'] },
  { action: 'instance-refresh', extra: ['environment', 'job-timeout-minutes'], secrets: [], targets: ['environment', 'aws-region', 'auto-scaling-group-name'] },
  { action: 'ssm-deploy', extra: ['environment', 'job-timeout-minutes'], secrets: [], targets: ['environment', 'aws-region', 'targets', 'instance-ids'] },
];

/** The one step that runs the action, and its job. */
function actionStep(workflow: Workflow, action: string): { jobId: string; job: Job; step: Step } {
  const found = Object.entries(workflow.jobs).flatMap(([jobId, job]) =>
    (job.steps ?? []).filter((step) => step.uses?.includes(action)).map((step) => ({ jobId, job, step })),
  );
  expect(found).toHaveLength(1);
  return found[0];
}

describe.each(CASES)('the $action reusable workflow', ({ action, extra, secrets, targets }) => {
  const workflow = readWorkflow(`.github/workflows/${action}.yml`);
  const call = workflow.on.workflow_call!;
  const actionInputs = readActionMetadata(action).inputs ?? {};

  it('is only a reusable workflow', () => {
    expect(Object.keys(workflow.on)).toEqual(['workflow_call']);
  });

  it("has each of the action's inputs, with the same name, default and requiredness, and nothing else", () => {
    const inputs = call.inputs ?? {};
    expect(Object.keys(inputs).sort()).toEqual([...extra, ...Object.keys(actionInputs).filter((name) => !secrets.includes(name))].sort());
    for (const [name, spec] of Object.entries(actionInputs)) {
      if (secrets.includes(name)) continue;
      const boolean = spec?.default === 'true' || spec?.default === 'false';
      expect({ name, type: inputs[name].type, required: inputs[name].required ?? false, default: inputs[name].default }).toEqual({
        name,
        type: boolean ? 'boolean' : 'string',
        required: spec?.required ?? false,
        default: boolean ? spec?.default === 'true' : spec?.default,
      });
    }
    expect(Object.keys(call.secrets ?? {})).toEqual(secrets);
  });

  it('runs the action of its own commit, passing every input through unchanged', () => {
    const { step } = actionStep(workflow, action);
    expect(step.uses).toBe(`$/${action}`);
    expect(step.with).toEqual(
      Object.fromEntries(Object.keys(actionInputs).map((name) => [name, `\${{ ${secrets.includes(name) ? 'secrets' : 'inputs'}.${name} }}`])),
    );
  });

  it("has each of the action's outputs, taken from the step", () => {
    const { jobId, job, step } = actionStep(workflow, action);
    for (const name of outputsOf(action)) {
      expect(call.outputs?.[name]?.value).toBe(`\${{ jobs.${jobId}.outputs.${name} }}`);
      expect(job.outputs?.[name]).toBe(`\${{ steps.${step.id}.outputs.${name} }}`);
    }
  });

  it('asks for contents: read and id-token: write, and no job asks for more', () => {
    expect(workflow.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    for (const job of Object.values(workflow.jobs)) expect(job.permissions).toBeUndefined();
  });

  it('gives every job a timeout', () => {
    for (const job of Object.values(workflow.jobs)) expect(job['timeout-minutes']).toBe('${{ inputs.job-timeout-minutes }}');
  });

  if (targets) {
    it("runs the deploy under the caller's environment, one at a time per target, never cancelling one", () => {
      for (const job of Object.values(workflow.jobs)) {
        expect(job.environment).toBe('${{ inputs.environment }}');
        expect(job.concurrency?.['cancel-in-progress']).toBe(false);
        for (const input of targets) expect(job.concurrency?.group).toContain(`\${{ inputs.${input} }}`);
      }
    });
  }
});

/** The `run:` scripts of a workflow that contain an expression (which the runner would paste into the script). */
function interpolatedScripts(workflow: Workflow): string[] {
  return Object.values(workflow.jobs)
    .flatMap((job) => job.steps ?? [])
    .map((step) => step.run)
    .filter((run): run is string => run !== undefined && run.includes('${{'));
}

const WORKFLOWS = ['.github/workflows', 'examples'].flatMap((dir) =>
  readdirSync(join(REPO_ROOT, dir))
    .filter((file) => /\.ya?ml$/.test(file))
    .map((file) => `${dir}/${file}`),
);

describe('no workflow pastes an expression into a script', () => {
  it.each(WORKFLOWS)('%s', (path) => {
    expect(interpolatedScripts(readWorkflow(path))).toEqual([]);
  });

  it('finds one that does', () => {
    const bad = parse('on: push\njobs:\n  x:\n    steps:\n      - env: { A: "${{ inputs.a }}" }\n        run: echo "$A"\n      - run: echo "${{ inputs.a }}"\n');
    expect(interpolatedScripts(bad as Workflow)).toEqual(['echo "${{ inputs.a }}"']);
  });

  it('covers the three reusable workflows and the example', () => {
    expect(WORKFLOWS).toEqual(expect.arrayContaining([...CASES.map((c) => `.github/workflows/${c.action}.yml`), 'examples/pipeline.yml']));
  });
});
