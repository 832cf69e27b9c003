/**
 * Text from outside is never a workflow command: every form the runner parses (test/harness/commands.ts) is sent
 * through every place an action prints text it did not write, through the built bundles, the runner harness, the
 * sandbox and real Nix. Each place asserts that the runner would have carried out no command from the text (no
 * mask, output, env, path, state, annotation, group, matcher, echo or stop), that the text still reached the log,
 * and that a failed step still shows its own error annotation. The figures are printed at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { currentSystem, generateKey, tempNix, writeFlake, type TempNix } from '../build-and-push/fixtures/temp-nix.js';
import { Sandbox } from '../sandbox/server.js';
import { githubTrustPolicy } from '../sandbox/services/sts/sts.js';
import { STORE_PATH } from './actions.js';
import { parseCommands, splitLines, type Commands } from './harness/commands.js';
import { runAction, type StepOptions, type StepResult } from './harness/runner.js';
import { findSecrets, type Captured } from './harness/secrets.js';

/**
 * One payload per form: `\n`, `\r` and `\r\n` line ends, leading ASCII and Unicode whitespace, upper case, the
 * `##[` form at a line start and mid-line, and each command the runner registers. Whatever a payload would set
 * starts with `pwned-<n>`, so a command carried out from one is recognisable; `pwned-<n>` is also what must reach
 * the log.
 */
export const PAYLOADS: string[] = [
  '\n::add-mask::pwned-1',
  '\r::set-output name=pwned-2::pwned-2',
  '\n::stop-commands::pwned-3',
  '##[set-output name=pwned-4;]pwned-4',
  '\n##[add-mask]pwned-5',
  '\n::warning::pwned-6',
  '\r\n::error::pwned-7',
  '\n::group::pwned-8',
  '\n::endgroup::pwned-9',
  '\n::add-path::pwned-10',
  '\n::set-env name=pwned-11::pwned-11',
  '\r::save-state name=pwned-12::pwned-12',
  '\n::notice::pwned-13',
  '\n::debug::pwned-14',
  '\n::add-matcher::pwned-15.json',
  '\n::echo pwned-16=1::on',
  '\n  \t::ADD-MASK::pwned-17',
  '\n\u00a0\u3000::error::pwned-18',
  ' then ##[error]pwned-19 mid-line',
  '\r::stop-commands::pwned-20',
  '\n::remove-matcher owner=pwned-21::',
  '\r##[stop-commands]pwned-22',
];
const ALL = PAYLOADS.join('');
const marker = (index: number) => `pwned-${index + 1}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const Z = /\u200b/g;

/** What the runner would have done because of the payloads: commands that set or show `pwned-...`, foreign stops. */
export function foreignEffects(result: Pick<Commands, 'masks' | 'stoppedBy'> & { commands?: Commands['commands'] }): string[] {
  const effects: string[] = [];
  for (const command of result.commands ?? []) {
    const fields = [command.name, command.data, ...Object.entries(command.properties).flat()];
    if (fields.some((field) => /^pwned/i.test(field))) effects.push(`line ${command.line}: ${command.name} ${JSON.stringify(command)}`);
    else if (command.name === 'stop-commands' && !UUID.test(command.data)) effects.push(`a stop with the token ${command.data}`);
  }
  if (result.stoppedBy !== undefined) effects.push(`commands stopped by ${JSON.stringify(result.stoppedBy)} and never resumed`);
  effects.push(...result.masks.filter((mask) => /pwned/i.test(mask)).map((mask) => `mask ${mask}`));
  return effects;
}

/** The payload markers that reached neither the log nor an annotation. */
function unseen(results: StepResult[], indexes: number[]): string[] {
  const shown = results
    .flatMap((result) => [...result.logLines, ...result.annotations.map((a) => a.message)])
    .join('\n')
    .replace(Z, '');
  return indexes.map(marker).filter((m) => !new RegExp(`${m}(?!\\d)`).test(shown));
}

const errors = (result: StepResult) => result.annotations.filter((a) => a.level === 'error');

const SPEED = 200;
const sandbox = new Sandbox({ speed: SPEED });
const secrets = new Set<string>();
const figures = { combinations: 0, runs: 0, executed: 0, secretsFound: 0 };
let nix: TempNix;
let flake: string;
let signingKey: string;

beforeAll(async () => {
  await sandbox.start();
  nix = await tempNix();
  // The builder prints every payload on stdout and stderr (base64 keeps the shell out of it), then fails. One a
  // line: Nix itself lets a `\r` overwrite the line it ends, which would drop the payload before it.
  const encoded = Buffer.from(PAYLOADS.join('\n')).toString('base64');
  flake = await writeFlake(await nix.folder('flake'), await currentSystem(nix), [
    { name: 'hostile', script: `echo ${encoded} | base64 -d; echo; echo ${encoded} | base64 -d >&2; exit 3` },
  ]);
  signingKey = (await generateKey(nix, 'cache.example.org-1')).secret;
  secrets.add(signingKey).add(signingKey.split(':')[1]);
});

afterAll(async () => {
  await sandbox.stop();
  await nix?.remove();
  const line =
    `foreign-text sweep: ${PAYLOADS.length} payloads x ${PLACES.length} places = ${figures.combinations} combinations ` +
    `in ${figures.runs} step runs; commands executed: ${figures.executed}; secrets found outside masking: ${figures.secretsFound}`;
  process.stdout.write(`${line}\n`);
});

function collectSecrets(): void {
  for (const secret of [...sandbox.sts.issuedSecrets(), ...sandbox.oidc.issuedTokens()]) secrets.add(secret);
}

function step(action: string, inputs: Record<string, string>, options: StepOptions = {}): Promise<StepResult> {
  return runAction(action, { env: { ...sandbox.env(), ...options.env }, inputs, timeoutMs: 120_000 });
}

/** A group `web` on version 1 of template `web`, as instance-refresh expects. */
function refreshableGroup(): void {
  const templateId = sandbox.ec2.createLaunchTemplate({
    name: 'web',
    data: {
      ImageId: 'ami-0123456789abcdef0',
      InstanceType: 't3.small',
      MetadataOptions: { HttpTokens: 'required', InstanceMetadataTags: 'enabled' },
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web' }] }],
    },
  }).id;
  sandbox.autoscaling.createGroup({ name: 'web', launchTemplate: { id: templateId, version: '1' }, desiredCapacity: 2 });
}

const REFRESH = { 'auto-scaling-group-name': 'web', 'store-path': STORE_PATH, 'poll-interval-seconds': '1', 'instance-warmup': '60' };
const SSM = { targets: 'tag:Role=web', 'store-path': STORE_PATH, 'poll-interval-seconds': '1' };
const INSTANCE = 'i-00000000000000001';

/** Target lines of at most 256 characters of value; SSM's list input splits at `\n`, so `\r` ends the lines. */
function targetLines(): string[][] {
  const values: string[] = [];
  for (const payload of PAYLOADS.map((p) => p.replace(/\r\n|\n/g, '\r'))) {
    const last = values.length - 1;
    if (last >= 0 && values[last].length + payload.length <= 256) values[last] += payload;
    else values.push(`web${payload}`);
  }
  const runs: string[][] = [];
  for (let at = 0; at < values.length; at += 5) runs.push(values.slice(at, at + 5).map((value) => `tag:Role=${value}`));
  return runs;
}

interface Place {
  name: string;
  /** The step fails, and must still show its own error annotation. */
  fails: boolean;
  /** Where a secret belongs (assume-role's exported credentials). */
  secretsIn?: Captured[];
  run(): Promise<StepResult[]>;
}

const PLACES: Place[] = [
  {
    name: 'instance-refresh: an instance refresh StatusReason (status lines and the failure)',
    fails: true,
    async run() {
      refreshableGroup();
      sandbox.autoscaling.scriptRefresh('web', { failAtPercent: 50, rollbackOutcome: 'success', failReason: `Instances failed.${ALL}` });
      return [await step('instance-refresh', REFRESH)];
    },
  },
  {
    name: 'instance-refresh: an Auto Scaling error message (query protocol, XML)',
    fails: true,
    async run() {
      refreshableGroup();
      sandbox.faults.add({ kind: 'throttle', service: 'autoscaling', code: 'AccessDenied', message: `Not allowed.${ALL}`, count: 1 });
      return [await step('instance-refresh', REFRESH)];
    },
  },
  {
    name: 'instance-refresh: an invalid input echoed in the error (one payload a run: values are cut at 80 characters)',
    fails: true,
    async run() {
      const results: StepResult[] = [];
      for (const payload of PAYLOADS) results.push(await step('instance-refresh', { ...REFRESH, 'auto-scaling-group-name': `web${payload}` }));
      return results;
    },
  },
  {
    name: 'ssm-deploy: the targets input, echoed in the log and the outcome',
    fails: false,
    async run() {
      sandbox.ssm.addInstance({ instanceId: INSTANCE, tags: { Role: 'web' } });
      const results: StepResult[] = [];
      for (const lines of targetLines()) results.push(await step('ssm-deploy', { ...SSM, targets: lines.join('\n') }));
      return results;
    },
  },
  {
    name: 'ssm-deploy: a failed instance\'s output (stdout and stderr)',
    fails: true,
    async run() {
      sandbox.ssm.addInstance({ instanceId: INSTANCE, tags: { Role: 'web' }, outcome: { status: 'Failed', responseCode: 2, stdout: ALL, stderr: ALL } });
      return [await step('ssm-deploy', SSM)];
    },
  },
  {
    name: 'ssm-deploy: a Systems Manager error message (JSON protocol)',
    fails: true,
    async run() {
      sandbox.ssm.addInstance({ instanceId: INSTANCE, tags: { Role: 'web' } });
      sandbox.faults.add({ kind: 'throttle', service: 'ssm', code: 'AccessDeniedException', message: `Not allowed.${ALL}`, count: 1 });
      return [await step('ssm-deploy', SSM)];
    },
  },
  {
    name: 'ssm-deploy association mode: the targets input, and a failed instance\'s output read through the execution',
    fails: true,
    async run() {
      sandbox.ssm.addInstance({ instanceId: INSTANCE, tags: { Role: 'web' }, outcome: { status: 'Failed', responseCode: 3, stdout: ALL, stderr: ALL } });
      const association = { ...SSM, mode: 'association', 'association-name': 'nixos-web' };
      const results = [await step('ssm-deploy', association)];
      for (const lines of targetLines()) results.push(await step('ssm-deploy', { ...association, targets: lines.join('\n') }));
      return results;
    },
  },
  {
    name: 'build-and-push: real Nix\'s build log and error',
    fails: true,
    async run() {
      const inputs = { installable: `${flake}#hostile`, 'store-uri': `file://${await nix.folder('cache')}`, 'signing-key': signingKey };
      return [await step('build-and-push', inputs, { env: { NIX_CONFIG: nix.nixConfig } })];
    },
  },
  {
    name: 'assume-role: the trust hint\'s token claims (sub, job_workflow_ref, environment)',
    fails: true,
    async run() {
      const roleArn = sandbox.sts.addRole({
        name: 'deploy',
        trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/octo-repo:environment:production' }),
      });
      sandbox.oidc.setClaims({ sub: `repo:octo-org/octo-repo${ALL}`, job_workflow_ref: `octo-org/octo-repo${ALL}`, environment: `production${ALL}` });
      return [await step('assume-role', { 'role-to-assume': roleArn }, { env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' } })];
    },
  },
  {
    name: 'assume-role: an STS error message logged before the retry that succeeds',
    fails: false,
    secretsIn: ['exportedEnv'],
    async run() {
      const roleArn = sandbox.sts.addRole({ name: 'deploy', trustPolicy: githubTrustPolicy(sandbox.accountId, { sub: 'repo:octo-org/*' }) });
      sandbox.faults.add({ kind: 'throttle', service: 'sts', message: `Rate exceeded.${ALL}`, count: 1 });
      const result = await step('assume-role', { 'role-to-assume': roleArn }, { env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' } });
      expect(result.exitCode).toBe(0);
      return [result];
    },
  },
];

describe('text from outside is never a workflow command', () => {
  it.each(PAYLOADS.map((payload, i) => [JSON.stringify(payload), i] as const))(
    'printed raw, %s is a command to the harness (so the sweep can fail)',
    (_payload, i) => {
      // Alone after a line of text: the stops of earlier payloads would hide later ones.
      expect(foreignEffects(parseCommands(splitLines(`x${PAYLOADS[i]}\n`)))).not.toEqual([]);
    },
  );

  it.each(PLACES.map((place) => [place.name, place] as const))('%s', async (_name, place) => {
    sandbox.reset();
    sandbox.clock.setSpeed(SPEED);
    const results = await place.run();
    collectSecrets();
    figures.runs += results.length;
    figures.combinations += PAYLOADS.length;

    const effects = results.flatMap(foreignEffects);
    figures.executed += effects.length;
    const leaks = results.flatMap((result) => findSecrets(result, secrets, place.secretsIn));
    figures.secretsFound += leaks.length;

    expect(effects).toEqual([]);
    expect(leaks).toEqual([]);
    expect(unseen(results, PAYLOADS.map((_p, i) => i))).toEqual([]);
    for (const result of results) {
      if (place.fails) expect(result.exitCode).toBe(1);
      // A failed step's own error annotation is never lost to a stop or an escape.
      if (result.exitCode !== 0) expect(errors(result).length).toBeGreaterThan(0);
    }
  });
});
