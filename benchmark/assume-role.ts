/**
 * `npx tsx benchmark/assume-role.ts [runs]`: the median wall time of the full OIDC path of the assume-role bundle
 * (Node start, ID token request, AssumeRoleWithWebIdentity, exports) against the sandbox, spawned as the runner
 * spawns it, next to a bare `node -e 0`, and the bundle's size. Prints figures; asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox } from '../sandbox/server.js';
import { githubTrustPolicy } from '../sandbox/services/sts/sts.js';
import { actionNode, runAction, REPO_ROOT } from '../test/harness/runner.js';
import { median, ms } from './stats.js';

const runs = Number(process.argv[2] ?? 30);
const sandbox = await new Sandbox().start();
const roleArn = sandbox.sts.addRole({ name: 'bench', trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/*' }) });

// The Node that runs the bundle (runs.using), so that the two figures compare like with like.
const node = actionNode('node24');
const bare: number[] = [];
const action: number[] = [];
for (let i = 0; i < runs; i += 1) {
  const started = process.hrtime.bigint();
  spawnSync(node, ['-e', '0']);
  bare.push(Number(process.hrtime.bigint() - started) / 1e6);

  const result = await runAction('assume-role', { env: sandbox.env(), inputs: { 'role-to-assume': roleArn } });
  if (result.exitCode !== 0) throw new Error(`run ${i + 1} failed:\n${result.stdout}${result.stderr}`);
  action.push(result.durationMs);
}
await sandbox.stop();

const bundle = statSync(join(REPO_ROOT, 'dist/assume-role/index.js')).size;
console.log(`assume-role, ${runs} runs on ${node}`);
console.log(`  full OIDC path (median): ${ms(median(action))}`);
console.log(`  node -e 0 (median):      ${ms(median(bare))}`);
console.log(`  bundle size:             ${(bundle / 1e6).toFixed(2)} MB`);
