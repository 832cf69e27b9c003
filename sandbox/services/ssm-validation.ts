/** Request-shape checks Systems Manager makes before looking at any resource, with its ValidationException wording. */
import { AwsError } from '../errors.js';

export const ssmValidation = (message: string): AwsError =>
  new AwsError('ValidationException', `1 validation error detected: ${message}`);

const quoted = (value: unknown) => (typeof value === 'string' ? `'${value}'` : JSON.stringify(value));
const failed = (value: unknown, field: string, constraint: string) =>
  ssmValidation(`Value ${quoted(value)} at '${field}' failed to satisfy constraint: Member must ${constraint}`);

export function checkPattern(value: unknown, field: string, pattern: RegExp): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw failed(value, field, `satisfy regular expression pattern: ${pattern.source}`);
  }
}

export function checkLength(value: unknown, field: string, min: number, max: number): void {
  if (value === undefined) return;
  const length = typeof value === 'string' || Array.isArray(value) ? value.length : Number.NaN;
  if (!(length >= min)) {
    throw failed(value, field, `have length greater than or equal to ${min}`);
  }
  if (length > max) {
    throw failed(value, field, `have length less than or equal to ${max}`);
  }
}

export function checkRange(value: unknown, field: string, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || (value as number) < min) {
    throw failed(value, field, `have value greater than or equal to ${min}`);
  }
  if ((value as number) > max) {
    throw failed(value, field, `have value less than or equal to ${max}`);
  }
}

export function checkEnum(value: unknown, field: string, allowed: readonly string[]): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw failed(value, field, `satisfy enum value set: [${allowed.join(', ')}]`);
  }
}

export function checkRequired(value: unknown, field: string): void {
  if (value === undefined || value === null) {
    throw ssmValidation(`Value null at '${field}' failed to satisfy constraint: Member must not be null`);
  }
}
