/**
 * `npx tsx benchmark/ssm-association.ts [runs] [instances]`: the ssm-deploy bundle in association mode, spawned as
 * the runner spawns it, creating an association over 1000 tagged instances in the sandbox (fast clock) and waiting
 * for its execution, with a 1-second poll interval. Prints, as medians of the runs: AWS calls per poll while the
 * execution runs and of the look that sees it end (goal: at most ceil(N/50) + 3), the delay between the execution ending and the action seeing it, in real time (goal: within one
 * poll interval), and the step's duration. Asserts nothing.
 */
import { Sandbox } from '../sandbox/server.js';
import { runAction } from '../test/harness/runner.js';
import { median } from './stats.js';

const runs = Number(process.argv[2] ?? 7);
const instances = Number(process.argv[3] ?? 1000);
const SPEED = 20;
const POLL_SECONDS = 1;
const PAGE = 50;

const sandbox = await new Sandbox({ speed: SPEED }).start();
/** The most calls one poll made while the execution ran, and the calls of the look that saw it end, per run. */
const perPoll: number[] = [];
const lastLook: number[] = [];
const delays: number[] = [];
const durations: number[] = [];
try {
  for (let run = 0; run < runs; run += 1) {
    sandbox.reset();
    // Shifts when the execution ends against the poll schedule from run to run, across one whole interval.
    const phase = (((run * 7.3) % 20) / 20) * POLL_SECONDS * SPEED;
    for (let i = 1; i <= instances; i += 1) {
      sandbox.ssm.addInstance({
        instanceId: `i-${i.toString(16).padStart(17, '0')}`,
        tags: { Role: 'prometheus' },
        // Spread over 5-25 s so that completions do not all land on one poll.
        outcome: { status: 'Success', durationSeconds: 5 + (i % 21) + phase },
      });
    }
    const result = await runAction('ssm-deploy', {
      env: sandbox.env(),
      inputs: {
        mode: 'association',
        'association-name': 'nixos-prometheus',
        targets: 'tag:Role=prometheus',
        'store-path': '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-prometheus-25.05',
        'max-concurrency': '100%',
        'poll-interval-seconds': String(POLL_SECONDS),
      },
      timeoutMs: 300_000,
    });
    if (result.exitCode !== 0) throw new Error(`run ${run + 1} failed:\n${result.stdout}${result.stderr}`);

    // A look is one DescribeAssociationExecutions call and the DescribeAssociationExecutionTargets pages after it.
    const looks: Array<{ at: string; calls: number }> = [];
    for (const call of sandbox.calls.all()) {
      if (call.operation === 'DescribeAssociationExecutions') looks.push({ at: call.at, calls: 1 });
      if (call.operation === 'DescribeAssociationExecutionTargets') looks[looks.length - 1].calls += 1;
    }
    perPoll.push(Math.max(...looks.slice(0, -1).map((look) => look.calls)));
    lastLook.push(looks[looks.length - 1].calls);
    const [execution] = sandbox.ssm.associations.store.find(result.outputs['association-id']).executions;
    const ended = Math.max(...sandbox.ssm.state(execution.commandId).invocations.map((i) => i.endedAtMs ?? 0));
    const sawIt = Date.parse(looks[looks.length - 1].at);
    delays.push((sawIt - ended) / SPEED / 1000);
    durations.push(result.durationMs / 1000);
  }
} finally {
  await sandbox.stop();
}

const goal = Math.ceil(instances / PAGE) + 3;
console.log(`ssm-deploy association mode, ${instances} instances, ${runs} runs on ${process.version}, sandbox clock x${SPEED}, poll every ${POLL_SECONDS} s`);
console.log(`  AWS calls per poll, running (max):  ${Math.max(...perPoll)} (goal: at most ${goal})`);
console.log(`  AWS calls of the look at the end:   ${Math.max(...lastLook)} (goal: at most ${goal})`);
console.log(`  detection delay (median, real):     ${median(delays).toFixed(2)} s (goal: within ${POLL_SECONDS} s)`);
console.log(`  detection delay (max, real):        ${Math.max(...delays).toFixed(2)} s`);
console.log(`  step duration (median):             ${median(durations).toFixed(1)} s`);
