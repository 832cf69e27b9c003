/**
 * The build-and-push step: check Nix and the cache, build each installable, then (and only then) assume the role and
 * get the key, sign the closures and push what the cache lacks. No Nix process gets the step's secrets in its
 * environment, and the builds run before any credential or key exists in this process (see `cacheEnv` in plan.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '../shared/actions-core.js';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { actionClients } from '../shared/action-clients.js';
import type { ClientFactory } from '../shared/aws-clients.js';
import { errorMessage } from '../shared/errors.js';
import * as log from '../shared/log.js';
import { maskSecrets } from '../shared/mask.js';
import { runStep, type StepReport } from '../shared/step.js';
import { Input, readInputs, SECRET_KEY, SECRET_KEY_FORM, type BuildAndPushInputs } from './inputs.js';
import { buildAll, checkNix, checkStore, LOCAL_TIMEOUT_MS, NixCommands, probeStore, pushClosures } from './nix.js';
import { buildEnv, buildReport, cacheEnv, firstLine, stepOutputs, type BuildAttempt, type Builds, type RunReport, type StepOutputs } from './plan.js';
import { jobSummary, pushFailedSummary, unfinishedSummary } from './summary.js';

/** What the step has learned so far; `report` makes the outputs and the summary from it. */
export interface State {
  /** Where the closures go; absent for a build alone. */
  storeUri?: string;
  /** What is to be built, in order. */
  installables: string[];
  /** Each build begun, as it ended (see `buildAll` in nix.ts). */
  attempts: BuildAttempt[];
  /** Every build and its closure, once all the builds have finished. */
  builds?: Builds;
  /** What the push did, once it has finished. */
  pushed?: RunReport;
}

export function run(): Promise<void> {
  return runStep<BuildAndPushInputs, State, StepOutputs>({
    name: 'build-and-push',
    // Masked before it is parsed, so that no message about it, ours or a library's, can show it in the log.
    mask: () => maskSigningKey(core.getInput(Input.SigningKey)),
    readInputs: () => readInputs(),
    initial: (inputs) => ({ storeUri: inputs.push ? inputs.storeUri : undefined, installables: inputs.installables, attempts: [] }),
    body,
    report,
  });
}

async function body(inputs: BuildAndPushInputs, state: State, signal: AbortSignal): Promise<void> {
  const cacheTimeoutMs = inputs.cacheTimeoutSeconds * 1000;
  let cacheDir: string | undefined;
  try {
    const local = new NixCommands({ env: buildEnv(process.env), signal, cacheTimeoutMs });
    const version = await checkNix({ env: buildEnv(process.env), signal, timeoutMs: LOCAL_TIMEOUT_MS });
    log.info(`Using ${version.text}.`);
    let storeChecked = false;
    if (inputs.push) {
      cacheDir = await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), 'nix-cache-state-'));
      const probe = new NixCommands({ env: cacheEnv(process.env, cacheDir, 'none'), signal, cacheTimeoutMs });
      storeChecked = await probeStore(probe, inputs.storeUri, version);
      if (!storeChecked) log.info(`Will open ${inputs.storeUri} with the push's credentials after the build.`);
    }

    state.builds = await buildAll(local, inputs.installables, inputs.buildArgs, inputs.buildTimeoutSeconds * 1000, state.attempts);
    if (!inputs.push) return;

    const aws = inputs.roleToAssume || inputs.signingKeyParameter ? await actionClients(inputs, { signal }) : undefined;
    const key = inputs.sign
      ? inputs.signingKey || (await readKeyParameter(aws!.clients, inputs.signingKeyParameter, signal))
      : undefined;
    const credentials = aws?.assumed?.credentials ?? 'step';
    const cache = new NixCommands({ env: cacheEnv(process.env, cacheDir!, credentials), signal, cacheTimeoutMs });
    if (!storeChecked) await checkStore(cache, inputs.storeUri, version);
    state.pushed = await pushClosures({ local, cache }, { storeUri: inputs.storeUri, compression: inputs.compression, key }, state.builds);
  } finally {
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  }
}

/**
 * Outputs and summary from what the step learned and, when it ended early, its error. Before every build has
 * finished: no output (a part of the store paths is no `store-paths`), and a summary of how far the builds got,
 * each installable built, failed or stopped (and why), or not started, or, before any build, why nothing was built.
 * After: the store paths and the closure size, and, when the push did not finish (failed, timed out, cancelled),
 * the summary of what was built and why the push did not finish, no push counts; all of it when the push finished
 * or there was none. Failure is the thrown error's.
 */
export function report(state: State, error?: unknown): StepReport<StepOutputs> {
  const reason = firstLine(error === undefined ? 'the step ended early' : errorMessage(error));
  if (state.pushed) return { outputs: stepOutputs(state.pushed), summary: jobSummary(state.pushed) };
  if (!state.builds) {
    return { outputs: {}, summary: error === undefined ? undefined : unfinishedSummary(state.installables, state.attempts, reason) };
  }
  const built = buildReport(state.builds);
  if (state.storeUri === undefined) return { outputs: stepOutputs(built), summary: jobSummary(built) };
  return { outputs: stepOutputs(built, false), summary: pushFailedSummary(built, state.storeUri, reason) };
}

/** Masks a Nix secret key in both forms a log could show: the whole `name:base64` and the base64 alone. */
export function maskSigningKey(key: string): void {
  if (key) maskSecrets(key, key.slice(key.indexOf(':') + 1));
}

/**
 * The signing key from an SSM Parameter Store SecureString (GetParameter `WithDecryption`), read with the action's
 * credentials so that only the role the main branch may assume can read it; masked the moment it is known. Throws,
 * naming the parameter and never showing its value, when it cannot be read or holds no Nix secret key; warns when it
 * is not a SecureString.
 */
export async function readKeyParameter(clients: ClientFactory, name: string, signal?: AbortSignal): Promise<string> {
  let answer;
  try {
    answer = await clients(SSMClient).send(new GetParameterCommand({ Name: name, WithDecryption: true }), { abortSignal: signal });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new Error(`Could not read the signing key from the SSM parameter ${name}: ${errorMessage(error)}`);
  }
  const key = answer.Parameter?.Value?.trim() ?? '';
  maskSigningKey(key);
  if (!SECRET_KEY.test(key)) {
    throw new Error(`The SSM parameter ${name} must hold ${SECRET_KEY_FORM}; it holds a value of ${key.length} characters`);
  }
  if (answer.Parameter?.Type !== 'SecureString') {
    log.warning(`The SSM parameter ${name} is a ${answer.Parameter?.Type}, not a SecureString: the signing key is stored unencrypted.`);
  }
  return key;
}
