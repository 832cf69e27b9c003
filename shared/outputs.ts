/**
 * Sets an action's outputs from one typed object, so that an action declares its outputs once, as a type whose
 * keys are the `outputs:` names in its action.yml.
 */
import * as core from './actions-core.js';

/** Arrays and objects become JSON (`fromJSON(...)` in a workflow), dates ISO 8601, absent values no output. */
export type OutputValue = string | number | boolean | Date | readonly unknown[] | { readonly [key: string]: unknown } | null | undefined;

export function formatOutput(value: OutputValue): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

export function setOutputs<T extends { [K in keyof T]: OutputValue }>(outputs: T): void {
  for (const [name, value] of Object.entries(outputs) as Array<[string, OutputValue]>) {
    const text = formatOutput(value);
    if (text !== undefined) core.setOutput(name, text);
  }
}
