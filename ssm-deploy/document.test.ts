/**
 * The shipped NixOS-Deploy document: its parameters, the patterns that guard them (checked with the very regular
 * expressions the document carries, in JavaScript as the sandbox reads them and in Java as the SSM API does), and
 * the parameters a deploy passes.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseCommandDocument } from '../sandbox/services/ssm/documents.js';
import { PUBLIC_KEY_LIST_SOURCE, SUBSTITUTER_LIST_SOURCE } from '../shared/store-uri.js';
import { DEPLOY_STEP, DOCUMENT, DOCUMENT_CONTENT, DOCUMENT_HASH, DOCUMENT_PARAMETERS } from './document.js';
import { documentParameters } from './plan.js';
import { readInputs } from './inputs.js';

const FILE = new URL('./nixos-deploy.json', import.meta.url);
const SCRIPT_FILE = new URL('./nixos-deploy.sh', import.meta.url);
const GENERATOR = new URL('../scripts/ssm-document.mjs', import.meta.url).pathname;
const SOURCES = ['nixos-deploy.sh', 'nixos-deploy.parameters.json', 'nixos-deploy.json'];
const SCRIPT = DOCUMENT.mainSteps[0].inputs.runCommand.join('\n');
const STORE_PATH = '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05';
const KEY = `cache.example.org-1:${'Ab+/'.repeat(10)}AbC=`;
const pattern = (name: keyof typeof DOCUMENT.parameters) => DOCUMENT.parameters[name].allowedPattern!;
const PATTERNED = DOCUMENT_PARAMETERS.filter((name) => DOCUMENT.parameters[name].allowedPattern !== undefined);

/** [parameter, value, accepted]: what a deploy sends, and what an attacker might. */
const VALUES: Array<[keyof typeof DOCUMENT.parameters, string, boolean]> = [
  ['storePath', STORE_PATH, true],
  ['storePath', `/nix/store/${'a'.repeat(32)}-${'n'.repeat(211)}`, true],
  ['storePath', `/nix/store/${'a'.repeat(32)}-${'n'.repeat(212)}`, false],
  ['storePath', '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpe-x', false],
  ['storePath', `${STORE_PATH}'; reboot; '`, false],
  ['storePath', `${STORE_PATH}$(reboot)`, false],
  ['storePath', `${STORE_PATH} --option`, false],
  ['storePath', `/nix/store/../../etc/${'a'.repeat(23)}-x`, false],
  ['substituters', '', true],
  ['substituters', 's3://cache?region=eu-central-1&priority=10', true],
  ['substituters', 's3://cache?endpoint=minio.internal:9000&scheme=http&profile=deploy', true],
  ['substituters', 'file:///var/cache/nix https://cache.nixos.org', true],
  // Store settings a reader never needs: any of them could weaken the signature check, so all are refused.
  ['substituters', 'https://cache.example.org?trusted=1', false],
  ['substituters', 'https://cache.example.org?secret-key=/etc/nix/key.sec', false],
  ['substituters', 'https://cache.example.org?require-sigs=false', false],
  ['substituters', 'https://cache.example.org?want-mass-query=true', false],
  ['substituters', 'https://cache.example.org?%74rusted=1', false],
  ['substituters', 'https://cache.example.org?priority=1&trusted=1', false],
  ['substituters', 's3://cache?region=eu-central-1&compression=zstd', false],
  ['substituters', 'file:///var/cache/nix https://cache.example.org?trusted=1', false],
  ['substituters', 'https://cache.example.org#trusted=1', false],
  ['substituters', '/var/cache/nix', false],
  ['substituters', 'https://a b', false],
  ['substituters', 's3://cache?x=$(reboot)', false],
  ['substituters', "s3://cache?x='", false],
  ['substituters', 'https://a  https://b', false],
  ['trustedPublicKeys', `${KEY} ${KEY}`, true],
  ['trustedPublicKeys', `${KEY.slice(0, -1)}==`, false],
  ['trustedPublicKeys', 'k:$(reboot)', false],
  ['trustedPublicKeys', `deploy@example.org-1:${'A'.repeat(43)}=`, true],
  ['trustedPublicKeys', `a/b:${'A'.repeat(43)}=`, false],
  ['trustedPublicKeys', `:${'A'.repeat(43)}=`, false],
  ['healthCheckUnits', 'nginx.service prometheus-node-exporter.service getty@tty1.service', true],
  ['healthCheckUnits', 'multi-user.target', true],
  ['healthCheckUnits', 'nginx', false],
  ['healthCheckUnits', 'nginx.service;reboot', false],
  ['healthCheckUnits', '$(reboot).service', false],
  ['healthCheckUnits', '`reboot`.service', false],
  ['healthCheckUrl', 'http://localhost', true],
  ['healthCheckUrl', 'http://127.0.0.1:9090/-/healthy?x=1#top', true],
  ['healthCheckUrl', 'http://localhost.attacker.example/', false],
  ['healthCheckUrl', 'http://127.0.0.1@169.254.169.254/', false],
  ['healthCheckUrl', 'https://localhost/', false],
  ['healthCheckUrl', "http://localhost/'; reboot; '", false],
  ['healthCheckUrl', 'http://localhost/$(reboot)', false],
  ['healthCheckUrl', 'http://localhost/a b', false],
  ['healthCheckTimeoutSeconds', '1', true],
  ['healthCheckTimeoutSeconds', '3600', true],
  ['healthCheckTimeoutSeconds', '3601', false],
  ['healthCheckTimeoutSeconds', '0', false],
  ['healthCheckTimeoutSeconds', 'a[$(reboot)]', false],
  ['executionTimeout', '172800', true],
  ['executionTimeout', '99999', true],
  ['executionTimeout', '172801', false],
  ['executionTimeout', '{{ executionTimeout }}', false],
];

describe('the NixOS-Deploy document', () => {
  it('is sent exactly as shipped, and pinned by the SHA-256 of that text', () => {
    const shipped = readFileSync(FILE, 'utf8');
    expect(DOCUMENT_CONTENT).toBe(shipped);
    expect(DOCUMENT_HASH).toBe(createHash('sha256').update(shipped).digest('hex'));
  });

  it('is a valid schema 2.2 Command document with one Linux shell step', () => {
    const parsed = parseCommandDocument(DOCUMENT_CONTENT, 'JSON');
    expect(parsed.steps).toEqual([{ name: DEPLOY_STEP, action: 'aws:runShellScript', timeoutSeconds: '{{ executionTimeout }}' }]);
    expect(Object.keys(DOCUMENT.parameters).sort()).toEqual([...DOCUMENT_PARAMETERS].sort());
  });

  it.each(DOCUMENT_PARAMETERS)('passes %s as an environment variable, held by a pattern or a list of values', (name) => {
    const definition = DOCUMENT.parameters[name];
    expect(definition).toMatchObject({ type: 'String', interpolationType: 'ENV_VAR' });
    expect(definition.allowedPattern !== undefined || definition.allowedValues !== undefined).toBe(true);
    if (definition.default !== undefined && definition.allowedPattern) {
      expect(definition.default).toMatch(new RegExp(definition.allowedPattern));
    }
  });

  it('never splices a parameter into the script: it reads each one from its SSM_ variable', () => {
    expect(SCRIPT).not.toContain('{{');
    const used = DOCUMENT_PARAMETERS.filter((name) => name !== 'executionTimeout');
    for (const name of used) expect(SCRIPT).toContain(`SSM_${name}`);
  });

  it("checks each value again in the script with the document's own pattern", () => {
    const checks = Object.fromEntries([...SCRIPT.matchAll(/^check (\w+) "\$\w+" '([^']*)'$/gm)].map((m) => [m[1], m[2]]));
    expect(checks).toEqual(Object.fromEntries(PATTERNED.map((name) => [name, pattern(name)])));
  });

  it('holds substituters to the one store-URI rule (shared/store-uri.ts), in its pattern and in its script', () => {
    expect(pattern('substituters')).toBe(SUBSTITUTER_LIST_SOURCE);
    expect(SCRIPT).toContain(`check substituters "$substituters" '${SUBSTITUTER_LIST_SOURCE}'`);
  });

  it('holds trusted public keys to the one public-key rule (shared/store-uri.ts), in its pattern and in its script', () => {
    expect(pattern('trustedPublicKeys')).toBe(PUBLIC_KEY_LIST_SOURCE);
    expect(SCRIPT).toContain(`check trustedPublicKeys "$trusted_keys" '${PUBLIC_KEY_LIST_SOURCE}'`);
  });

  it.each(VALUES)('%s %j: accepted %s', (name, value, accepted) => {
    expect(new RegExp(pattern(name)).test(value)).toBe(accepted);
  });

  it('uses only regular expression syntax that Java, Go (RE2) and POSIX ERE read alike', () => {
    // Lookaround, backreferences, possessive or lazy quantifiers, escapes like \d and \z differ between them.
    for (const name of PATTERNED) expect(pattern(name)).toMatch(/^[\^$|()[\]{}A-Za-z0-9_.:/?#@!&+,;=%~*' -]+$/);
    for (const name of PATTERNED) expect(pattern(name)).not.toMatch(/\(\?|[*+?}][+?]|\\/);
  });

  const java = spawnSync('java', ['-version']).status === 0;
  (java ? it : it.skip)('answers the same in Java, as the SSM API reads the patterns', () => {
    const dir = mkdtempSync(join(tmpdir(), 'patterns-'));
    try {
      const source = join(dir, 'Patterns.java');
      writeFileSync(
        source,
        `import java.util.*; import java.util.regex.*;
public class Patterns { public static void main(String[] a) { Scanner in = new Scanner(System.in);
  Base64.Decoder d = Base64.getDecoder();
  while (in.hasNextLine()) { String[] f = in.nextLine().split(" ");
    String p = new String(d.decode(f[0])), v = f.length > 1 ? new String(d.decode(f[1])) : "";
    System.out.println(Pattern.compile(p).matcher(v).find() ? "1" : "0"); } } }`,
      );
      const b64 = (text: string) => Buffer.from(text).toString('base64');
      const cases = [...VALUES, ['healthCheckUrl', 'http://localhost/\n', false] as const];
      const input = cases.map(([name, value]) => `${b64(pattern(name))} ${b64(value)}`).join('\n');
      const run = spawnSync('java', [source], { input, encoding: 'utf8' });
      expect(run.stderr).toBe('');
      const answers = run.stdout.trim().split('\n').map((line) => line === '1');
      expect(answers.slice(0, VALUES.length)).toEqual(VALUES.map(([, , accepted]) => accepted));
      // Java's `$` also matches before a final newline: why the script checks every value again.
      expect(answers[VALUES.length]).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('accepts every value the action accepts as input', () => {
    const inputs = readInputs(
      (name) =>
        ({
          targets: 'tag:Role=web',
          'store-path': STORE_PATH,
          action: 'reboot',
          substituters: 's3://cache?region=eu-central-1 https://cache.nixos.org',
          'trusted-public-keys': `${KEY}\n${KEY}`,
          'health-check-units': 'nginx.service\ngetty@tty1.service',
          'health-check-url': 'http://127.0.0.1:8080/health?x=1',
          'health-check-timeout-seconds': '3600',
          'rollback-on-failure': 'false',
          'execution-timeout-seconds': '172800',
        })[name] ?? '',
      { AWS_REGION: 'eu-central-1' },
    );
    const parameters = documentParameters(inputs);
    for (const [name, [value]] of Object.entries(parameters) as Array<[keyof typeof DOCUMENT.parameters, string[]]>) {
      const definition = DOCUMENT.parameters[name];
      if (definition.allowedValues) expect(definition.allowedValues).toContain(value);
      else expect(value).toMatch(new RegExp(pattern(name)));
    }
    expect(Object.keys(parameters).sort()).toEqual([...DOCUMENT_PARAMETERS].sort());
  });
});

describe('the generated document (scripts/ssm-document.mjs)', () => {
  /** The generator run on a copy of the sources, `change` applied to them first: its exit code, stderr and JSON. */
  function generate(args: string[], change: (dir: string) => void = () => undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'ssm-document-'));
    try {
      for (const name of SOURCES) copyFileSync(new URL(`./${name}`, import.meta.url), join(dir, name));
      change(dir);
      const run = spawnSync(process.execPath, [GENERATOR, ...args, '--dir', dir], { encoding: 'utf8' });
      const json = existsSync(join(dir, 'nixos-deploy.json')) ? readFileSync(join(dir, 'nixos-deploy.json'), 'utf8') : undefined;
      return { code: run.status, stderr: run.stderr, json };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const edit = (name: string, from: string, to: string) => (dir: string) => {
    const text = readFileSync(join(dir, name), 'utf8');
    expect(text).toContain(from);
    writeFileSync(join(dir, name), text.replace(from, to));
  };

  it('is committed exactly as the generator makes it from nixos-deploy.sh and the parameters', () => {
    const check = spawnSync(process.execPath, [GENERATOR, '--check'], { encoding: 'utf8' });
    expect({ code: check.status, stderr: check.stderr }).toEqual({ code: 0, stderr: '' });
    expect(generate([])).toEqual({ code: 0, stderr: '', json: readFileSync(FILE, 'utf8') });
  });

  it("carries the script's text line for line", () => {
    expect(`${SCRIPT}\n`).toBe(readFileSync(SCRIPT_FILE, 'utf8'));
  });

  it.each<[string, (dir: string) => void, string | undefined]>([
    ['a changed script line', edit('nixos-deploy.sh', 'umask 022', 'umask 077'), readFileSync(FILE, 'utf8')],
    ['a line added to the script', edit('nixos-deploy.sh', 'umask 022\n', 'umask 022\n:\n'), readFileSync(FILE, 'utf8')],
    ['a changed parameter', edit('nixos-deploy.parameters.json', '"default": "60"', '"default": "61"'), readFileSync(FILE, 'utf8')],
    ['a JSON edited by hand', edit('nixos-deploy.json', '"default": "60"', '"default": "61"'), readFileSync(FILE, 'utf8').replace('"default": "60"', '"default": "61"')],
    ['a missing JSON', (dir) => rmSync(join(dir, 'nixos-deploy.json')), undefined],
  ])('--check fails on %s, naming the file and the fix, and writes nothing', (_case, change, left) => {
    const checked = generate(['--check'], change);
    expect(checked.code).toBe(1);
    expect(checked.stderr).toMatch(/nixos-deploy\.json is not what nixos-deploy\.sh and nixos-deploy\.parameters\.json make: run npm run build/);
    expect(checked.json).toBe(left);
  });

  it.each<[string, (dir: string) => void, RegExp]>([
    ['{{ }} in the script, which SSM would interpolate', edit('nixos-deploy.sh', 'umask 022', 'umask {{ action }}'), /line 9 holds '\{\{'/],
    [
      'a script without its final newline',
      (dir) => writeFileSync(join(dir, 'nixos-deploy.sh'), readFileSync(SCRIPT_FILE, 'utf8').trimEnd()),
      /must end with a newline/,
    ],
  ])('refuses %s', (_case, change, message) => {
    const refused = generate([], change);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(message);
    expect(refused.json).toBe(readFileSync(FILE, 'utf8'));
  });

  it('makes the same bytes every time', () => {
    expect(generate([]).json).toBe(generate([]).json);
  });
});

describe('documentParameters', () => {
  const base = readInputs((name) => ({ targets: 'tag:Role=web', 'store-path': STORE_PATH })[name] ?? '', {
    AWS_REGION: 'eu-central-1',
  });

  const defaults = {
    storePath: [STORE_PATH],
    action: ['switch'],
    healthCheckTimeoutSeconds: ['60'],
    rollbackOnFailure: ['true'],
    executionTimeout: ['3600'],
  };

  it.each<[string, Partial<typeof base>, Record<string, string[]>]>([
    ['the defaults, leaving out what is empty', {}, defaults],
    [
      'lists joined with single spaces',
      { healthCheckUnits: ['a.service', 'b.service'], substituters: ['s3://x', 'https://y'] },
      { ...defaults, healthCheckUnits: ['a.service b.service'], substituters: ['s3://x https://y'] },
    ],
    [
      'a URL, a reboot, no rollback',
      { healthCheckUrl: 'http://localhost/', action: 'reboot', rollbackOnFailure: false },
      { ...defaults, healthCheckUrl: ['http://localhost/'], action: ['reboot'], rollbackOnFailure: ['false'] },
    ],
  ])('%s', (_case, changes, expected) => {
    expect(documentParameters({ ...base, ...changes })).toEqual(expected);
  });
});
