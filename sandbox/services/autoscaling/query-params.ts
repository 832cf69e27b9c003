/**
 * Reading decoded Query-protocol parameters (all strings) once the model has validated them
 * (`../../models/validate.ts`): types and limits are known to hold, so these only convert.
 */

/** A Query list: the SDK sends an empty list as `Name=` (an empty string). */
export function list(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === undefined || value === '' ? [] : [value];
}

export const bool = (value: unknown): boolean | undefined => (value === undefined ? undefined : value === 'true');

export const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** An integer member the model has checked, or undefined when absent. */
export const integer = (value: unknown): number | undefined => (value === undefined ? undefined : Number(value));
