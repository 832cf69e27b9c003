/**
 * `npx tsx benchmark/instance-refresh.ts [runs] [speed]`: a 30-minute instance refresh (six instances, one at a
 * time, five minutes each) followed by the instance-refresh bundle against the sandbox, whose clock runs `speed`
 * times fast, with a poll interval of 1 s. For each run: the API calls made, the DescribeInstanceRefreshes calls
 * per poll interval while waiting, and the delay between the refresh reaching its terminal status and the action
 * noticing, in real time. Prints medians; asserts nothing.
 */
import type { CallRecord } from '../sandbox/call-log.js';
import { Sandbox } from '../sandbox/server.js';
import { runAction } from '../test/harness/runner.js';
import { median, ms } from './stats.js';

const runs = Number(process.argv[2] ?? 3);
const speed = Number(process.argv[3] ?? 120);
const INTERVAL_MS = 1000;
const STORE_PATH = '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05';

const sandbox = await new Sandbox({ speed }).start();
const figures = { calls: [] as number[], polls: [] as number[], perInterval: [] as number[], detection: [] as number[], step: [] as number[] };
let operations = '';

for (let i = 0; i < runs; i += 1) {
  sandbox.reset();
  const { id } = sandbox.ec2.createLaunchTemplate({
    name: 'web',
    data: { ImageId: 'ami-0123456789abcdef0', MetadataOptions: { InstanceMetadataTags: 'enabled' } },
  });
  sandbox.autoscaling.createGroup({ name: 'web', launchTemplate: { id, version: '1' }, desiredCapacity: 6 });
  const result = await runAction('instance-refresh', {
    env: sandbox.env(),
    inputs: {
      'auto-scaling-group-name': 'web',
      'store-path': STORE_PATH,
      'instance-warmup': '300',
      'poll-interval-seconds': String(INTERVAL_MS / 1000),
    },
    timeoutMs: 600_000,
  });
  if (result.exitCode !== 0) throw new Error(`run ${i + 1} failed:\n${result.stdout}${result.stderr}`);

  const refreshId = result.outputs['instance-refresh-id'];
  const [refresh] = (
    sandbox.autoscaling.operations.DescribeInstanceRefreshes(
      { AutoScalingGroupName: 'web', InstanceRefreshIds: [refreshId] },
      { caller: 'benchmark', requestId: 'benchmark', sandbox },
    ) as { InstanceRefreshes: Array<{ StartTime: Date; EndTime: Date }> }
  ).InstanceRefreshes;
  const calls = sandbox.calls.all();
  const looks = calls.filter((c) => c.operation === 'DescribeInstanceRefreshes' && c.params.InstanceRefreshIds !== undefined);
  const at = (call: CallRecord) => Date.parse(call.at);
  const noticed = looks.find((c) => at(c) >= refresh.EndTime.getTime())!;
  const waitedMs = (at(looks[looks.length - 1]) - at(looks[0])) / speed;

  figures.calls.push(calls.length);
  figures.polls.push(looks.length);
  // Intervals the wait spanned, the first look included: n looks over (n - 1) intervals is one look per interval.
  figures.perInterval.push(looks.length / (waitedMs / INTERVAL_MS + 1));
  figures.detection.push((at(noticed) - refresh.EndTime.getTime()) / speed);
  figures.step.push(result.durationMs);
  operations = [...new Set(calls.map((c) => c.operation))]
    .map((operation) => `${operation} ${calls.filter((c) => c.operation === operation).length}`)
    .join(', ');
  const minutes = (refresh.EndTime.getTime() - refresh.StartTime.getTime()) / 60_000;
  console.log(`run ${i + 1}: refresh of ${minutes.toFixed(1)} sandbox minutes; ${operations}`);
}
await sandbox.stop();

console.log(`\ninstance-refresh, ${runs} runs on ${process.version}, sandbox clock x${speed}, poll interval ${INTERVAL_MS} ms`);
console.log(`  API calls per deploy (median):                 ${median(figures.calls)}`);
console.log(`  DescribeInstanceRefreshes while waiting:       ${median(figures.polls)}`);
console.log(`  of those per poll interval (target <= 1):      ${median(figures.perInterval).toFixed(2)}`);
console.log(`  terminal status -> noticed (target <= interval):  ${ms(median(figures.detection))}`);
console.log(`  step wall time (median):                       ${ms(median(figures.step))}`);
