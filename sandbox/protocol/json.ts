/** awsJson1_1 (Systems Manager): `X-Amz-Target: Prefix.Operation`, JSON both ways, timestamps as epoch seconds. */
import { AwsError } from '../errors.js';

export function parseTarget(header: string | undefined): { prefix: string; operation: string } | undefined {
  const match = /^([A-Za-z0-9_]+)\.([A-Za-z0-9]+)$/.exec(header ?? '');
  return match ? { prefix: match[1], operation: match[2] } : undefined;
}

export function jsonBody(result: unknown): string {
  return JSON.stringify(encodeDates(result ?? {}));
}

/** Dates become epoch seconds, the protocol's timestamp format. */
export function encodeDates(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(encodeDates);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeDates(v)]));
  }
  return value;
}

export function jsonError(error: AwsError): string {
  return JSON.stringify({ __type: error.code, message: error.message });
}
