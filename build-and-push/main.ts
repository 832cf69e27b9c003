import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { actionClients } from '../shared/action-clients.js';
import { installCancellation } from '../shared/cancellation.js';
import { errorMessage } from '../shared/errors.js';
import { setOutputs } from '../shared/outputs.js';
import { writeSummary } from '../shared/summary.js';
import { buildAll } from './build.js';
import { Input, readInputs } from './inputs.js';
import { LOCAL_TIMEOUT_MS, NixCommands } from './nix-commands.js';
import { buildEnv, cacheEnv } from './nix-env.js';
import { checkNix, checkStore, probeStore } from './preflight.js';
import { pushClosures } from './push.js';
import { buildReport, jobSummary, pushFailedSummary, stepOutputs, type RunReport } from './report.js';
import { maskSigningKey, readKeyParameter } from './signing-key.js';
import * as log from '../shared/log.js';

/**
 * The build-and-push step: check Nix and the cache, build each installable, then (and only then) assume the role and
 * get the key, sign the closures and push what the cache lacks. No Nix process gets the step's secrets in its
 * environment, and the builds run before any credential or key exists in this process (see nix-env.ts).
 */
export async function run(): Promise<void> {
  const cancellation = installCancellation();
  const { signal } = cancellation;
  let cacheDir: string | undefined;
  /** Set once every build has finished: what a failed push still reports. */
  let built: { report: RunReport; storeUri: string } | undefined;
  try {
    // Masked before it is parsed, so that no message about it, ours or a library's, can show it in the log.
    const givenKey = core.getInput(Input.SigningKey);
    if (givenKey) maskSigningKey(givenKey);
    const inputs = readInputs();
    const cacheTimeoutMs = inputs.cacheTimeoutSeconds * 1000;

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

    const builds = await buildAll(local, inputs.installables, inputs.buildArgs, inputs.buildTimeoutSeconds * 1000);
    let report: RunReport = buildReport(builds);
    if (inputs.push) {
      built = { report, storeUri: inputs.storeUri };
      const aws = inputs.roleToAssume || inputs.signingKeyParameter ? await actionClients(inputs, { signal }) : undefined;
      const key = inputs.sign
        ? inputs.signingKey || (await readKeyParameter(aws!.clients, inputs.signingKeyParameter, signal))
        : undefined;
      const credentials = aws?.assumed?.credentials ?? 'step';
      const cache = new NixCommands({ env: cacheEnv(process.env, cacheDir!, credentials), signal, cacheTimeoutMs });
      if (!storeChecked) await checkStore(cache, inputs.storeUri, version);
      report = await pushClosures({ local, cache }, { storeUri: inputs.storeUri, compression: inputs.compression, key }, builds);
    }
    setOutputs(stepOutputs(report));
    await writeSummary(jobSummary(report));
  } catch (error) {
    log.fail(errorMessage(error));
    // The step has failed with the error that matters; a summary that cannot be written must not replace it.
    if (built) await writeSummary(pushFailedSummary(built.report, built.storeUri)).catch(() => undefined);
  } finally {
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
    cancellation.dispose();
  }
}
