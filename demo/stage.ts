/**
 * What the demo's steps run against: the sandbox (a fast clock) seeded with the pipeline's account, one SSM
 * instance scripted to fail its health check and roll back, and real Nix on a temporary store with a new signing
 * key pair, an empty `file://` binary cache and the stand-in system's flake.
 */
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentSystem, generateKey, tempNix, type SigningKey, type TempNix } from '../build-and-push/fixtures/temp-nix.js';
import { Sandbox } from '../sandbox/server.js';
import type { OutcomeContext } from '../sandbox/services/ssm/ssm.js';
import type { InvocationOutcome } from '../sandbox/services/ssm/commands.js';
import { seedDemoWorld, type DemoWorld } from '../sandbox/world.js';

/**
 * Sandbox seconds per real second: the refresh's warmups and checkpoint pause take a few real seconds, and the
 * assumed role's hour still outlasts the deploy job.
 */
export const SPEED = 60;

export const INSTALLABLE_ATTRIBUTE = 'nixosConfigurations.web.config.system.build.toplevel';

export interface Stage {
  sandbox: Sandbox;
  world: DemoWorld;
  nix: TempNix;
  key: SigningKey;
  cacheUri: string;
  /** `path:` reference to a copy of the stand-in system's flake (Nix may write a lock file next to it). */
  flake: string;
  /** The SSM instance whose health check fails. */
  failingInstanceId: string;
  close(): Promise<void>;
}

export async function setUpStage(): Promise<Stage> {
  const sandbox = new Sandbox({ speed: SPEED });
  await sandbox.start();
  const nix = await tempNix();
  try {
    const world = seedDemoWorld(sandbox);
    const failingInstanceId = world.ssmInstanceIds[1];
    sandbox.ssm.setOutcome(failingInstanceId, healthCheckFailure);
    const key = await generateKey(nix, 'nixos-aws-demo-1').catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? new Error('no nix on PATH: the demo builds with real Nix (on Debian: apt-get install nix-bin)') : error;
    });
    const cacheUri = `file://${await nix.folder('cache')}`;
    const flakeDir = await nix.folder('system');
    await cp(fileURLToPath(new URL('fixtures/system', import.meta.url)), flakeDir, { recursive: true });
    await writeFile(join(flakeDir, 'system'), await currentSystem(nix));
    return {
      sandbox,
      world,
      nix,
      key,
      cacheUri,
      flake: `path:${flakeDir}`,
      failingInstanceId,
      async close() {
        await sandbox.stop();
        await nix.remove();
      },
    };
  } catch (error) {
    await sandbox.stop();
    await nix.remove();
    throw error;
  }
}

const PREVIOUS_SYSTEM = '/nix/store/5v0kql1xvqvqlk1pvc0i7y6hfl9ka6r0-nixos-system-web-24.11';

/** What the NixOS-Deploy document prints when the new system's units do not come up and it rolls back (exit 2). */
function healthCheckFailure({ parameters }: OutcomeContext): InvocationOutcome {
  const storePath = parameters.storePath[0];
  const unit = (parameters.healthCheckUnits?.[0] ?? '').split(' ')[0] || 'prometheus.service';
  const timeout = parameters.healthCheckTimeoutSeconds?.[0] ?? '60';
  return {
    status: 'Failed',
    responseCode: 2,
    durationSeconds: 75,
    stdout: [
      `nixos-deploy: Fetching ${storePath} (signatures required)`,
      `nixos-deploy: Unit ${unit} is failed after ${timeout} s`,
      'nixos-deploy: Rolling back to the previous generation',
    ].join('\n'),
    stderr: `nixos-deploy: The health check failed.\nnixos-deploy: Rolled back to ${PREVIOUS_SYSTEM}.`,
  };
}
