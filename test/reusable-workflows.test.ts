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
import { codeBlocks, readDoc, USER_DOCS } from './markdown.js';

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
  /** Action inputs the workflow sets itself, in a step of its own before anything else, instead of taking them. */
  internal?: Record<string, unknown>;
}

const CASES: Case[] = [
  { action: 'build-and-push', extra: ['job-timeout-minutes', 'nix-installer'], secrets: ['signing-key'] },
  { action: 'instance-refresh', extra: ['environment', 'job-timeout-minutes'], secrets: [], targets: ['environment', 'aws-region', 'auto-scaling-group-name'] },
  { action: 'ssm-deploy', extra: ['environment', 'job-timeout-minutes'], secrets: [], targets: ['environment', 'aws-region', 'targets', 'instance-ids'] },
  { action: 'upload-ami', extra: ['job-timeout-minutes', 'nix-installer', 'installable'], secrets: [], internal: { 'validate-only': true } },
];

/** The one step that runs the action (a check with `internal` inputs aside), and its job. */
function actionStep(workflow: Workflow, action: string, internal: Record<string, unknown> = {}): { jobId: string; job: Job; step: Step } {
  const found = Object.entries(workflow.jobs).flatMap(([jobId, job]) =>
    (job.steps ?? [])
      .filter((step) => step.uses?.includes(action) && !Object.keys(internal).some((name) => step.with?.[name] !== undefined))
      .map((step) => ({ jobId, job, step })),
  );
  expect(found).toHaveLength(1);
  return found[0];
}

describe.each(CASES)('the $action reusable workflow', ({ action, extra, secrets, targets, internal }) => {
  const workflow = readWorkflow(`.github/workflows/${action}.yml`);
  const call = workflow.on.workflow_call!;
  const actionInputs = readActionMetadata(action).inputs ?? {};

  it('is only a reusable workflow', () => {
    expect(Object.keys(workflow.on)).toEqual(['workflow_call']);
  });

  it("has each of the action's inputs, with the same name, default and requiredness, and nothing else", () => {
    const inputs = call.inputs ?? {};
    const taken = Object.keys(actionInputs).filter((name) => !secrets.includes(name) && !(name in (internal ?? {})));
    expect(Object.keys(inputs).sort()).toEqual([...extra, ...taken].sort());
    for (const [name, spec] of Object.entries(actionInputs)) {
      if (!taken.includes(name)) continue;
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

  const passedThrough = Object.fromEntries(
    Object.keys(actionInputs)
      .filter((name) => !(name in (internal ?? {})))
      .map((name) => [name, `\${{ ${secrets.includes(name) ? 'secrets' : 'inputs'}.${name} }}`]),
  );

  it('runs the action of its own commit, passing every input through unchanged', () => {
    const { step } = actionStep(workflow, action, internal);
    expect(step.uses).toBe(`$/${action}`);
    expect(step.with).toEqual(passedThrough);
  });

  if (internal) {
    it('first checks the inputs with the action itself, with the same inputs, before any other step', () => {
      const { job, step } = actionStep(workflow, action, internal);
      const [first, ...rest] = job.steps ?? [];
      expect(first).toMatchObject({ uses: `$/${action}`, with: { ...passedThrough, ...internal } });
      expect(Object.keys(first.with ?? {}).sort()).toEqual(Object.keys({ ...passedThrough, ...internal }).sort());
      expect(rest.filter((other) => other.uses === `$/${action}`)).toEqual([step]);
    });
  }

  it("has each of the action's outputs, taken from the step", () => {
    const { jobId, job, step } = actionStep(workflow, action, internal);
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
      const { step } = actionStep(workflow, action, internal);
      // An action with a console-url output links the deployments page to it: the environment's url.
      const environment = outputsOf(action).includes('console-url')
        ? { name: '${{ inputs.environment }}', url: `\${{ steps.${step.id}.outputs.console-url }}` }
        : '${{ inputs.environment }}';
      for (const job of Object.values(workflow.jobs)) {
        expect(job.environment).toEqual(environment);
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

  it('covers the reusable workflows and the example', () => {
    expect(WORKFLOWS).toEqual(expect.arrayContaining([...CASES.map((c) => `.github/workflows/${c.action}.yml`), 'examples/pipeline.yml']));
  });
});

/**
 * Where a workflow, the example or a documentation snippet runs code of another repository (`uses:`), and why it is
 * allowed: a full commit SHA with a `# vX.Y.Z` comment (a tag or branch can be moved to other code, and
 * cachix/install-nix-action runs in the job that reads the signing key). This project's own actions and workflows are
 * exempt: `$/...` is the workflow's own commit, `./...` the caller's checkout, and `<org>/nixos-aws/...@v1` (or
 * `octo-org/nixos-aws/...` in the example) is the release the user picks (a release tag, or a commit SHA: no SHA of a
 * future release can be written here). A branch is never accepted, not even for this project.
 */
function unpinned(uses: Array<{ value: string; comment?: string }>): string[] {
  const own = /^(?:<org>|octo-org)\/nixos-aws\/[\w./-]+@(?:v\d+(?:\.\d+\.\d+)?|[0-9a-f]{40})$/;
  const pinned = /^[\w.-]+\/[\w.-]+(?:\/[\w./-]+)?@[0-9a-f]{40}$/;
  return uses
    .filter(({ value, comment }) => {
      if (value.startsWith('$/') || value.startsWith('./') || own.test(value)) return false;
      if (value.startsWith('docker://')) return !/@sha256:[0-9a-f]{64}$/.test(value);
      return !(pinned.test(value) && /^v\d+\.\d+\.\d+$/.test(comment ?? ''));
    })
    .map(({ value, comment }) => (comment ? `${value} # ${comment}` : value));
}

/** Every `uses:` line of a text (a workflow file or a snippet), with its trailing comment. */
function usesLines(text: string): Array<{ value: string; comment?: string }> {
  return [...text.matchAll(/^[ \t]*(?:-[ \t]+)?uses:[ \t]*["']?([^\s"'#]+)["']?(?:[ \t]+#[ \t]*(\S+))?/gm)].map((m) => ({
    value: m[1],
    comment: m[2],
  }));
}

/** The code blocks of the documentation (the READMEs, docs/, CONTRIBUTING.md), each named `file:line`. */
const SNIPPETS = USER_DOCS.flatMap((file) => codeBlocks(readDoc(file)).map((block) => ({ ...block, line: `${file}:${block.line}` })));

describe('code of other repositories is pinned by commit', () => {
  it.each(WORKFLOWS)('%s', (path) => {
    const text = readFileSync(join(REPO_ROOT, path), 'utf8');
    // The line scan sees every `uses:` the YAML has (jobs calling reusable workflows, and steps).
    const parsed = Object.values(readWorkflow(path).jobs).flatMap((job) => [
      ...((job as { uses?: string }).uses ? [(job as { uses: string }).uses] : []),
      ...(job.steps ?? []).flatMap((step) => (step.uses ? [step.uses] : [])),
    ]);
    expect(usesLines(text).map((u) => u.value)).toEqual(parsed);
    expect(unpinned(usesLines(text))).toEqual([]);
  });

  it('in the documentation snippets', () => {
    const uses = SNIPPETS.flatMap((block) => usesLines(block.code));
    expect(uses.length).toBeGreaterThan(5);
    expect(unpinned(uses)).toEqual([]);
  });

  it.each<[string, string[]]>([
    ['uses: actions/checkout@v4', ['actions/checkout@v4']],
    ['- uses: DeterminateSystems/nix-installer-action@main   # Nix', ['DeterminateSystems/nix-installer-action@main # Nix']],
    ['- uses: cachix/install-nix-action@630ae543ea3a38a9a4166f03376c02c50f408342', ['cachix/install-nix-action@630ae543ea3a38a9a4166f03376c02c50f408342']],
    ['  uses: actions/checkout@08c6903 # v5.0.0', ['actions/checkout@08c6903 # v5.0.0']],
    ['uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # main', ['actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # main']],
    ['uses: "actions/checkout@v5"', ['actions/checkout@v5']],
    ['uses: octo-org/nixos-aws/.github/workflows/ssm-deploy.yml@main', ['octo-org/nixos-aws/.github/workflows/ssm-deploy.yml@main']],
    ['uses: docker://alpine:3.20', ['docker://alpine:3.20']],
    ['uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0', []],
    ['uses: github/codeql-action/init@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v3.29.5', []],
    ['uses: $/ssm-deploy', []],
    ['uses: ./local-action', []],
    ['uses: <org>/nixos-aws/ssm-deploy@v1', []],
    ['uses: octo-org/nixos-aws/.github/workflows/ssm-deploy.yml@v1.2.3', []],
  ])('%s -> unpinned %j', (line, expected) => {
    expect(unpinned(usesLines(line))).toEqual(expected);
  });
});

describe('the documentation snippets', () => {
  const yamlSnippets = SNIPPETS.filter((block) => block.lang === 'yaml');

  it('are valid YAML with jobs, and paste no expression into a script', () => {
    expect(yamlSnippets.length).toBeGreaterThan(3);
    for (const block of yamlSnippets) {
      const workflow = parse(block.code) as Workflow;
      expect({ line: block.line, jobs: typeof workflow.jobs }).toEqual({ line: block.line, jobs: 'object' });
      expect({ line: block.line, interpolated: interpolatedScripts(workflow) }).toEqual({ line: block.line, interpolated: [] });
    }
  });

  it('read the signing key from Parameter Store, never from a GitHub secret', () => {
    const texts = [...SNIPPETS.map((block) => block.code), readFileSync(join(REPO_ROOT, 'examples/pipeline.yml'), 'utf8')];
    expect(texts.flatMap((text) => text.match(/^\s*signing-key:.*$/gm) ?? [])).toEqual([]);
    expect(texts.filter((text) => /signing-key-parameter:/.test(text)).length).toBeGreaterThanOrEqual(2);
  });
});

describe('the example pipeline', () => {
  const example = readWorkflow('examples/pipeline.yml');

  it('grants an OIDC token only to the jobs that assume a role', () => {
    expect(example.permissions).toEqual({ contents: 'read' });
    const tokens = Object.fromEntries(
      Object.entries(example.jobs).map(([id, job]) => [id, (job.permissions as Record<string, string> | undefined)?.['id-token'] ?? 'none']),
    );
    expect(tokens).toEqual({
      build: 'write',
      'staging-web': 'write',
      'staging-monitoring': 'write',
      'smoke-test': 'none',
      'production-web': 'write',
      'production-monitoring': 'write',
      image: 'write',
    });
    expect(example.jobs['smoke-test'].permissions).toEqual({});
  });

  it("gates each refresh on the instances' own readiness (a launch lifecycle hook)", () => {
    const refreshes = Object.values(example.jobs)
      .map((job) => (job as { with?: Record<string, unknown> }).with)
      .filter((inputs) => inputs?.['auto-scaling-group-name'] !== undefined)
      .map((inputs) => [inputs?.['auto-scaling-group-name'], inputs?.readiness]);
    expect(refreshes).toEqual([
      ['web-staging', 'lifecycle-hook'],
      ['web-production', 'lifecycle-hook'],
    ]);
  });

  it('gives each environment its own deploy document', () => {
    const documents = Object.values(example.jobs)
      .map((job) => (job as { with?: Record<string, unknown> }).with)
      .filter((inputs) => inputs?.targets !== undefined)
      .map((inputs) => [inputs?.environment, inputs?.['document-name']]);
    expect(documents).toEqual([
      ['staging', 'NixOS-Deploy-staging'],
      ['production', 'NixOS-Deploy-production'],
    ]);
  });
});
