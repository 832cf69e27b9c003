#!/usr/bin/env node
/**
 * `npm run build`: one ncc bundle per action entry point, written to `dist/`, which is committed because the
 * runner executes it as is. Building twice gives byte-identical output (CI rebuilds and fails on any difference),
 * and a bundle with an unresolved module fails the build, because ncc itself exits 0 on one.
 *
 * TypeScript is first compiled to ESM JavaScript without type checking (`npm run typecheck` does that): ncc's own
 * TypeScript loader checks the whole project once per bundle, so a type error in any test file would stop every
 * bundle, and its fast mode compiles `module: NodeNext` sources to CommonJS, which cannot import the ESM-only
 * @actions/* packages. The bundles are ESM; ncc writes a `package.json` with `"type": "module"` next to each.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const require = createRequire(import.meta.url);
const ncc = require('@vercel/ncc');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/** Entry point (without extension) -> output folder under dist/; each `action.yml` names these bundles. */
const BUNDLES = [
  ['assume-role/index', 'assume-role'],
  ['build-and-push/index', 'build-and-push'],
  ['build-and-push/post', 'build-and-push/post'],
  ['instance-refresh/index', 'instance-refresh'],
  ['ssm-deploy/index', 'ssm-deploy'],
  ['upload-ami/index', 'upload-ami'],
];

async function compile(outDir) {
  const tsc = require.resolve('typescript/bin/tsc');
  const args = [tsc, '-p', join(root, 'tsconfig.json'), '--noCheck', '--outDir', outDir];
  await promisify(execFile)(process.execPath, args, { cwd: root }).catch((error) => {
    throw new Error(`tsc failed:\n${error.stdout}${error.stderr}`);
  });
}

async function bundle(compiled, entry) {
  const { code, assets } = await ncc(join(compiled, `${entry}.js`), {
    esm: true,
    // No cache: a stale cache entry is the one way two builds of the same tree could differ.
    cache: false,
    // Minified: the runner loads each bundle on every step, and the STS client alone doubles assume-role to 2 MB
    // (the reference action ships 3.1 MB); minified it stays near 1 MB. Terser's output is deterministic.
    minify: true,
    sourceMap: false,
    sourceMapRegister: false,
    license: 'licenses.txt',
    quiet: true,
  });
  const files = { 'index.js': code, ...Object.fromEntries(Object.entries(assets).map(([name, a]) => [name, a.source])) };
  // ncc exits 0 on an import it could not resolve: webpack leaves `webpackMissingModule` where an ESM import
  // failed, ncc leaves its `@@notfound.js` stub where a CommonJS require did. Either fails only at run time. The
  // chunks of dynamic `import()`s (`<id>.index.js`, loaded only by the runs that need them) are checked alike.
  for (const [name, source] of Object.entries(files)) {
    if (!name.endsWith('.js')) continue;
    const text = String(source);
    for (const marker of ['webpackMissingModule', '@@notfound.js']) {
      if (text.includes(marker)) {
        const line = text.split('\n').find((l) => l.includes(marker))?.trim();
        throw new Error(`${entry}: ${name} has an unresolved module (${marker}): ${line}`);
      }
    }
    if (text.includes(root)) {
      throw new Error(`${entry}: ${name} embeds the absolute path ${root}, so it would differ on another machine`);
    }
  }
  return files;
}

/** `npm run build -- assume-role ...`: only those output folders, for a quicker look; CI builds them all. */
const selected = process.argv.length > 2 ? BUNDLES.filter(([, out]) => process.argv.slice(2).includes(out)) : BUNDLES;

async function main() {
  // A fixed path: ncc names each module by its path in comments, so a random one would differ between builds.
  const work = join(root, '.build', 'bundle');
  await rm(work, { recursive: true, force: true });
  try {
    const compiled = join(work, 'js');
    const staged = join(work, 'dist');
    await compile(compiled);
    for (const [entry, out] of selected) {
      const files = await bundle(compiled, entry);
      for (const [name, source] of Object.entries(files)) {
        const target = join(staged, out, name);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, source);
      }
      const size = Buffer.byteLength(files['index.js']);
      console.log(`${relative(root, join(dist, out, 'index.js'))}  ${Math.round(size / 1024)} kB`);
    }
    if (selected === BUNDLES) {
      // Replaced whole, so that a bundle no longer built does not linger in dist/.
      await rm(dist, { recursive: true, force: true });
      await rename(staged, dist);
    } else {
      for (const [, out] of selected) {
        const folder = join(dist, out);
        // The bundle's own files only: build-and-push/post is a folder inside build-and-push's.
        for (const name of await readdir(folder).catch(() => [])) {
          if (!(await stat(join(folder, name))).isDirectory()) await rm(join(folder, name));
        }
        await mkdir(folder, { recursive: true });
        for (const name of await readdir(join(staged, out))) {
          if (!(await stat(join(staged, out, name))).isDirectory()) await rename(join(staged, out, name), join(folder, name));
        }
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
    // Only when empty: `.build` is also where `tsc` writes by default.
    await rmdir(join(root, '.build')).catch(() => undefined);
  }
}

main().catch((error) => {
  console.error(`bundle: ${error.message}`);
  process.exitCode = 1;
});
