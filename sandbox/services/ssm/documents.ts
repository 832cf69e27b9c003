/**
 * SSM documents: versioned Command documents (schema 2.2), validated on the way in as the service does, and
 * described the way DescribeDocument and GetDocument answer.
 */
import { createHash } from 'node:crypto';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { AwsError } from '../../errors.js';

export type DocumentFormat = 'JSON' | 'YAML';
export const PARAMETER_TYPES = ['String', 'StringList', 'Boolean', 'Integer', 'StringMap', 'MapList'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

export interface DocumentParameter {
  name: string;
  type: ParameterType;
  description?: string;
  default?: unknown;
  allowedValues?: string[];
  allowedPattern?: string;
  minChars?: number;
  maxChars?: number;
  minItems?: number;
  maxItems?: number;
}

export interface DocumentStep {
  name: string;
  action: string;
  /** The step's execution timeout as written, possibly a `{{ parameter }}` reference. */
  timeoutSeconds?: string | number;
}

export interface CommandDocument {
  schemaVersion: string;
  description?: string;
  parameters: DocumentParameter[];
  /** In order; the step names are the plugin names of an invocation. */
  steps: DocumentStep[];
  platformTypes: string[];
}

export interface DocumentVersion {
  version: number;
  versionName?: string;
  content: string;
  format: DocumentFormat;
  document: CommandDocument;
  /** SHA-256 of the content as sent, hex: what `SendCommand`'s `DocumentHash` is checked against. */
  sha256: string;
  sha1: string;
  createdDate: Date;
}

export interface SsmDocument {
  name: string;
  displayName?: string;
  targetType?: string;
  tags: { Key: string; Value: string }[];
  defaultVersion: number;
  versions: DocumentVersion[];
}

/** The longest a document's content may be. */
export const MAX_DOCUMENT_BYTES = 64 * 1024;
export const MAX_DOCUMENT_VERSIONS = 1000;
const PARAMETER_KEYS = new Set([
  'type',
  'description',
  'default',
  'allowedValues',
  'allowedPattern',
  'displayType',
  'minItems',
  'maxItems',
  'minChars',
  'maxChars',
  'interpolationType',
]);
/** Linux and macOS plugins of schema 2.2 and the platforms they run on. */
const ACTIONS: Record<string, string[]> = {
  'aws:runShellScript': ['Linux', 'MacOS'],
  'aws:runPowerShellScript': ['Windows', 'Linux', 'MacOS'],
  'aws:runDocument': ['Windows', 'Linux', 'MacOS'],
  'aws:downloadContent': ['Windows', 'Linux', 'MacOS'],
  'aws:configurePackage': ['Windows', 'Linux', 'MacOS'],
  'aws:softwareInventory': ['Windows', 'Linux', 'MacOS'],
  'aws:updateSsmAgent': ['Windows', 'Linux', 'MacOS'],
  'aws:runDockerAction': ['Windows', 'Linux'],
  'aws:configureDocker': ['Windows', 'Linux'],
};

const invalidContent = (message: string) => new AwsError('InvalidDocumentContent', message);
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'string');

function parseContent(content: string, format: DocumentFormat): unknown {
  try {
    return format === 'YAML' ? parseYaml(content) : JSON.parse(content);
  } catch (error) {
    throw invalidContent(`${format} not well-formed: ${(error as Error).message.split('\n')[0]}`);
  }
}

function parseParameter(name: string, raw: unknown): DocumentParameter {
  if (!/^[a-zA-Z0-9_]+$/.test(name)) throw invalidContent(`Parameter name ${name} is not valid.`);
  if (!isObject(raw)) throw invalidContent(`Parameter ${name} must be an object.`);
  const unknown = Object.keys(raw).filter((key) => !PARAMETER_KEYS.has(key));
  if (unknown.length > 0) throw invalidContent(`Parameter ${name} has unknown properties: ${unknown.join(', ')}.`);
  const type = raw.type as ParameterType;
  if (!PARAMETER_TYPES.includes(type)) {
    throw invalidContent(`Parameter ${name} has type ${String(raw.type)}; use one of ${PARAMETER_TYPES.join(', ')}.`);
  }
  const parameter: DocumentParameter = { name, type };
  if (raw.description !== undefined) {
    if (typeof raw.description !== 'string') throw invalidContent(`Parameter ${name}: description must be a string.`);
    parameter.description = raw.description;
  }
  if (raw.default !== undefined) parameter.default = raw.default;
  if (raw.allowedValues !== undefined) {
    if (!isStringArray(raw.allowedValues) || raw.allowedValues.length === 0) {
      throw invalidContent(`Parameter ${name}: allowedValues must be a non-empty list of strings.`);
    }
    parameter.allowedValues = raw.allowedValues;
  }
  if (raw.allowedPattern !== undefined) {
    if (typeof raw.allowedPattern !== 'string' || !['String', 'StringList'].includes(type)) {
      throw invalidContent(`Parameter ${name}: allowedPattern must be a string on a String or StringList parameter.`);
    }
    try {
      new RegExp(raw.allowedPattern);
    } catch (error) {
      const reason = (error as Error).message;
      throw invalidContent(`Parameter ${name}: allowedPattern is not a valid regular expression: ${reason}`);
    }
    parameter.allowedPattern = raw.allowedPattern;
  }
  for (const key of ['minChars', 'maxChars', 'minItems', 'maxItems'] as const) {
    if (raw[key] === undefined) continue;
    if (!Number.isInteger(raw[key]) || (raw[key] as number) < 0) {
      throw invalidContent(`Parameter ${name}: ${key} must be a non-negative integer.`);
    }
    parameter[key] = raw[key] as number;
  }
  if (raw.interpolationType !== undefined && raw.interpolationType !== 'ENV_VAR') {
    throw invalidContent(`Parameter ${name}: interpolationType must be ENV_VAR.`);
  }
  return parameter;
}

/** Parses and validates a Command document; throws the error CreateDocument and UpdateDocument answer. */
export function parseCommandDocument(content: string, format: DocumentFormat): CommandDocument {
  const raw = parseContent(content, format);
  if (!isObject(raw)) throw invalidContent('The document must be an object.');
  if (raw.schemaVersion === undefined) throw invalidContent('schemaVersion is required.');
  if (raw.schemaVersion !== '2.2') {
    throw new AwsError(
      'InvalidDocumentSchemaVersion',
      `Document schema version ${String(raw.schemaVersion)} is not supported here; Command documents use 2.2.`,
    );
  }
  if (raw.description !== undefined && typeof raw.description !== 'string') {
    throw invalidContent('description must be a string.');
  }
  if (raw.parameters !== undefined && !isObject(raw.parameters)) throw invalidContent('parameters must be an object.');
  const parameters = Object.entries(raw.parameters ?? {}).map(([name, value]) => parseParameter(name, value));

  if (!Array.isArray(raw.mainSteps) || raw.mainSteps.length === 0) {
    throw invalidContent('mainSteps must be a non-empty list.');
  }
  const steps = raw.mainSteps.map((step: unknown, index: number): DocumentStep => {
    if (!isObject(step)) throw invalidContent(`mainSteps[${index}] must be an object.`);
    const { action, name, inputs } = step;
    if (typeof action !== 'string' || !ACTIONS[action]) {
      throw invalidContent(`mainSteps[${index}]: action ${String(action)} is not a Command document plugin.`);
    }
    if (typeof name !== 'string' || !/^[a-zA-Z0-9_.-]+$/.test(name)) {
      throw invalidContent(`mainSteps[${index}]: name must be letters, digits, _ . or -.`);
    }
    if (!isObject(inputs)) throw invalidContent(`mainSteps[${index}] (${name}): inputs must be an object.`);
    if (
      action === 'aws:runShellScript' &&
      !(typeof inputs.runCommand === 'string' || (isStringArray(inputs.runCommand) && inputs.runCommand.length > 0))
    ) {
      throw invalidContent(`mainSteps[${index}] (${name}): runCommand must be a string or a list of strings.`);
    }
    const timeoutSeconds = inputs.timeoutSeconds as string | number | undefined;
    if (timeoutSeconds !== undefined && typeof timeoutSeconds !== 'string' && typeof timeoutSeconds !== 'number') {
      throw invalidContent(`mainSteps[${index}] (${name}): timeoutSeconds must be a number or a parameter reference.`);
    }
    return { name, action, timeoutSeconds };
  });
  const names = steps.map((s) => s.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw invalidContent(`Step name ${duplicate} is used more than once.`);

  const defined = new Set(parameters.map((p) => p.name));
  for (const [, reference] of JSON.stringify(raw.mainSteps).matchAll(/\{\{\s*([^{}\s]+)\s*\}\}/g)) {
    if (!reference.includes(':') && !defined.has(reference)) {
      throw invalidContent(`Parameter {{ ${reference} }} is used but not defined in parameters.`);
    }
  }
  const platformTypes = [...new Set(steps.flatMap((s) => ACTIONS[s.action]))].filter((platform) =>
    steps.every((s) => ACTIONS[s.action].includes(platform)),
  );
  const description = raw.description as string | undefined;
  return { schemaVersion: raw.schemaVersion, description, parameters, steps, platformTypes };
}

/** `Name` as the document operations accept it: a name, or for reads an ARN ending in `document/<name>`. */
export function documentName(value: unknown, allowArn: boolean): string {
  return allowArn ? (value as string).replace(/^arn:[^:]+:ssm:[^:]*:[^:]*:document\//, '') : (value as string);
}


function documentFormat(value: unknown): DocumentFormat {
  if (value === 'TEXT') throw invalidContent('Command documents are JSON or YAML, not TEXT.');
  return (value as DocumentFormat | undefined) ?? 'JSON';
}

function contentOf(value: unknown): string {
  if (Buffer.byteLength(value as string, 'utf8') > MAX_DOCUMENT_BYTES) {
    throw new AwsError('MaxDocumentSizeExceeded', 'The size limit of a document is 64 KB.');
  }
  return value as string;
}

function newVersion(
  number: number,
  content: string,
  format: DocumentFormat,
  versionName: unknown,
  now: Date,
): DocumentVersion {
  return {
    version: number,
    versionName: versionName as string | undefined,
    content,
    format,
    document: parseCommandDocument(content, format),
    sha256: createHash('sha256').update(content, 'utf8').digest('hex'),
    sha1: createHash('sha1').update(content, 'utf8').digest('hex'),
    createdDate: now,
  };
}

/** The account's Command documents, by name. Inputs are the wire request shapes. */
export class DocumentStore {
  private readonly documents = new Map<string, SsmDocument>();

  create(request: Record<string, unknown>, now: Date): { document: SsmDocument; version: DocumentVersion } {
    const name = documentName(request.Name, false);
    const content = contentOf(request.Content);
    if (/^(aws|amazon|amzn)/i.test(name)) {
      const message = `Document names beginning with aws, amazon or amzn are reserved: ${name}`;
      throw new AwsError('ValidationException', message);
    }
    if (request.DocumentType !== undefined && request.DocumentType !== 'Command') {
      throw invalidContent(`The sandbox serves Command documents only, not ${String(request.DocumentType)}.`);
    }
    if (this.documents.has(name)) throw new AwsError('DocumentAlreadyExists', 'Document with same name already exists');
    const version = newVersion(1, content, documentFormat(request.DocumentFormat), request.VersionName, now);
    const document: SsmDocument = {
      name,
      displayName: request.DisplayName as string | undefined,
      targetType: request.TargetType as string | undefined,
      tags: (request.Tags as SsmDocument['tags'] | undefined) ?? [],
      defaultVersion: 1,
      versions: [version],
    };
    this.documents.set(name, document);
    return { document, version };
  }

  /** Adds a version; only the latest version may be the base, and identical content is refused. */
  update(request: Record<string, unknown>, now: Date): { document: SsmDocument; version: DocumentVersion } {
    const name = documentName(request.Name, false);
    const content = contentOf(request.Content);
    const document = this.find(name);
    const latest = document.versions[document.versions.length - 1];
    const base = request.DocumentVersion as string | undefined;
    if (base !== undefined && base !== '$LATEST' && base !== String(latest.version)) {
      throw new AwsError(
        'InvalidDocumentVersion',
        base === '$DEFAULT' || Number(base) < latest.version
          ? `Only the latest version (${latest.version}) of document ${name} can be updated.`
          : `Document ${name} has no version ${base}.`,
      );
    }
    if (latest.content === content) {
      throw new AwsError(
        'DuplicateDocumentContent',
        'The content of the document matches the latest version. Change the content and try again.',
      );
    }
    if (request.VersionName !== undefined && document.versions.some((v) => v.versionName === request.VersionName)) {
      const message = `Version name ${String(request.VersionName)} is already used by document ${name}.`;
      throw new AwsError('DuplicateDocumentVersionName', message);
    }
    if (document.versions.length >= MAX_DOCUMENT_VERSIONS) {
      const message = `Document ${name} already has ${MAX_DOCUMENT_VERSIONS} versions.`;
      throw new AwsError('DocumentVersionLimitExceeded', message);
    }
    const format = documentFormat(request.DocumentFormat ?? latest.format);
    const version = newVersion(latest.version + 1, content, format, request.VersionName, now);
    if (request.DisplayName !== undefined) document.displayName = request.DisplayName as string;
    document.versions.push(version);
    return { document, version };
  }

  find(name: string): SsmDocument {
    const document = this.documents.get(name);
    if (!document) throw new AwsError('InvalidDocument', `Document with name ${name} does not exist.`);
    return document;
  }

  /** A document's version by `VersionName`, or by `$DEFAULT` (the default when absent), `$LATEST` or number. */
  resolve(
    nameValue: unknown,
    versionValue: unknown,
    versionNameValue?: unknown,
  ): { document: SsmDocument; version: DocumentVersion } {
    const document = this.find(documentName(nameValue, true));
    const ref = (versionValue as string | undefined) ?? '$DEFAULT';
    const number =
      ref === '$DEFAULT' ? document.defaultVersion : ref === '$LATEST' ? document.versions.length : Number(ref);
    const version =
      versionNameValue === undefined || versionValue !== undefined
        ? document.versions[number - 1]
        : document.versions.find((v) => v.versionName === versionNameValue);
    if (!version || (versionNameValue !== undefined && version.versionName !== versionNameValue)) {
      const which = versionNameValue === undefined ? ref : `named ${String(versionNameValue)}`;
      throw new AwsError('InvalidDocumentVersion', `Document ${document.name} has no version ${which}.`);
    }
    return { document, version };
  }

  setDefault(nameValue: unknown, versionValue: unknown): SsmDocument {
    const document = this.find(documentName(nameValue, false));
    if (!document.versions[Number(versionValue) - 1]) {
      throw new AwsError('InvalidDocumentVersion', `Document ${document.name} has no version ${versionValue}.`);
    }
    document.defaultVersion = Number(versionValue);
    return document;
  }
}

/** DescribeDocument's `DocumentDescription` (also returned by CreateDocument and UpdateDocument). */
export function describeDocument(
  document: SsmDocument,
  version: DocumentVersion,
  owner: string,
  status: 'Creating' | 'Updating' | 'Active',
): Record<string, unknown> {
  const { document: parsed } = version;
  return {
    Hash: version.sha256,
    HashType: 'Sha256',
    Name: document.name,
    DisplayName: document.displayName,
    VersionName: version.versionName,
    Owner: owner,
    CreatedDate: version.createdDate,
    Status: status,
    DocumentVersion: String(version.version),
    Description: parsed.description,
    Parameters: parsed.parameters.map((p) => ({
      Name: p.name,
      Type: p.type,
      Description: p.description,
      DefaultValue:
        p.default === undefined ? undefined : typeof p.default === 'string' ? p.default : JSON.stringify(p.default),
    })),
    PlatformTypes: parsed.platformTypes,
    DocumentType: 'Command',
    SchemaVersion: parsed.schemaVersion,
    LatestVersion: String(document.versions.length),
    DefaultVersion: String(document.defaultVersion),
    DocumentFormat: version.format,
    TargetType: document.targetType,
    Tags: document.tags,
  };
}

/** GetDocument's answer, converting between JSON and YAML when asked for the other format. */
export function getDocument(
  document: SsmDocument,
  version: DocumentVersion,
  formatValue: unknown,
): Record<string, unknown> {
  const format = formatValue === undefined ? version.format : documentFormat(formatValue);
  let content = version.content;
  if (format !== version.format) {
    const parsed = parseContent(version.content, version.format);
    content = format === 'YAML' ? toYaml(parsed) : JSON.stringify(parsed, null, 2);
  }
  return {
    Name: document.name,
    CreatedDate: version.createdDate,
    DisplayName: document.displayName,
    VersionName: version.versionName,
    DocumentVersion: String(version.version),
    Status: 'Active',
    Content: content,
    DocumentType: 'Command',
    DocumentFormat: format,
  };
}
