/**
 * The upload-ami reusable workflow's job, its action steps run through the bundle as the runner runs them, with the
 * `with:` of .github/workflows/upload-ami.yml (each `${{ inputs.x }}` replaced by the workflow input, or its default),
 * against the sandbox: the first step checks the inputs with the action itself (validate-only) before the image is
 * built, so a bad input fails in seconds, having called nothing; a good one passes, and after the build (the fixture
 * image added to the real Nix store, `./image` a link to it, as `nix build --out-link image` leaves it) the upload
 * step makes the AMI from the store path, the workflow's own path: image-info read through the link, no image-name.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { Sandbox } from '../sandbox/server.js';
import { githubTrustPolicy } from '../sandbox/services/sts/sts.js';
import { Job, REPO_ROOT, type StepResult } from './harness/runner.js';

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
const WORKFLOW = parse(readFileSync(join(REPO_ROOT, '.github/workflows/upload-ami.yml'), 'utf8')) as {
  on: { workflow_call: { inputs: Record<string, { default?: unknown }> } };
  jobs: { image: { steps: Step[] } };
};
const STEPS = WORKFLOW.jobs.image.steps;
const CHECK = STEPS[0];
const BUILD = STEPS.findIndex((step) => step.run?.includes('nix build'));
const UPLOAD = STEPS.find((step) => step.id === 'ami')!;

/** The step's inputs as the runner gives them, for these workflow inputs (the rest at their defaults). */
function stepInputs(step: Step, given: Record<string, string>): Record<string, string> {
  const inputs = WORKFLOW.on.workflow_call.inputs;
  const value = (name: string) => given[name] ?? (inputs[name]?.default === undefined ? '' : String(inputs[name].default));
  return Object.fromEntries(
    Object.entries(step.with ?? {}).map(([key, raw]) => [key, String(raw).replace(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (_m, name: string) => value(name))]),
  );
}

const sandbox = new Sandbox();
beforeAll(() => sandbox.start());
afterAll(() => sandbox.stop());
beforeEach(() => {
  sandbox.reset();
  // Wall speed, short delays: nothing here races the machine's speed (see test/upload-ami.e2e.test.ts).
  sandbox.ebs.snapshots.completionDelayMs = 200;
  sandbox.images.registerDelayMs = 200;
  sandbox.images.copyDelayMs = 400;
});

const GOOD = { installable: '.#nixosConfigurations.web.config.system.build.amazonImage', 'image-info': 'image/nix-support/image-info.json', 'aws-region': 'eu-central-1' };
const errors = (result: StepResult) => result.annotations.filter((a) => a.level === 'error').map((a) => a.message);

async function inJob<T>(fn: (job: Job) => Promise<T>): Promise<T> {
  const job = new Job({ env: sandbox.env() });
  try {
    return await fn(job);
  } finally {
    await job.cleanup();
  }
}

describe('the upload-ami workflow', () => {
  it('checks the inputs with the action before the build', () => {
    expect(CHECK).toMatchObject({ uses: '$/upload-ami', with: { 'validate-only': true } });
    expect(BUILD).toBeGreaterThan(0);
    expect(STEPS.indexOf(UPLOAD)).toBeGreaterThan(BUILD);
  });

  it('passes good inputs before the build, calling nothing; after the build the upload makes the AMI', async () => {
    await inJob(async (job) => {
      const check = await job.step('upload-ami', { inputs: stepInputs(CHECK, { ...GOOD, 'copy-to-regions': 'eu-west-1' }) });
      expect(errors(check)).toEqual([]);
      expect(check.exitCode).toBe(0);
      expect(check.stdout).toContain('validate-only: the inputs are valid. Nothing was read of the image and nothing was called.');
      expect(check.outputs).toEqual({});
      expect(sandbox.calls.all()).toEqual([]);

      // What `nix build --out-link image` leaves in the workspace: a link to the image's store path.
      const storePath = execFileSync('nix-store', ['--add', join(REPO_ROOT, 'upload-ami/fixtures/image')], { encoding: 'utf8', timeout: 120_000 }).trim();
      symlinkSync(storePath, join(job.workspace, 'image'));
      const upload = await job.step('upload-ami', { inputs: stepInputs(UPLOAD, { ...GOOD, 'copy-to-regions': 'eu-west-1' }), timeoutMs: 120_000 });
      expect(errors(upload)).toEqual([]);
      expect(upload.exitCode).toBe(0);
      expect(upload.outputs['image-id']).toMatch(/^ami-/);
      // What the example pipeline rolls the image out on.
      expect(upload.outputs['new-image']).toBe('true');
      expect(Object.keys(JSON.parse(upload.outputs.images) as object).sort()).toEqual(['eu-central-1', 'eu-west-1']);
      // Named and tagged by the store path (the content), not by the link's path in the workspace.
      const image = sandbox.images.find('eu-central-1', upload.outputs['image-id']);
      expect(image.name).toContain(storePath.slice('/nix/store/'.length, '/nix/store/'.length + 32));
      expect(image.tags.get('NixStorePath')).toBe(storePath);
    });
  }, 180_000);

  it('passes a raw image given as image + boot-mode + architecture before it exists', async () => {
    const inputs = { installable: GOOD.installable, image: 'image/disk.raw', 'boot-mode': 'uefi', architecture: 'arm64', 'tpm-support': 'false' };
    const check = await inJob((job) => job.step('upload-ami', { inputs: stepInputs(CHECK, inputs) }));
    expect(errors(check)).toEqual([]);
    expect(check.exitCode).toBe(0);
    expect(sandbox.calls.all()).toEqual([]);
  });

  it('does not call STS for role-to-assume before the build', async () => {
    const roleArn = sandbox.sts.addRole({ name: 'image-upload', trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/*' }) });
    const check = await inJob((job) => job.step('upload-ami', { inputs: stepInputs(CHECK, { ...GOOD, 'role-to-assume': roleArn }) }));
    expect(check.exitCode).toBe(0);
    expect(sandbox.calls.all()).toEqual([]);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['copy-to-regions not a region', { 'copy-to-regions': 'eu-west-1,Frankfurt' }, /^Input 'copy-to-regions' .*an AWS region such as eu-central-1, got "Frankfurt"$/],
    ["copy-to-regions naming the upload's own region", { 'copy-to-regions': 'eu-central-1' }, /^Input 'copy-to-regions' must not name the upload's own region eu-central-1$/],
    ['an image-name EC2 refuses', { 'image-name': 'nixos web!' }, /^Input 'image-name' .*an EC2 image name/],
    ['an image-name too short', { 'image-name': 'ab' }, /^Input 'image-name' .*an EC2 image name/],
    ['an aws: tag', { tags: 'aws:owner=me' }, /^Input 'tags' /],
    ['deprecate-after-days of 0', { 'deprecate-after-days': '0' }, /^Input 'deprecate-after-days' /],
    ['a volume type EBS has not', { 'volume-type': 'gp4' }, /^Input 'volume-type' /],
    ['image-info and image together', { image: 'image/disk.raw' }, /^Input 'image' cannot be given with 'image-info'/],
    ['boot-mode beside image-info', { 'boot-mode': 'uefi' }, /^Input 'boot-mode' cannot be given with 'image-info'/],
    ['a malformed role', { 'role-to-assume': 'arn:aws:iam::1:role/x' }, /^Input 'role-to-assume' /],
  ])('refuses %s before the build, calling nothing', async (_case, bad, message) => {
    const check = await inJob((job) => job.step('upload-ami', { inputs: stepInputs(CHECK, { ...GOOD, ...bad }) }));
    expect(check.exitCode).not.toBe(0);
    expect(errors(check)).toEqual([expect.stringMatching(message)]);
    expect(check.summary).toContain('upload-ami: inputs rejected');
    expect(sandbox.calls.all()).toEqual([]);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['tpm-support on an arm64 image', { image: 'image/disk.raw', 'boot-mode': 'uefi', architecture: 'arm64', 'tpm-support': 'true' }, /^Input 'tpm-support' cannot be true here/],
    ['arm64 with legacy BIOS', { image: 'image/disk.raw', 'boot-mode': 'legacy-bios', architecture: 'arm64' }, /^Input 'image' describes an image EC2 cannot register/],
    ['neither image-info nor image', {}, /^Input 'image-info' or 'image' is required/],
  ])('refuses %s before the image exists, calling nothing', async (_case, inputs, message) => {
    const check = await inJob((job) => job.step('upload-ami', { inputs: stepInputs(CHECK, { installable: GOOD.installable, ...inputs }) }));
    expect(check.exitCode).not.toBe(0);
    expect(errors(check)).toEqual([expect.stringMatching(message)]);
    expect(sandbox.calls.all()).toEqual([]);
  });

  it('a validate-only that is not a boolean is refused with the rest, calling nothing', async () => {
    const check = await inJob((job) => job.step('upload-ami', { inputs: { ...stepInputs(CHECK, GOOD), 'validate-only': 'yes' } }));
    expect(check.exitCode).not.toBe(0);
    expect(errors(check).join('\n')).toMatch(/Input 'validate-only' /);
    expect(sandbox.calls.all()).toEqual([]);
  });

  it('an image-info that exists already is checked in full (a system EC2 does not boot)', async () => {
    const check = await inJob(async (job) => {
      // The job's workspace exists from its first step on.
      await job.step('upload-ami', { inputs: stepInputs(CHECK, GOOD) });
      cpSync(join(REPO_ROOT, 'upload-ami/fixtures/image'), join(job.workspace, 'image'), { recursive: true });
      const info = join(job.workspace, 'image/nix-support/image-info.json');
      const written = JSON.parse(readFileSync(info, 'utf8')) as Record<string, unknown>;
      writeFileSync(info, JSON.stringify({ ...written, system: 'riscv64-linux' }));
      return job.step('upload-ami', { inputs: stepInputs(CHECK, GOOD) });
    });
    expect(errors(check)).toEqual([expect.stringMatching(/^Input 'image-info' has system "riscv64-linux"/)]);
    expect(sandbox.calls.all()).toEqual([]);
  });
});
