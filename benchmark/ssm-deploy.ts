/**
 * `npx tsx benchmark/ssm-deploy.ts [runs] [instances]`: the ssm-deploy bundle, spawned as the runner spawns it,
 * deploying to 1000 tagged instances in the sandbox (fast clock), with a 1-second poll interval. Prints, as medians
 * of the runs: API calls per poll (target: at most ceil(N/50) + 1), the delay between the command ending and the
 * action seeing it, in real time (target: within one poll interval), and the action's peak memory (target: under
 * 150 MB). Asserts nothing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '../sandbox/server.js';
import { runAction } from '../test/harness/runner.js';
import { median } from './stats.js';

const runs = Number(process.argv[2] ?? 7);
const instances = Number(process.argv[3] ?? 1000);
const SPEED = 20;
const POLL_SECONDS = 1;
const PAGE = 50;

// The action's own peak resident memory, written by a preload as the process exits.
const work = mkdtempSync(join(tmpdir(), 'ssm-deploy-bench-'));
const peakFile = join(work, 'peak-rss');
const preload = join(work, 'peak.cjs');
writeFileSync(
  preload,
  `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(peakFile)}, String(process.resourceUsage().maxRSS)));\n`,
);

const sandbox = await new Sandbox({ speed: SPEED }).start();
/** The most calls one poll made, per run. */
const perPoll: number[] = [];
const delays: number[] = [];
const peaks: number[] = [];
const durations: number[] = [];
try {
  for (let run = 0; run < runs; run += 1) {
    sandbox.reset();
    // Shifts when the command ends against the poll schedule from run to run, across one whole interval.
    const phase = ((run * 7.3) % 20) / 20 * POLL_SECONDS * SPEED;
    for (let i = 1; i <= instances; i += 1) {
      sandbox.ssm.addInstance({
        instanceId: `i-${i.toString(16).padStart(17, '0')}`,
        tags: { Role: 'web' },
        // Spread over 5-25 s so that completions do not all land on one poll.
        outcome: { status: 'Success', durationSeconds: 5 + (i % 21) + phase },
      });
    }
    const result = await runAction('ssm-deploy', {
      env: { ...sandbox.env(), NODE_OPTIONS: `--require ${preload}` },
      inputs: {
        targets: 'tag:Role=web',
        'store-path': '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05',
        'max-concurrency': '100%',
        'poll-interval-seconds': String(POLL_SECONDS),
      },
      timeoutMs: 300_000,
    });
    if (result.exitCode !== 0) throw new Error(`run ${run + 1} failed:\n${result.stdout}${result.stderr}`);

    // A look is one ListCommands call and the ListCommandInvocations pages after it; the last look, with Details,
    // is the report's read once the command has ended, not a poll.
    const looks: Array<{ at: string; calls: number; details: boolean }> = [];
    for (const call of sandbox.calls.all()) {
      if (call.operation === 'ListCommands') looks.push({ at: call.at, calls: 1, details: false });
      if (call.operation === 'ListCommandInvocations') {
        looks[looks.length - 1].calls += 1;
        looks[looks.length - 1].details ||= call.params.Details === true;
      }
    }
    const polls = looks.filter((look) => !look.details);
    perPoll.push(Math.max(...polls.map((poll) => poll.calls)));
    const commandId = result.outputs['command-id'];
    const ended = Math.max(...sandbox.ssm.state(commandId).invocations.map((i) => i.endedAtMs ?? 0));
    const sawIt = Date.parse(polls[polls.length - 1].at);
    delays.push((sawIt - ended) / SPEED / 1000);
    peaks.push(Number(readFileSync(peakFile, 'utf8')) / 1024);
    durations.push(result.durationMs / 1000);
  }
} finally {
  await sandbox.stop();
  rmSync(work, { recursive: true, force: true });
}

const target = Math.ceil(instances / PAGE) + 1;
console.log(`ssm-deploy, ${instances} instances, ${runs} runs on ${process.version}, sandbox clock x${SPEED}, poll every ${POLL_SECONDS} s`);
console.log(`  API calls per poll (max):           ${Math.max(...perPoll)} (target: at most ${target})`);
console.log(`  detection delay (median, real):     ${median(delays).toFixed(2)} s (target: within ${POLL_SECONDS} s)`);
console.log(`  detection delay (max, real):        ${Math.max(...delays).toFixed(2)} s`);
console.log(`  peak memory of the action (median): ${median(peaks).toFixed(0)} MB (target: under 150 MB)`);
console.log(`  step duration (median):             ${median(durations).toFixed(1)} s`);
