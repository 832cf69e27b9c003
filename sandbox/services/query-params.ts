/**
 * Reading decoded Query-protocol parameters (all strings) and rejecting them the way AWS's request
 * validation does: every broken constraint collected into one `ValidationError`, for example
 * `1 validation error detected: Value '101' at 'preferences.minHealthyPercentage' failed to satisfy
 * constraint: Member must have value less than or equal to 100`.
 */
import { validationError } from '../errors.js';

/** A Query list: the SDK sends an empty list as `Name=` (an empty string). */
export function list(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === undefined || value === '' ? [] : [value];
}

export const bool = (value: unknown): boolean | undefined => (value === undefined ? undefined : value === 'true');

export const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export class Constraints {
  private readonly problems: string[] = [];

  private fail(path: string, value: unknown, rule: string): void {
    const shown = value === undefined ? 'null' : `'${String(value)}'`;
    this.problems.push(`Value ${shown} at '${path}' failed to satisfy constraint: Member must ${rule}`);
  }

  required(path: string, value: unknown): void {
    if (value === undefined) this.fail(path, value, 'not be null');
  }

  length(path: string, value: string | undefined, min: number, max: number): void {
    if (value === undefined) return;
    if (value.length < min) this.fail(path, value, `have length greater than or equal to ${min}`);
    if (value.length > max) this.fail(path, value, `have length less than or equal to ${max}`);
  }

  /** An optional integer within [min, max]; returns it as a number. */
  integer(path: string, value: unknown, min: number, max = Number.POSITIVE_INFINITY): number | undefined {
    if (value === undefined) return undefined;
    const number = Number(value);
    if (value === '' || !Number.isInteger(number)) {
      this.fail(path, value, 'be an integer');
      return undefined;
    }
    if (number < min) this.fail(path, value, `have value greater than or equal to ${min}`);
    if (number > max) this.fail(path, value, `have value less than or equal to ${max}`);
    return number;
  }

  oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[]): T | undefined {
    if (value === undefined) return undefined;
    if (!allowed.includes(value as T)) this.fail(path, value, `satisfy enum value set: [${allowed.join(', ')}]`);
    return value as T;
  }

  /** Throws the collected problems as one ValidationError. */
  check(): void {
    const count = this.problems.length;
    if (count === 0) return;
    throw validationError(`${count} validation error${count === 1 ? '' : 's'} detected: ${this.problems.join('; ')}`);
  }
}
