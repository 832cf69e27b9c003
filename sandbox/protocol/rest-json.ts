/**
 * restJson1 (the EBS direct APIs): the operation is named by the method and path (the model's `requestUri`), and
 * members travel in the path, the query string, headers, a JSON body, or as the raw body (the input's `payload`,
 * a streaming blob). Answers put header members in headers, a payload member as the raw body, the rest as JSON
 * (timestamps as epoch seconds); errors name their code in `x-amzn-errortype` and carry `message` and the error's
 * other members (EBS's `Reason`) in a JSON body.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { AwsError, AwsErrorWithFields } from '../errors.js';
import type { ApiModel, MemberRef, Shape } from '../models/models.js';
import { encodeDates } from './json.js';

interface HttpBinding {
  method: string;
  requestUri: string;
  responseCode?: number;
}

type RestModel = ApiModel & {
  operations: Record<string, { http?: HttpBinding; output?: { shape: string } }>;
  shapes: Record<string, Shape & { payload?: string; members?: Record<string, MemberRef & { location?: string }> }>;
};

export interface RestMatch {
  operation: string;
  /** Path labels by their `locationName`, URL-decoded. */
  labels: Record<string, string>;
}

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The operation whose `requestUri` template matches `method` and `pathname`, with its labels; undefined when none. */
export function matchOperation(model: ApiModel, method: string, pathname: string): RestMatch | undefined {
  for (const [operation, spec] of Object.entries((model as RestModel).operations)) {
    if (!spec.http || spec.http.method !== method) continue;
    const names: string[] = [];
    const template = spec.http.requestUri.split('?')[0];
    const source = template
      .split(/(\{[^}]+\})/)
      .map((part) => {
        const label = /^\{([^}+]+)(\+?)\}$/.exec(part);
        if (!label) return escapeRegex(part);
        names.push(label[1]);
        return label[2] ? '(.+)' : '([^/]+)';
      })
      .join('');
    const match = new RegExp(`^${source}$`).exec(pathname);
    if (!match) continue;
    return { operation, labels: Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1])])) };
  }
  return undefined;
}

/** Header and URI values are text on the wire: numbers and booleans are read as the member's type says. */
function scalar(raw: string, shape: Shape | undefined): unknown {
  if ((shape?.type === 'integer' || shape?.type === 'long') && /^-?\d+$/.test(raw)) return Number(raw);
  if (shape?.type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

function jsonBodyOf(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The request's members by their model names (what the validator and the handler read), and the raw body when
 * the input has a blob payload (kept out of `params`, so the call log never holds block data).
 */
export function decodeRequest(
  model: ApiModel,
  match: RestMatch,
  url: URL,
  headers: IncomingHttpHeaders,
  body: Buffer,
): { params: Record<string, unknown>; payload?: { member: string; data: Buffer } } {
  const rest = model as RestModel;
  const inputName = rest.operations[match.operation].input?.shape;
  const input = inputName ? rest.shapes[inputName] : { type: 'structure' as const, members: {} };
  const members = Object.entries(input.members ?? {});
  if (input.payload) return { params: located(rest, members, match, url, headers), payload: { member: input.payload, data: body } };
  const bodyMembers = Object.entries(jsonBodyOf(body)).filter(([key]) => !members.some(([name, ref]) => name === key && ref.location));
  return { params: { ...Object.fromEntries(bodyMembers), ...located(rest, members, match, url, headers) } };
}

function located(
  model: RestModel,
  members: [string, MemberRef & { location?: string }][],
  match: RestMatch,
  url: URL,
  headers: IncomingHttpHeaders,
): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [name, ref] of members) {
    const wire = ref.locationName ?? name;
    const header = headers[wire.toLowerCase()];
    const raw =
      ref.location === 'uri'
        ? match.labels[wire]
        : ref.location === 'querystring'
          ? (url.searchParams.get(wire) ?? undefined)
          : ref.location === 'header'
            ? Array.isArray(header) ? header.join(',') : header
            : undefined;
    if (raw !== undefined) params[name] = scalar(raw, model.shapes[ref.shape]);
  }
  return params;
}

export interface RestAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/** The answer to a successful call: the model's response code, header members, and the payload or a JSON body. */
export function encodeResponse(model: ApiModel, operation: string, result: unknown): RestAnswer {
  const rest = model as RestModel;
  const spec = rest.operations[operation];
  const output = spec.output ? rest.shapes[spec.output.shape] : undefined;
  const values = (result ?? {}) as Record<string, unknown>;
  const headers: Record<string, string> = {};
  const json: Record<string, unknown> = {};
  let payload: Buffer | undefined;
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const ref = output?.members?.[name];
    if (output?.payload === name) payload = value as Buffer;
    else if (ref?.location === 'header') headers[ref.locationName ?? name] = String(value);
    else json[name] = value;
  }
  const status = spec.http?.responseCode ?? 200;
  if (payload) {
    return { status, headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(payload.length) }, body: payload };
  }
  return { status, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(encodeDates(json)) };
}

/** An error as restJson1 carries it: the code in `x-amzn-errortype`, `message` and the error's members in the body. */
export function encodeError(error: AwsError): RestAnswer {
  const fields = error instanceof AwsErrorWithFields ? error.fields : {};
  return {
    status: error.status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': error.code },
    body: JSON.stringify({ message: error.message, ...fields }),
  };
}
