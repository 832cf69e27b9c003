/**
 * Every shell script in the repository (tracked `*.sh` files and files with a sh/bash shebang) parses with `bash -n`
 * and passes ShellCheck (Debian's `shellcheck`, installed by scripts/install-deps.sh). Instance scripts run as root
 * on machines nobody watches: a quoting slip there is a boot fault or worse.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function shellScripts(): string[] {
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  return tracked.filter((file) => {
    if (file.startsWith('dist/') || file.startsWith('node_modules/')) return false;
    if (file.endsWith('.sh')) return true;
    if (/\.(ts|js|mjs|cjs|json|md|ya?ml|nix|lock)$/.test(file)) return false;
    const head = readFileSync(`${ROOT}/${file}`, 'latin1').slice(0, 80);
    return /^#!\s*\/(usr\/)?bin\/(env\s+)?(ba)?sh\b/.test(head);
  });
}

const scripts = shellScripts();

describe('shell scripts', () => {
  it('include the instance and CI scripts', () => {
    expect(scripts).toEqual(expect.arrayContaining(['instance-refresh/user-data.sh', 'ssm-deploy/nixos-deploy.sh', '.ci/run', 'scripts/install-deps.sh']));
  });

  it('have ShellCheck to check them', () => {
    const version = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
    if (version.error) throw new Error('shellcheck is not installed: run scripts/install-deps.sh as root (Debian: apt-get install shellcheck)');
    expect(version.status).toBe(0);
  });

  it.each(scripts)('%s parses (bash -n) and passes ShellCheck', (file) => {
    const parse = spawnSync('bash', ['-n', file], { cwd: ROOT, encoding: 'utf8' });
    expect(parse.stderr).toBe('');
    expect(parse.status).toBe(0);
    const check = spawnSync('shellcheck', ['--format=gcc', file], { cwd: ROOT, encoding: 'utf8' });
    expect(check.stdout + (check.error ? String(check.error) : '')).toBe('');
    expect(check.status).toBe(0);
  });
});
