/**
 * The AWS Query protocol (STS, Auto Scaling) and its EC2 variant: form-encoded requests, XML answers.
 * Handlers work on plain nested objects; this file is the only place that knows the wire shapes.
 */
import { AwsError } from '../errors.js';

export type XmlStyle = 'query' | 'ec2';

/**
 * Decodes `A.member.1.B=x&C.1=y` into `{ A: [{ B: 'x' }], C: ['y'] }`. `member` segments (Query lists) are
 * dropped and numbered segments become array positions, so both `Tags.member.1.Key` (Auto Scaling) and
 * `TagSpecification.1.Tag.1.Key` (EC2) come out as arrays.
 */
export function parseQueryParams(body: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.split('.').filter((segment) => segment !== 'member');
    let node: Record<string, unknown> = root;
    path.forEach((segment, i) => {
      if (i === path.length - 1) {
        node[segment] = value;
        return;
      }
      const child = node[segment];
      if (typeof child !== 'object' || child === null) node[segment] = {};
      node = node[segment] as Record<string, unknown>;
    });
  }
  return arrayify(root) as Record<string, unknown>;
}

function arrayify(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 0 && entries.every(([k]) => /^\d+$/.test(k))) {
    return entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => arrayify(v));
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, arrayify(v)]));
}

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** Serialises a value under `name`: arrays as `<member>` (Query) or `<item>` (EC2) lists, dates as ISO 8601. */
export function toXml(name: string, value: unknown, style: XmlStyle): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    const itemTag = style === 'ec2' ? 'item' : 'member';
    return `<${name}>${value.map((v) => toXml(itemTag, v, style)).join('')}</${name}>`;
  }
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === 'object') {
    const inner = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => toXml(k, v, style))
      .join('');
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

const fields = (result: unknown, style: XmlStyle): string =>
  Object.entries((result ?? {}) as Record<string, unknown>)
    .map(([k, v]) => toXml(k, v, style))
    .join('');

export function queryResponse(style: XmlStyle, xmlns: string, action: string, result: unknown, requestId: string): string {
  const head = `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${xmlns}">`;
  if (style === 'ec2') {
    return `${head}<requestId>${requestId}</requestId>${fields(result, style)}</${action}Response>`;
  }
  return (
    `${head}<${action}Result>${fields(result, style)}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export function queryError(style: XmlStyle, xmlns: string, error: AwsError, requestId: string): string {
  const code = escapeXml(error.code);
  const message = escapeXml(error.message);
  if (style === 'ec2') {
    return (
      `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code>` +
      `<Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
    );
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${xmlns}"><Error><Type>${error.type}</Type>` +
    `<Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
