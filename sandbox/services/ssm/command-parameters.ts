/**
 * SendCommand's `Parameters` checked against the document's parameter definitions, as the service checks them
 * before anything runs: unknown names, missing required values, types, allowedValues, allowedPattern and the
 * length limits. `allowedPattern` is applied as written (no added anchors): SSM's patterns are written to mean
 * the same in Java (the API) and Go (the agent), and a JavaScript RegExp reads that common subset the same way.
 */
import { AwsError } from '../../errors.js';
import type { DocumentParameter } from './documents.js';

const invalid = (message: string) => new AwsError('InvalidParameters', message);

function defaultValues(parameter: DocumentParameter): string[] | undefined {
  const value = parameter.default;
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return [typeof value === 'string' ? value : JSON.stringify(value)];
}

function checkValues(parameter: DocumentParameter, values: string[]): void {
  const { name, type } = parameter;
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
    throw invalid(`Parameter "${name}" must be a list of strings.`);
  }
  if (type !== 'StringList' && type !== 'MapList' && values.length !== 1) {
    throw invalid(`Parameter "${name}" is of type ${type} and takes exactly one value, got ${values.length}.`);
  }
  if (parameter.minItems !== undefined && values.length < parameter.minItems) {
    throw invalid(`Parameter "${name}" needs at least ${parameter.minItems} items.`);
  }
  if (parameter.maxItems !== undefined && values.length > parameter.maxItems) {
    throw invalid(`Parameter "${name}" takes at most ${parameter.maxItems} items.`);
  }
  const pattern = parameter.allowedPattern === undefined ? undefined : new RegExp(parameter.allowedPattern);
  for (const value of values) {
    if (type === 'Boolean' && value !== 'true' && value !== 'false') {
      throw invalid(`Parameter "${name}" is a Boolean: "${value}" is neither true nor false.`);
    }
    if (type === 'Integer' && !/^-?[0-9]+$/.test(value)) {
      throw invalid(`Parameter "${name}" is an Integer: "${value}" is not one.`);
    }
    if (parameter.allowedValues && !parameter.allowedValues.includes(value)) {
      const allowed = parameter.allowedValues.join(', ');
      throw invalid(`Parameter "${name}" value "${value}" is not one of the allowed values: ${allowed}.`);
    }
    if (pattern && !pattern.test(value)) {
      const constraint = `allowedPattern ${parameter.allowedPattern}`;
      throw invalid(`Parameter "${name}" value "${value}" failed to satisfy constraint: ${constraint}.`);
    }
    if (parameter.minChars !== undefined && value.length < parameter.minChars) {
      throw invalid(`Parameter "${name}" value must be at least ${parameter.minChars} characters.`);
    }
    if (parameter.maxChars !== undefined && value.length > parameter.maxChars) {
      throw invalid(`Parameter "${name}" value must be at most ${parameter.maxChars} characters.`);
    }
  }
}

/** The parameters the instances receive: those given, checked, plus the defaults of those left out. */
export function resolveCommandParameters(
  definitions: DocumentParameter[],
  given: Record<string, string[]> | undefined,
): Record<string, string[]> {
  const supplied = given ?? {};
  const unknown = Object.keys(supplied).filter((name) => !definitions.some((d) => d.name === name));
  if (unknown.length > 0) {
    throw invalid(`Parameters ${unknown.map((n) => `"${n}"`).join(', ')} are not defined in the document.`);
  }
  const resolved: Record<string, string[]> = {};
  for (const definition of definitions) {
    if (Object.hasOwn(supplied, definition.name)) {
      checkValues(definition, supplied[definition.name]);
      resolved[definition.name] = [...supplied[definition.name]];
      continue;
    }
    const fallback = defaultValues(definition);
    if (fallback === undefined) throw invalid(`Parameter "${definition.name}" is required and has no default.`);
    resolved[definition.name] = fallback;
  }
  return resolved;
}
