/**
 * The document's own limits on the values a deploy sends, checked before any call. SendCommand checks every
 * parameter value against the definition in the document version it runs and answers InvalidParameters; by then a
 * managed document has already been created or updated. The definitions are read from the shipped document itself
 * (`nixos-deploy.json`, inlined in the bundle), so the action and the document cannot drift apart.
 */
import type { DocumentParameterDefinition } from './document.js';

/**
 * Why SSM would refuse `values` for a parameter defined as `definition`, or `undefined`: a String takes one value;
 * each value must be one of `allowedValues`, match `allowedPattern` as written (no anchors added; the document's
 * patterns mean the same in Java, where the API reads them, and in JavaScript) and hold at most `maxChars` UTF-16
 * units (Java's `String.length`). SSM's documentation does not say how `maxChars` applies to a StringList; like the
 * sandbox, this holds each item to it. The shipped document has String parameters only.
 */
export function parameterProblem(definition: DocumentParameterDefinition, values: string[]): string | undefined {
  if (definition.type === 'String' && values.length !== 1) return `takes one value, got ${values.length}`;
  for (const value of values) {
    if (definition.allowedValues && !definition.allowedValues.includes(value)) {
      return `must be one of ${definition.allowedValues.join(', ')}`;
    }
    if (definition.allowedPattern !== undefined && !new RegExp(definition.allowedPattern).test(value)) {
      return `must match the document's allowedPattern ${definition.allowedPattern}`;
    }
    if (definition.maxChars !== undefined && value.length > definition.maxChars) {
      return `must be at most ${definition.maxChars} characters (the document's maxChars), got ${value.length}`;
    }
  }
  return undefined;
}

/**
 * Each parameter of `parameters` that its definition in `definitions` refuses, as input problems: `inputOf` names
 * the input the value came from, and `joined` the inputs whose items travel space separated in one value.
 */
export function documentParameterProblems<Name extends string>(
  definitions: Record<Name, DocumentParameterDefinition>,
  parameters: Partial<Record<Name, string[]>>,
  inputOf: Record<Name, string>,
  joined: ReadonlySet<string>,
): Array<{ input: string; message: string }> {
  const problems: Array<{ input: string; message: string }> = [];
  for (const [name, values] of Object.entries(parameters) as Array<[Name, string[]]>) {
    const definition = definitions[name];
    const input = inputOf[name];
    const problem = definition ? parameterProblem(definition, values) : 'is not a parameter of the document';
    if (!problem) continue;
    const what = joined.has(input) ? `, its items joined by spaces as the document's ${name},` : ` (the document's ${name})`;
    problems.push({ input, message: `Input '${input}'${what} ${problem}` });
  }
  return problems;
}
