import * as core from '@actions/core';
import { actionClients } from '../shared/action-clients.js';
import { installCancellation } from '../shared/cancellation.js';
import { errorMessage } from '../shared/errors.js';
import { setOutputs } from '../shared/outputs.js';
import { writeSummary } from '../shared/summary.js';
import { buildAll } from './build.js';
import { Input, readInputs } from './inputs.js';
import { NixCommands } from './nix-commands.js';
import { needsRenewal, nixEnv } from './nix-env.js';
import { checkNix, checkStore } from './preflight.js';
import { pushClosures } from './push.js';
import { buildReport, jobSummary, stepOutputs, type RunReport } from './report.js';
import { maskSigningKey, readKeyParameter } from './signing-key.js';
import * as log from '../shared/log.js';

/**
 * The build-and-push step: check Nix and the cache and get the key, then build each installable, sign the closures
 * and push what the cache lacks. What can fail without building fails before the build.
 */
export async function run(): Promise<void> {
  const cancellation = installCancellation();
  const { signal } = cancellation;
  try {
    // Masked before it is parsed, so that no message about it, ours or a library's, can show it in the log.
    const givenKey = core.getInput(Input.SigningKey);
    if (givenKey) maskSigningKey(givenKey);
    const inputs = readInputs();

    const version = await checkNix({ env: process.env, signal });
    log.info(`Using ${version.text}.`);
    const aws = inputs.roleToAssume || inputs.signingKeyParameter ? await actionClients(inputs, { signal }) : undefined;
    let credentials = aws?.assumed?.credentials;
    const nix = () => new NixCommands({ env: nixEnv(process.env, credentials), signal });
    if (inputs.push) await checkStore(inputs.storeUri, version, { env: nixEnv(process.env, credentials), signal });
    const key =
      inputs.push && inputs.sign
        ? inputs.signingKey || (await readKeyParameter(aws!.clients, inputs.signingKeyParameter, signal))
        : undefined;

    const builds = await buildAll(nix(), inputs.installables, inputs.buildArgs);
    let report: RunReport = buildReport(builds);
    if (inputs.push) {
      if (credentials && needsRenewal(credentials, Date.now())) {
        log.info('The role session ends soon: assuming the role again for the push.');
        credentials = (await actionClients(inputs, { signal })).assumed?.credentials;
      }
      report = await pushClosures(nix(), { storeUri: inputs.storeUri, compression: inputs.compression, key }, builds);
    }
    setOutputs(stepOutputs(report));
    await writeSummary(jobSummary(report));
  } catch (error) {
    log.fail(errorMessage(error));
  } finally {
    cancellation.dispose();
  }
}
