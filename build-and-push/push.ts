/**
 * Signs what the key has not signed yet and uploads what the cache lacks. The key file exists only for this part
 * of the step, after every build; the post step removes it should this process be killed before it does. `local`
 * runs the Nix commands that need no cache (signing), `cache` those that talk to it, with the push's credentials.
 */
import type { Builds } from './build.js';
import { writeKeyFile } from './key-file.js';
import type { NixCommands } from './nix-commands.js';
import { keyName, narSize, unsignedBy } from './path-info.js';
import { planPush } from './push-plan.js';
import { installableFacts, type InstallableReport, type RunReport } from './report.js';
import { compressionOf, pushUri } from './store-uri.js';
import * as log from '../shared/log.js';

export interface PushTarget {
  storeUri: string;
  compression: string;
  /** Absent for an unsigned push. */
  key?: string;
}

export async function pushClosures(
  nix: { local: NixCommands; cache: NixCommands },
  target: PushTarget,
  builds: Builds,
): Promise<RunReport> {
  const { storeUri, key } = target;
  const { results, infos } = builds;
  const all = [...new Set(results.flatMap((item) => item.closure))];
  const keyFile = key ? await writeKeyFile(key) : undefined;
  try {
    if (key && keyFile) {
      const unsigned = unsignedBy(keyName(key), all, infos);
      log.info(`Signing ${unsigned.length} of ${all.length} store paths with the key ${keyName(key)}.`);
      if (unsigned.length > 0) await nix.local.sign(keyFile.path, unsigned);
    }
    const plan = planPush(
      results.map((item) => item.closure),
      await nix.cache.present(storeUri, all),
    );
    log.info(`The cache lacks ${plan.pushed} of the ${all.length} store paths.`);
    const uri = pushUri(storeUri, { compression: target.compression, keyFile: keyFile?.path });
    const installables: InstallableReport[] = [];
    for (const [i, item] of results.entries()) {
      const upload = plan.uploads[i];
      const started = Date.now();
      // Nix copies the closure of what it is given and skips the paths the cache has.
      const uploadedBytes = narSize(upload, infos);
      if (upload.length > 0) await nix.cache.copy(uri, item.built.outputs, `Uploading ${item.installable} to ${storeUri}`, uploadedBytes);
      installables.push({
        ...installableFacts(item, infos),
        uploaded: upload.length,
        uploadedBytes,
        skipped: item.closure.length - upload.length,
        pushMs: Date.now() - started,
      });
    }
    return {
      installables,
      closureBytes: narSize(all, infos),
      pushed: plan.pushed,
      skipped: plan.skipped,
      push: { storeUri, compression: compressionOf(uri), keyName: key ? keyName(key) : undefined },
    };
  } finally {
    await keyFile?.remove();
  }
}
