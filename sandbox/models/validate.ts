/**
 * The sandbox's one request validator: an operation's input shape from the official model, walked over the
 * request as its protocol decoded it, refusing what AWS refuses before looking at any resource.
 *
 * Query and EC2 requests arrive as `parseQueryParams` trees (wire names, string leaves); awsJson requests as
 * parsed JSON. Both are first read into the shape tree (member names, typed leaves), which is where unknown
 * members and values of the wrong type are refused; the constraints (required, enum, length of strings, lists,
 * maps and blobs, ranges, patterns) are then checked on that tree, the same way for every protocol.
 */
import { types } from 'node:util';
import { AwsError } from '../errors.js';
import { javaRegex } from './java-regex.js';
import { loadModel, type ApiModel, type MemberRef, type ModeledService, type Shape } from './models.js';

type Protocol = ApiModel['metadata']['protocol'];

/** restJson requests arrive decoded to member names and JSON values (`protocol/rest-json.ts`): read as awsJson. */
const isJson = (protocol: Protocol): boolean => protocol === 'json' || protocol === 'rest-json';

/** A broken constraint, as AWS's message names it: `Value '<shown>' at '<path>' failed to satisfy constraint: <rule>`. */
export interface Violation {
  path: string;
  /** The value as AWS prints it (Java's toString: `[a, b]`, `{k=[v]}`); undefined for null, or for sensitive values. */
  shown: string | undefined;
  sensitive: boolean;
  rule: string;
}

/**
 * A service's own answer for a violation, where AWS answers with a specific error rather than the protocol's
 * generic one (EC2's `InvalidLaunchTemplateName.MalformedException`); undefined for the generic answer.
 */
export type Refine = (operation: string, violation: Violation) => AwsError | undefined;

/** The request could not be read into the input shape (unknown member, wrong type): answered before constraints. */
class Unreadable extends Error {
  constructor(
    readonly kind: 'unknown' | 'type',
    /** The member as the wire names it (`LaunchTemplateData.Foo`, `Preferences.MinHealthyPercentage`). */
    readonly wirePath: string,
    readonly value?: unknown,
    /** The shape's type, for a value of the wrong type. */
    readonly expected?: Shape['type'],
  ) {
    super(`${kind} ${wirePath}`);
  }
}

const patterns = new Map<string, RegExp>();
const patternOf = (source: string): RegExp => {
  let regex = patterns.get(source);
  if (!regex) patterns.set(source, (regex = javaRegex(source)));
  return regex;
};

const lowerCamel = (name: string): string => name[0].toLowerCase() + name.slice(1);
const upperFirst = (name: string): string => name[0].toUpperCase() + name.slice(1);
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The name a member has on the wire in each protocol (botocore's serialisers' rules). */
function wireName(protocol: Protocol, name: string, ref: MemberRef): string {
  if (protocol === 'ec2') return ref.queryName ?? (ref.locationName ? upperFirst(ref.locationName) : name);
  if (protocol === 'query') return ref.locationName ?? name;
  return name;
}

/**
 * Checks `params` (as the server decoded them) against the input of `operation` in `service`'s model.
 * Returns the AwsError AWS answers with (`refine`'s, when it has one for the first violation), or undefined when the request is valid or the model does not know
 * the operation (the server answers unknown operations itself). Forms, by protocol:
 * - awsJson: `ValidationException`, `N validation error(s) detected: Value 'x' at 'member' failed to satisfy
 *   constraint: Member must ...; ...` (a list of scalars: `Member must satisfy constraint: [...]`; a map: `Map keys
 *   must satisfy constraint: [...]`, `Map value must ...`); a body that does not fit the shape `SerializationException`.
 * - Query: the same message as `ValidationError`; an unknown parameter `UnknownParameter`.
 * - EC2: `MissingParameter` (`The request must contain the parameter X`), `UnknownParameter` (`The parameter X
 *   is not recognized`), otherwise `InvalidParameterValue` (`Value (x) for parameter X is invalid. ...`).
 * The constraint messages are AWS's (Coral's) form. AWS does not document its answer to an unknown member of a
 * Query or awsJson request, nor to a Query value of the wrong type: there the sandbox refuses (`UnknownParameter`,
 * `SerializationException`, `MalformedInput`) rather than ignore, so that a client sending what the model does
 * not know fails here.
 */
export function validateRequest(
  service: ModeledService,
  operation: string,
  params: Record<string, unknown>,
  refine?: Refine,
): AwsError | undefined {
  const model = loadModel(service);
  const input = model.operations[operation]?.input;
  if (!model.operations[operation]) return undefined;
  const protocol = model.metadata.protocol;
  const shape = input ? model.shapes[input.shape] : { type: 'structure' as const, members: {} };
  let tree: unknown;
  try {
    tree = read(model, protocol, shape, params, '');
  } catch (error) {
    if (!(error instanceof Unreadable)) throw error;
    return unreadable(protocol, error);
  }
  const violations: Violation[] = [];
  check(model, shape, tree, '', violations);
  if (violations.length === 0) return undefined;
  return refine?.(operation, violations[0]) ?? refuse(protocol, violations);
}

function unreadable(protocol: Protocol, error: Unreadable): AwsError {
  if (isJson(protocol)) {
    return new AwsError(
      'SerializationException',
      error.kind === 'unknown' ? `Unrecognized field "${error.wirePath}"` : `Cannot read the value of ${error.wirePath}`,
    );
  }
  if (error.kind === 'unknown') return new AwsError('UnknownParameter', `The parameter ${error.wirePath} is not recognized`);
  const code = protocol === 'ec2' ? 'InvalidParameterValue' : 'MalformedInput';
  return new AwsError(code, `Value (${String(error.value)}) for parameter ${error.wirePath} is invalid.`);
}

function refuse(protocol: Protocol, violations: Violation[]): AwsError {
  if (protocol === 'ec2') {
    const first = violations[0];
    const parameter = first.path.split('.').filter((s) => s !== 'member').map(upperFirst).join('.');
    if (first.shown === undefined && first.rule === 'Member must not be null') {
      return new AwsError('MissingParameter', `The request must contain the parameter ${parameter}`);
    }
    return new AwsError(
      'InvalidParameterValue',
      `Value (${first.sensitive ? '' : (first.shown ?? '')}) for parameter ${parameter} is invalid. ${first.rule}`,
    );
  }
  const count = `${violations.length} validation error${violations.length === 1 ? '' : 's'} detected`;
  const message = `${count}: ${violations.map(describe).join('; ')}`;
  return new AwsError(isJson(protocol) ? 'ValidationException' : 'ValidationError', message);
}

/** One violation in AWS's words; a sensitive value is left out (`Value at 'password' failed ...`). */
export function describe(v: Violation): string {
  const value = v.sensitive ? 'Value' : v.shown === undefined ? 'Value null' : `Value '${v.shown}'`;
  return `${value} at '${v.path}' failed to satisfy constraint: ${v.rule}`;
}

/**
 * Reads `value` into the shape `shapeName` of `service`'s model, the way a request is read before its
 * constraints are checked: `wire` as the service's protocol decoded it (after `validateRequest` accepted the
 * request, so it cannot fail), `plain` as JavaScript values under the model's member names (what a seeding API
 * is handed). Returns the shape tree: member names, numbers, booleans, Dates, Buffers, Maps. Throws an Error
 * naming the member (`<path>.<member>`) that is unknown or of the wrong type.
 */
export function readShape(
  service: ModeledService,
  shapeName: string,
  value: unknown,
  from: 'wire' | 'plain' = 'wire',
  path = shapeName,
): unknown {
  const model = loadModel(service);
  try {
    return read(model, from === 'plain' ? 'json' : model.metadata.protocol, model.shapes[shapeName], value, path);
  } catch (error) {
    if (!(error instanceof Unreadable)) throw error;
    const [parent, member] = [error.wirePath.replace(/\.[^.]*$/, ''), error.wirePath.replace(/^.*\./, '')];
    if (error.kind === 'unknown') throw new Error(`${parent} has no field ${member} in ${service}'s model`);
    const numeric = ['integer', 'long', 'float', 'double'].includes(error.expected ?? '');
    throw new Error(`${error.wirePath} must be a ${numeric ? 'number' : error.expected}, got ${JSON.stringify(error.value)}`);
  }
}

/** Reads a decoded request into the shape tree: member names as keys, numbers, booleans, Dates and byte counts. */
function read(model: ApiModel, protocol: Protocol, shape: Shape, value: unknown, wirePath: string): unknown {
  const typeError = () => new Unreadable('type', wirePath, value, shape.type);
  const wire = !isJson(protocol);
  switch (shape.type) {
    case 'structure':
      return readStructure(model, protocol, shape, value, wirePath, typeError);
    case 'list': {
      // Query and EC2 send an empty list as a bare `Name=`; a single unnumbered value is not a list.
      if (wire && value === '') return [];
      if (!Array.isArray(value)) throw typeError();
      const of = model.shapes[shape.member!.shape];
      return value.map((item, i) => read(model, protocol, of, item, `${wirePath}.${i + 1}`));
    }
    case 'map':
      return readMap(model, protocol, shape, value, wirePath, typeError);
    case 'string':
      if (typeof value !== 'string') throw typeError();
      return value;
    case 'integer':
    case 'long': {
      if (wire ? typeof value !== 'string' || !/^-?\d+$/.test(value) : !Number.isInteger(value)) throw typeError();
      return Number(value);
    }
    case 'float':
    case 'double': {
      const number = Number(value);
      if (wire ? typeof value !== 'string' || value.trim() === '' : typeof value !== 'number') throw typeError();
      if (!Number.isFinite(number)) throw typeError();
      return number;
    }
    case 'boolean':
      if (wire ? value !== 'true' && value !== 'false' : typeof value !== 'boolean') throw typeError();
      return value === true || value === 'true';
    case 'timestamp':
      return readTimestamp(value, typeError);
    case 'blob':
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw typeError();
      return Buffer.from(value, 'base64');
    default:
      return value;
  }
}

function readStructure(
  model: ApiModel,
  protocol: Protocol,
  shape: Shape,
  value: unknown,
  wirePath: string,
  typeError: () => Unreadable,
): Record<string, unknown> {
  if (!isObject(value)) throw typeError();
  const members = Object.entries(shape.members ?? {});
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const member = members.find(([name, ref]) => wireName(protocol, name, ref) === key);
    const path = wirePath ? `${wirePath}.${key}` : key;
    if (!member) throw new Unreadable('unknown', path);
    if (isJson(protocol) && item === null) continue;
    out[member[0]] = read(model, protocol, model.shapes[member[1].shape], item, path);
  }
  return out;
}

function readMap(
  model: ApiModel,
  protocol: Protocol,
  shape: Shape,
  value: unknown,
  wirePath: string,
  typeError: () => Unreadable,
): Map<unknown, unknown> {
  const wire = !isJson(protocol);
  const entries = wire ? queryMapEntries(shape, value, typeError) : isObject(value) ? Object.entries(value) : undefined;
  if (!entries) throw typeError();
  const keyShape = model.shapes[shape.key!.shape];
  const valueShape = model.shapes[shape.value!.shape];
  return new Map(
    entries.map(([k, v]) => [
      read(model, protocol, keyShape, k, `${wirePath}.key`),
      read(model, protocol, valueShape, v, `${wirePath}.${String(k)}`),
    ]),
  );
}

/** Epoch seconds (awsJson), ISO 8601 (Query, EC2), or a Date (a seeding API's input). */
function readTimestamp(value: unknown, typeError: () => Unreadable): Date {
  const date = types.isDate(value)
    ? new Date(value.getTime())
    : typeof value === 'number'
      ? new Date(value * 1000)
      : typeof value === 'string'
        ? new Date(value)
        : undefined;
  if (!date || Number.isNaN(date.getTime())) throw typeError();
  return date;
}

/** Query maps: `Name.entry.N.key` / `.value` (or the model's names for them). */
function queryMapEntries(shape: Shape, value: unknown, typeError: () => Unreadable): [unknown, unknown][] {
  if (value === '') return [];
  if (!isObject(value)) throw typeError();
  const entries = shape.flattened ? value : value.entry;
  if (!Array.isArray(entries)) throw typeError();
  const keyName = shape.key?.locationName ?? 'key';
  const valueName = shape.value?.locationName ?? 'value';
  return entries.map((entry) => {
    if (!isObject(entry)) throw typeError();
    return [entry[keyName], entry[valueName]];
  });
}

/** Java's toString of a value, which AWS's messages print. */
function show(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  if (value instanceof Map) return `{${[...value].map(([k, v]) => `${show(k)}=${show(v)}`).join(', ')}}`;
  if (value instanceof Buffer) return `java.nio.HeapByteBuffer[pos=0 lim=${value.length} cap=${value.length}]`;
  if (value instanceof Date) return value.toISOString();
  if (isObject(value)) return `{${Object.entries(value).map(([k, v]) => `${upperFirst(k)}: ${show(v)}`).join(',')}}`;
  return String(value);
}

/** The rules a single value breaks (not its members'), in AWS's words. */
function rules(shape: Shape, value: unknown): string[] {
  const broken: string[] = [];
  const size =
    typeof value === 'string' || Array.isArray(value) || value instanceof Buffer
      ? value.length
      : value instanceof Map
        ? value.size
        : undefined;
  const numeric = typeof value === 'number';
  if (size !== undefined && shape.min !== undefined && size < shape.min) {
    broken.push(`Member must have length greater than or equal to ${shape.min}`);
  }
  if (size !== undefined && shape.max !== undefined && size > shape.max) {
    broken.push(`Member must have length less than or equal to ${shape.max}`);
  }
  if (numeric && shape.min !== undefined && value < shape.min) {
    broken.push(`Member must have value greater than or equal to ${shape.min}`);
  }
  if (numeric && shape.max !== undefined && value > shape.max) {
    broken.push(`Member must have value less than or equal to ${shape.max}`);
  }
  if (typeof value === 'string' && shape.pattern !== undefined && !patternOf(shape.pattern).test(value)) {
    broken.push(`Member must satisfy regular expression pattern: ${shape.pattern}`);
  }
  if (typeof value === 'string' && shape.enum !== undefined && !shape.enum.includes(value)) {
    broken.push(`Member must satisfy enum value set: [${shape.enum.join(', ')}]`);
  }
  return broken;
}

const isScalar = (shape: Shape): boolean => !['structure', 'list', 'map'].includes(shape.type);

function check(model: ApiModel, shape: Shape, value: unknown, path: string, out: Violation[]): void {
  const sensitive = shape.sensitive === true;
  for (const rule of rules(shape, value)) out.push({ path, shown: show(value), sensitive, rule });
  if (shape.type === 'structure') {
    const struct = value as Record<string, unknown>;
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      const memberPath = path ? `${path}.${lowerCamel(name)}` : lowerCamel(name);
      const memberShape = model.shapes[ref.shape];
      if (struct[name] === undefined) {
        if (shape.required?.includes(name)) {
          out.push({ path: memberPath, shown: undefined, sensitive: false, rule: 'Member must not be null' });
        }
        continue;
      }
      check(model, memberShape, struct[name], memberPath, out);
    }
  } else if (shape.type === 'list') {
    const of = model.shapes[shape.member!.shape];
    const items = value as unknown[];
    if (isScalar(of)) {
      // A list of scalars is reported once, with the rules its elements break (Coral's nested form).
      const broken = [...new Set(items.flatMap((item) => rules(of, item)))];
      if (broken.length > 0) {
        out.push({ path, shown: show(items), sensitive: sensitive || of.sensitive === true, rule: `Member must satisfy constraint: [${broken.join(', ')}]` });
      }
    } else {
      items.forEach((item, i) => check(model, of, item, `${path}.${i + 1}.member`, out));
    }
  } else if (shape.type === 'map') {
    const map = value as Map<unknown, unknown>;
    const keyShape = model.shapes[shape.key!.shape];
    const valueShape = model.shapes[shape.value!.shape];
    const keyRules = [...new Set([...map.keys()].flatMap((k) => rules(keyShape, k)))];
    if (keyRules.length > 0) {
      out.push({ path, shown: show(map), sensitive, rule: `Map keys must satisfy constraint: [${keyRules.join(', ')}]` });
    }
    const valueRules = [...new Set([...map.values()].flatMap((v) => nestedRules(model, valueShape, v)))];
    if (valueRules.length > 0) {
      out.push({ path, shown: show(map), sensitive, rule: `Map value must satisfy constraint: [${valueRules.join(', ')}]` });
    }
  }
}

/** A map value's broken rules, including those of a scalar list's elements (SSM's `Parameters`). */
function nestedRules(model: ApiModel, shape: Shape, value: unknown): string[] {
  const own = rules(shape, value);
  if (shape.type === 'list' && isScalar(model.shapes[shape.member!.shape])) {
    const of = model.shapes[shape.member!.shape];
    const inner = [...new Set((value as unknown[]).flatMap((item) => rules(of, item)))];
    if (inner.length > 0) own.push(`Member must satisfy constraint: [${inner.join(', ')}]`);
  }
  return own;
}
