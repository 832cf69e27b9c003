/**
 * The command-line tail of the build's generators (scripts/ssm-document.mjs, scripts/shell-fragments.mjs), which
 * tests also import for their functions.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs `main(args)` when the module at `moduleUrl` is the script node was started with (not when it is imported);
 * an error it throws becomes one line `<name>: <message>` on stderr and exit code 1.
 */
export function runAsScript(moduleUrl, name, main) {
  if (!process.argv[1] || resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(`${name}: ${error.message}`);
    process.exitCode = 1;
  }
}
