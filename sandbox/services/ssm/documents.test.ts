import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { DocumentStore, getDocument, MAX_DOCUMENT_BYTES, parseCommandDocument } from './documents.js';
import { DEPLOY_CONTENT, DEPLOY_DOCUMENT } from './fixtures.js';

const now = new Date('2026-01-01T00:00:00Z');
const step = { action: 'aws:runShellScript', name: 'run', inputs: { runCommand: ['true'] } };
const doc = (overrides: Record<string, unknown>) => JSON.stringify({ schemaVersion: '2.2', mainSteps: [step], ...overrides });

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('parseCommandDocument', () => {
  it('reads parameters, steps and platforms', () => {
    const parsed = parseCommandDocument(DEPLOY_CONTENT, 'JSON');
    expect(parsed.parameters.map((p) => [p.name, p.type])).toEqual([
      ['storePath', 'String'],
      ['action', 'String'],
      ['substituters', 'String'],
      ['units', 'StringList'],
      ['executionTimeout', 'String'],
    ]);
    expect(parsed.steps).toEqual([{ name: 'deploy', action: 'aws:runShellScript', timeoutSeconds: '{{ executionTimeout }}' }]);
    expect(parsed.platformTypes).toEqual(['Linux', 'MacOS']);
  });

  it('reads YAML', () => {
    expect(parseCommandDocument(toYaml(DEPLOY_DOCUMENT), 'YAML')).toEqual(parseCommandDocument(DEPLOY_CONTENT, 'JSON'));
  });

  it.each([
    ['not JSON', '{', 'InvalidDocumentContent'],
    ['not an object', '[]', 'InvalidDocumentContent'],
    ['no schemaVersion', JSON.stringify({ mainSteps: [step] }), 'InvalidDocumentContent'],
    ['schema 1.2', doc({ schemaVersion: '1.2' }), 'InvalidDocumentSchemaVersion'],
    ['no steps', doc({ mainSteps: [] }), 'InvalidDocumentContent'],
    ['an unknown plugin', doc({ mainSteps: [{ ...step, action: 'aws:fly' }] }), 'InvalidDocumentContent'],
    ['a step without a name', doc({ mainSteps: [{ action: step.action, inputs: step.inputs }] }), 'InvalidDocumentContent'],
    ['a shell step without runCommand', doc({ mainSteps: [{ ...step, inputs: {} }] }), 'InvalidDocumentContent'],
    ['two steps with one name', doc({ mainSteps: [step, step] }), 'InvalidDocumentContent'],
    ['a parameter of an unknown type', doc({ parameters: { a: { type: 'Float' } } }), 'InvalidDocumentContent'],
    ['a parameter with an unknown property', doc({ parameters: { a: { type: 'String', pattern: 'x' } } }), 'InvalidDocumentContent'],
    ['an allowedPattern that does not compile', doc({ parameters: { a: { type: 'String', allowedPattern: '(' } } }), 'InvalidDocumentContent'],
    ['empty allowedValues', doc({ parameters: { a: { type: 'String', allowedValues: [] } } }), 'InvalidDocumentContent'],
    ['an unknown interpolationType', doc({ parameters: { a: { type: 'String', interpolationType: 'X' } } }), 'InvalidDocumentContent'],
    [
      'a reference to an undefined parameter',
      doc({ mainSteps: [{ ...step, inputs: { runCommand: ['echo {{ missing }}'] } }] }),
      'InvalidDocumentContent',
    ],
  ])('rejects %s', (_, content, code) => {
    expect(codeOf(() => parseCommandDocument(content, 'JSON'))).toBe(code);
  });

  it('accepts references to Parameter Store', () => {
    const content = doc({ mainSteps: [{ ...step, inputs: { runCommand: ['echo {{ ssm:/app/x }}'] } }] });
    expect(codeOf(() => parseCommandDocument(content, 'JSON'))).toBeUndefined();
  });
});

describe('DocumentStore', () => {
  const create = (store: DocumentStore, content = DEPLOY_CONTENT) =>
    store.create({ Name: 'NixOS-Deploy', Content: content, DocumentType: 'Command' }, now);
  const changed = DEPLOY_CONTENT.replace('Switch an instance', 'Switch a machine');

  it('creates version 1 with the SHA-256 of the content', () => {
    const { document, version } = create(new DocumentStore());
    expect(document.defaultVersion).toBe(1);
    expect(version).toMatchObject({ version: 1, format: 'JSON', sha256: createHash('sha256').update(DEPLOY_CONTENT).digest('hex') });
  });

  it('adds versions without moving the default', () => {
    const store = new DocumentStore();
    create(store);
    expect(store.update({ Name: 'NixOS-Deploy', Content: changed, DocumentVersion: '$LATEST' }, now).version.version).toBe(2);
    expect(store.resolve('NixOS-Deploy', undefined).version.version).toBe(1);
    expect(store.resolve('NixOS-Deploy', '$LATEST').version.version).toBe(2);
    store.setDefault('NixOS-Deploy', '2');
    expect(store.resolve('NixOS-Deploy', '$DEFAULT').version.content).toBe(changed);
    expect(store.resolve(`arn:aws:ssm:us-east-1:123456789012:document/NixOS-Deploy`, '1').version.content).toBe(DEPLOY_CONTENT);
  });

  it.each([
    ['a second document of the same name', (s: DocumentStore) => create(s), 'DocumentAlreadyExists'],
    ['a reserved name', (s: DocumentStore) => s.create({ Name: 'AWS-Mine', Content: DEPLOY_CONTENT }, now), 'ValidationException'],
    ['an Automation document', (s: DocumentStore) => s.create({ Name: 'Auto', Content: DEPLOY_CONTENT, DocumentType: 'Automation' }, now), 'InvalidDocumentContent'],
    ['a TEXT document', (s: DocumentStore) => s.create({ Name: 'Text', Content: DEPLOY_CONTENT, DocumentFormat: 'TEXT' }, now), 'InvalidDocumentContent'],
    ['content over 64 KB', (s: DocumentStore) => s.create({ Name: 'Big', Content: ' '.repeat(MAX_DOCUMENT_BYTES + 1) }, now), 'MaxDocumentSizeExceeded'],
    ['an update with unchanged content', (s: DocumentStore) => s.update({ Name: 'NixOS-Deploy', Content: DEPLOY_CONTENT }, now), 'DuplicateDocumentContent'],
    ['an update of an unknown document', (s: DocumentStore) => s.update({ Name: 'Nope', Content: changed }, now), 'InvalidDocument'],
    ['an update based on a version that does not exist', (s: DocumentStore) => s.update({ Name: 'NixOS-Deploy', Content: changed, DocumentVersion: '2' }, now), 'InvalidDocumentVersion'],
    ['an update based on $DEFAULT', (s: DocumentStore) => s.update({ Name: 'NixOS-Deploy', Content: changed, DocumentVersion: '$DEFAULT' }, now), 'InvalidDocumentVersion'],
    ['a version that does not exist', (s: DocumentStore) => s.resolve('NixOS-Deploy', '7'), 'InvalidDocumentVersion'],
    ['a version name that does not exist', (s: DocumentStore) => s.resolve('NixOS-Deploy', undefined, 'v9'), 'InvalidDocumentVersion'],
    ['a default version that does not exist', (s: DocumentStore) => s.setDefault('NixOS-Deploy', '2'), 'InvalidDocumentVersion'],
  ])('refuses %s', (_, act, code) => {
    const store = new DocumentStore();
    create(store);
    expect(codeOf(() => act(store))).toBe(code);
  });

  it('refuses an update once the document has 1000 versions', () => {
    const store = new DocumentStore();
    create(store);
    for (let i = 2; i <= 1000; i++) {
      store.update({ Name: 'NixOS-Deploy', Content: DEPLOY_CONTENT.replace('closure', `closure ${i}`) }, now);
    }
    expect(codeOf(() => store.update({ Name: 'NixOS-Deploy', Content: changed }, now))).toBe('DocumentVersionLimitExceeded');
  });

  it('finds versions by name', () => {
    const store = new DocumentStore();
    store.create({ Name: 'Named', Content: DEPLOY_CONTENT, VersionName: 'v1' }, now);
    store.update({ Name: 'Named', Content: changed, VersionName: 'v2' }, now);
    expect(store.resolve('Named', undefined, 'v2').version.version).toBe(2);
    expect(codeOf(() => store.update({ Name: 'Named', Content: DEPLOY_CONTENT.replace('closure', 'x'), VersionName: 'v1' }, now))).toBe(
      'DuplicateDocumentVersionName',
    );
  });

  it('converts between JSON and YAML on the way out', () => {
    const store = new DocumentStore();
    const { document, version } = create(store);
    const yaml = getDocument(document, version, 'YAML');
    expect(yaml.DocumentFormat).toBe('YAML');
    expect(parseYaml(yaml.Content as string)).toEqual(DEPLOY_DOCUMENT);
    expect(getDocument(document, version, undefined).Content).toBe(DEPLOY_CONTENT);
  });
});
