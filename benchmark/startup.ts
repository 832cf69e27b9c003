/**
 * `npx tsx benchmark/startup.ts [runs] [folder...]`: what loading each bundle costs, measured
 * side by side in one run, every bundle spawned as the runner spawns it (test/harness/runner.ts: the Node of
 * `runs.using`, a clean environment, the file commands), the runs interleaved so that a busy machine slows every
 * side alike. Medians of `runs` runs (default 20) of:
 * - bare Node: a step whose script is empty;
 * - each action's start-up: the bundle run with no inputs, to its input error (everything it loads before it reads
 *   an input; nothing is called), and its size (the JavaScript it loads, licences left out);
 * - assume-role's full OIDC path (ID token request, AssumeRoleWithWebIdentity, exports) against the sandbox, and the
 *   same with each folder given (an action's `action.yml` and its bundle, taking `role-to-assume` and `aws-region`):
 *   a checkout of aws-actions/configure-aws-credentials (which also calls GetCallerIdentity), or another build of
 *   assume-role; and the ratio of assume-role's to each.
 * Prints a Markdown table; asserts nothing but that each run did what it was meant to.
 */
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Sandbox } from '../sandbox/server.js';
import { githubTrustPolicy } from '../sandbox/services/sts/sts.js';
import { actionNode, readActionMetadata, REPO_ROOT, runAction, type StepResult } from '../test/harness/runner.js';
import { median } from './stats.js';

const runs = Number(process.argv[2] ?? 20);
const references = process.argv.slice(3).map((folder) => resolve(folder));
/** A folder's label: its own name, e.g. `configure-aws-credentials` for a checkout named so. */
const labelOf = (folder: string) => `${folder.split('/').pop()}, full OIDC path`;

/** Action folder -> entry point run: the post step of build-and-push runs at the end of every job that uses it. */
const ACTIONS: Array<{ label: string; action: string; post?: boolean }> = [
  { label: 'assume-role', action: 'assume-role' },
  { label: 'build-and-push', action: 'build-and-push' },
  { label: 'build-and-push (post)', action: 'build-and-push', post: true },
  { label: 'instance-refresh', action: 'instance-refresh' },
  { label: 'ssm-deploy', action: 'ssm-deploy' },
];

const bare = await mkdtemp(join(tmpdir(), 'startup-bench-'));
await writeFile(join(bare, 'action.yml'), 'name: bare\ndescription: an empty step\nruns:\n  using: node24\n  main: index.mjs\n');
await writeFile(join(bare, 'index.mjs'), '');

const sandbox = await new Sandbox().start();
const roleArn = sandbox.sts.addRole({ name: 'bench', trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/*' }) });
// No static keys: both actions must take the OIDC path.
const env = { ...sandbox.env(), AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' };

function expectExit(result: StepResult, code: number, what: string): number {
  if (result.exitCode !== code) throw new Error(`${what} exited ${result.exitCode}, not ${code}:\n${result.stdout}${result.stderr}`);
  return result.durationMs;
}

const sides: Array<{ label: string; measure: () => Promise<number> }> = [
  { label: 'bare', measure: async () => expectExit(await runAction(bare), 0, 'bare node') },
  ...ACTIONS.map(({ label, action, post }) => ({
    label,
    measure: async () => {
      const result = await runAction(action, { post, env: { AWS_REGION: 'us-east-1' } });
      // The post step with no state has nothing to clean up; the main steps stop at their missing required input.
      if (post) return expectExit(result, 0, label);
      if (!result.annotations.some((a) => a.level === 'error' && /Input '[a-z-]+' is required/.test(a.message))) {
        throw new Error(`${label} did not stop at its input error:\n${result.stdout}`);
      }
      return expectExit(result, 1, label);
    },
  })),
  {
    label: 'assume-role, full OIDC path',
    measure: async () => expectExit(await runAction('assume-role', { env, inputs: { 'role-to-assume': roleArn } }), 0, 'assume-role'),
  },
  ...references.map((folder) => ({
    label: labelOf(folder),
    measure: async () =>
      expectExit(await runAction(folder, { env, inputs: { 'role-to-assume': roleArn, 'aws-region': 'us-east-1' } }), 0, folder),
  })),
];

const times = new Map<string, number[]>(sides.map((side) => [side.label, []]));
try {
  for (let run = 0; run < runs; run += 1) {
    // Rotated, so that no side always follows the same one (the page cache and CPU frequency remember).
    for (let i = 0; i < sides.length; i += 1) {
      const side = sides[(i + run) % sides.length];
      times.get(side.label)!.push(await side.measure());
    }
  }
} finally {
  await sandbox.stop();
  await rm(bare, { recursive: true, force: true });
}

/** Bytes of JavaScript in the folder of the entry point (chunks included, licences and package.json not). */
async function javascriptBytes(folder: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    if (entry.isFile() && /\.(m?js|cjs)$/.test(entry.name)) total += (await stat(join(folder, entry.name))).size;
  }
  return total;
}

const m = (label: string) => median(times.get(label)!);
const base = m('bare');
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
console.log(`Medians of ${runs} runs on ${actionNode('node24')} (${process.platform}-${process.arch}); bare Node: ${base.toFixed(0)} ms.\n`);
console.log('| Bundle | Size | Run to its input error | Start-up over bare Node |');
console.log('| --- | --- | --- | --- |');
for (const { label, action, post } of ACTIONS) {
  const metadata = readActionMetadata(action);
  const entry = resolve(REPO_ROOT, action, post ? metadata.runs.post! : metadata.runs.main);
  const folder = join(entry, '..');
  console.log(`| ${label} | ${mb(await javascriptBytes(folder))} | ${m(label).toFixed(0)} ms | ${(m(label) - base).toFixed(0)} ms |`);
}
const ours = m('assume-role, full OIDC path');
console.log(`\nassume-role, full OIDC path: ${ours.toFixed(0)} ms (${(ours - base).toFixed(0)} ms over bare Node)`);
for (const folder of references) {
  const theirs = m(labelOf(folder));
  const size = await javascriptBytes(join(folder, 'dist'));
  console.log(`${labelOf(folder)}: ${theirs.toFixed(0)} ms (${(theirs - base).toFixed(0)} ms over bare Node; ${mb(size)})`);
  console.log(`  assume-role's ratio to it: ${(ours / theirs).toFixed(2)}x the wall time, ${((ours - base) / (theirs - base)).toFixed(2)}x over bare Node`);
}
