/**
 * `npx tsx benchmark/build-and-push.ts [runs] [packages] [kib-per-package]`: a closure of about 200 store paths
 * and 50 MB, on temporary stores, pushed to empty `file://` caches. Medians of `runs` runs of:
 * - the action (its bundle, run as the runner runs it) against the same `nix build` and `nix copy` typed by hand,
 *   from an empty store (build and push), and with everything built already (push alone);
 * - `nix copy` with zstd against xz, with the bytes each leaves in the cache;
 * - the action's second push, when the cache has everything.
 * Needs Nix (Debian's nix-bin will do); prints figures and asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentSystem, generateKey, tempNix, writeFlake, type FlakePackage, type TempNix } from '../build-and-push/fixtures/temp-nix.js';
import { runAction } from '../test/harness/runner.js';
import { median } from './stats.js';

const runs = Number(process.argv[2] ?? 3);
const packages = Number(process.argv[3] ?? 199);
const kib = Number(process.argv[4] ?? 256);

const scratch = await tempNix();
const key = await generateKey(scratch, 'bench-1');
const keyFile = join(await scratch.folder('key'), 'secret');
await writeFile(keyFile, key.secret, { mode: 0o600 });
const system = await currentSystem(scratch);

// Half random bytes in base64 (compresses about as machine code does), half numbers (as text and tables do).
const script = `head -c ${Math.round((kib * 1024) / 2 / 1.35)} /dev/urandom | base64 > $out; seq 1 ${Math.round((kib * 1024) / 2 / 6)} >> $out`;
const parts: FlakePackage[] = Array.from({ length: packages }, (_, i) => ({ name: `part${i}`, script }));
const installable = await writeFlake(await scratch.folder('flake'), system, [...parts, { name: 'system', deps: parts.map((p) => p.name) }]);
const flakeRef = `${installable}#system`;

/** Runs the real Nix as a user would, with a fresh HOME (no narinfo cache from an earlier run); seconds. */
async function byHand(nix: TempNix, ...commands: string[][]): Promise<number> {
  const home = await mkdtemp(join(tmpdir(), 'bench-home-'));
  const started = process.hrtime.bigint();
  for (const args of commands) {
    const run = spawnSync('nix', args, { env: { ...process.env, NIX_CONFIG: nix.nixConfig, HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
    if (run.status !== 0) throw new Error(`nix ${args.join(' ')} failed: ${run.stderr}`);
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  await rm(home, { recursive: true, force: true });
  return elapsed;
}

async function action(nix: TempNix, cache: string, expectPushed?: string): Promise<number> {
  const inputs = { installable: flakeRef, 'store-uri': `file://${cache}`, 'signing-key': key.secret };
  const result = await runAction('build-and-push', { env: { NIX_CONFIG: nix.nixConfig }, inputs, timeoutMs: 600_000 });
  if (result.exitCode !== 0) throw new Error(`the action failed:\n${result.stdout}`);
  if (expectPushed !== undefined && result.outputs['pushed-paths'] !== expectPushed) {
    throw new Error(`the action pushed ${result.outputs['pushed-paths']} paths, not ${expectPushed}`);
  }
  return result.durationMs / 1000;
}

const copyTo = (cache: string, compression: string) => ['copy', '--to', `file://${cache}?secret-key=${keyFile}&compression=${compression}`, flakeRef];
const build = ['build', '--no-link', flakeRef];

async function bytesIn(folder: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

const times = { handScratch: [] as number[], actionScratch: [] as number[], hand: [] as number[], action: [] as number[] };
const copies = { zstd: [] as number[], xz: [] as number[], again: [] as number[] };
const cacheBytes = { zstd: 0, xz: 0 };
for (let run = 0; run < runs; run += 1) {
  // From an empty store: the build is most of it, as in CI. Which goes first alternates: the disk remembers.
  const sides = [
    ['handScratch', (nix: TempNix, cache: string) => byHand(nix, build, copyTo(cache, 'zstd'))],
    ['actionScratch', (nix: TempNix, cache: string) => action(nix, cache)],
  ] as const;
  for (const [side, measure] of run % 2 ? [...sides].reverse() : sides) {
    const nix = await tempNix();
    times[side].push(await measure(nix, await nix.folder('cache')));
    await nix.remove();
  }
  // Built already: the push alone, where the action's own work shows most.
  await byHand(scratch, build);
  times.hand.push(await byHand(scratch, build, copyTo(await scratch.folder('hand'), 'zstd')));
  const cache = await scratch.folder('action');
  times.action.push(await action(scratch, cache, String(packages + 1)));
  copies.again.push(await action(scratch, cache, '0'));
  for (const compression of ['zstd', 'xz'] as const) {
    const target = await scratch.folder(compression);
    copies[compression].push(await byHand(scratch, copyTo(target, compression)));
    cacheBytes[compression] = await bytesIn(join(target, 'nar'));
  }
}
const closure = JSON.parse(await scratch.nix(['path-info', '--json', '--recursive', flakeRef])) as Array<{ narSize: number }>;
await scratch.remove();

const s = (values: number[]) => `${median(values).toFixed(2)} s`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const versus = (a: number[], b: number[]) => {
  const percent = (median(a) / median(b) - 1) * 100;
  return `${percent >= 0 ? '+' : ''}${percent.toFixed(1)}%, ${((median(a) - median(b)) * 1000).toFixed(0)} ms`;
};
const narBytes = closure.reduce((sum, info) => sum + info.narSize, 0);
console.log(`build-and-push: ${closure.length} store paths, ${mb(narBytes)} of NARs; medians of ${runs} runs on ${process.version}`);
console.log(`  empty store, by hand (nix build; nix copy):  ${s(times.handScratch)}`);
console.log(`  empty store, the action:                     ${s(times.actionScratch)}  (${versus(times.actionScratch, times.handScratch)})`);
console.log(`  built, by hand (nix build; nix copy):        ${s(times.hand)}`);
console.log(`  built, the action:                           ${s(times.action)}  (${versus(times.action, times.hand)})`);
console.log(`  nix copy, zstd:                              ${s(copies.zstd)}, ${mb(cacheBytes.zstd)} in the cache`);
console.log(`  nix copy, xz (Nix's default):                ${s(copies.xz)}, ${mb(cacheBytes.xz)} in the cache`);
console.log(`  the action, second push (nothing to upload): ${s(copies.again)}`);
