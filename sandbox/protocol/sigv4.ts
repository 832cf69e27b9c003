/**
 * Signature Version 4, checked the way AWS checks it (AWS General Reference, "Create a signed AWS API request"):
 * the canonical request, the string to sign and the derived key are rebuilt from the request as received, and the
 * signature must match exactly. Only the `Authorization` header form (what the SDK, the AWS CLI and
 * `curl --aws-sigv4` send) is accepted.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AwsError } from '../errors.js';

export interface ReceivedRequest {
  method: string;
  /** The request target as sent: path and query string, still percent-encoded. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the account knows of an access key. */
export interface SigningSecret {
  secretAccessKey: string;
  /** Temporary credentials: the session token the request must carry (`X-Amz-Security-Token`). */
  sessionToken?: string;
}

export interface Authorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;

const forbidden = (code: string, message: string): AwsError => new AwsError(code, message, 403);

export const SIGNATURE_DOES_NOT_MATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key ' +
  'and signing method. Consult the service documentation for details.';

/** Reads the `Authorization` header; throws AWS's MissingAuthenticationToken or IncompleteSignature. */
export function parseAuthorization(header: string | undefined): Authorization {
  if (!header) throw forbidden('MissingAuthenticationToken', 'Request is missing Authentication Token');
  const match = AUTHORIZATION.exec(header.trim());
  const scope = match?.[1].split('/');
  if (!match || scope?.length !== 5 || scope[4] !== 'aws4_request') {
    throw forbidden(
      'IncompleteSignature',
      `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters, with a credential ` +
        `scope of the form <key>/<date>/<region>/<service>/aws4_request. Authorization=${header.split(' ')[0]}`,
    );
  }
  const [accessKeyId, date, region, service] = scope;
  return { accessKeyId, date, region, service, signedHeaders: match[2].split(';'), signature: match[3] };
}

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters, upper-case hex. */
const encode = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const decode = (text: string): string => {
  try {
    return decodeURIComponent(text.replace(/\+/g, '%20'));
  } catch {
    return text;
  }
};

/** The canonical request: services other than S3 encode each path segment again (the SDK's double encoding). */
export function canonicalRequest(request: ReceivedRequest, signedHeaders: readonly string[]): string {
  const [rawPath, rawQuery = ''] = request.url.split('?', 2);
  const path = (rawPath || '/').split('/').map(encode).join('/');
  const query = rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const [key, value = ''] = pair.split('=', 2);
      return [encode(decode(key)), encode(decode(value))] as const;
    })
    .sort(([ak, av], [bk, bv]) => (ak === bk ? (av < bv ? -1 : 1) : ak < bk ? -1 : 1))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const headers = signedHeaders.map((name) => `${name}:${headerValue(request.headers, name)}\n`).join('');
  const payload = createHash('sha256').update(request.body, 'utf8').digest('hex');
  return [request.method, path, query, headers, signedHeaders.join(';'), payload].join('\n');
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return text.trim().replace(/\s+/g, ' ');
}

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** The hex signature of `canonical` under the secret key and the credential scope. */
export function signature(secretAccessKey: string, auth: Omit<Authorization, 'signature' | 'accessKeyId' | 'signedHeaders'>, amzDate: string, canonical: string): string {
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical, 'utf8').digest('hex')].join('\n');
  const key = [auth.date, auth.region, auth.service, 'aws4_request'].reduce<Buffer | string>(
    (k, part) => hmac(k, part),
    `AWS4${secretAccessKey}`,
  );
  return hmac(key, stringToSign).toString('hex');
}

/**
 * Verifies the request's SigV4 `Authorization` header for `expected` region and service against the keys `lookup`
 * knows. Throws AWS's errors: MissingAuthenticationToken, IncompleteSignature, InvalidClientTokenId (unknown key or
 * a session token that is missing or not the key's), SignatureDoesNotMatch (wrong scope, unsigned host, or a
 * signature that differs), all 403. The request time is not compared with the sandbox clock, which may run fast.
 */
export function verifySigV4(
  request: ReceivedRequest,
  lookup: (accessKeyId: string) => SigningSecret | undefined,
  expected: { region: string; service: string },
): Authorization {
  const auth = parseAuthorization(request.headers.authorization);
  const secret = lookup(auth.accessKeyId);
  const token = headerValue(request.headers, 'x-amz-security-token');
  if (!secret || (secret.sessionToken ?? '') !== token) {
    throw forbidden('InvalidClientTokenId', 'The security token included in the request is invalid.');
  }
  const mismatch = (message: string) => forbidden('SignatureDoesNotMatch', message);
  if (auth.region !== expected.region) throw mismatch(`Credential should be scoped to a valid region, not '${auth.region}'. `);
  if (auth.service !== expected.service) throw mismatch(`Credential should be scoped to correct service: '${expected.service}'. `);
  const amzDate = headerValue(request.headers, 'x-amz-date');
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || !amzDate.startsWith(auth.date)) {
    throw mismatch(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`);
  }
  if (!auth.signedHeaders.includes('host')) throw mismatch("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  const expectedSignature = signature(secret.secretAccessKey, auth, amzDate, canonicalRequest(request, auth.signedHeaders));
  if (!timingSafeEqual(Buffer.from(expectedSignature), Buffer.from(auth.signature))) throw mismatch(SIGNATURE_DOES_NOT_MATCH);
  return auth;
}
