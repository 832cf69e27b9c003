import { foreign as neutralised } from './log.js';

/**
 * The one way this project turns a thrown value into a message for the log. AWS SDK errors carry their code in
 * `name` (`AccessDenied`, `ThrottlingException`); users search for the code, so it leads the message. An answer that
 * was not AWS's XML or JSON (an HTML 502 from a proxy) is said to be so, see {@link foreignAnswerMessage}.
 */
export function errorMessage(error: unknown): string {
  if (error === null || error === undefined) return 'unknown error';
  if (typeof error === 'string') return error.trim() || 'unknown error';
  const foreign = foreignAnswerMessage(error);
  if (foreign) return foreign;
  if (error instanceof Error) {
    const message = error.message.trim();
    const code = error.name;
    const isServiceError = '$metadata' in error || '$fault' in error;
    if (isServiceError && code && code !== 'Error' && !message.startsWith(code)) {
      return message ? `${code}: ${message}` : code;
    }
    return message || code || 'unknown error';
  }
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

/** How much of a foreign answer's body a message quotes. */
export const QUOTED_BODY_CHARS = 200;

interface DeserializationFailure {
  message?: string;
  $fault?: unknown;
  $operation?: string;
  $service?: string;
  $metadata?: { httpStatusCode?: number };
  $responseBodyText?: string;
  $response?: { statusCode?: number; body?: unknown; $foreignBodyText?: string };
}

/**
 * For an SDK call whose answer could not be read as AWS's (the SDK's deserialization failure: a hidden `$response`
 * and no `$fault`, which every modelled or unmodelled AWS error has), a message naming the operation, the HTTP status
 * and the start of the body: `SendCommand (SSM) got HTTP 502 with an answer that is not AWS's: "<html> <head>..."`.
 * The operation and service come from the client factory (`aws-clients.ts`), the body from the SDK
 * (`$responseBodyText`, XML protocols) or the factory (`$foreignBodyText`, any protocol). The quote is foreign text:
 * one line, at most {@link QUOTED_BODY_CHARS} characters, with `::` broken so the runner cannot read a command in it.
 * Undefined for any other error.
 */
export function foreignAnswerMessage(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as DeserializationFailure;
  if (!e.$response || '$fault' in e) return undefined;
  const status = e.$metadata?.httpStatusCode ?? e.$response.statusCode;
  const body =
    e.$response.$foreignBodyText ??
    e.$responseBodyText ??
    (typeof e.$response.body === 'string' ? e.$response.body : undefined);
  const call = e.$operation ? `${e.$operation}${e.$service ? ` (${e.$service})` : ''}` : 'An AWS call';
  const what = `${call} got ${status === undefined ? 'an answer' : `HTTP ${status}`} with a body that is not AWS's XML or JSON`;
  if (body === undefined) return `${what} (${oneLine(e.message ?? '').slice(0, QUOTED_BODY_CHARS)})`;
  return `${what}: ${quoteForeign(body)}`;
}

/**
 * Foreign text on one line for a message: whitespace runs (`\r` too, which ends a line for the runner) to one space,
 * neutralised by the one function that does so (`shared/log.ts`).
 */
function oneLine(text: string): string {
  return neutralised(text.replace(/\s+/g, ' ').trim());
}

/** The start of a foreign body, quoted on one line for a message (see {@link foreignAnswerMessage}). */
export function quoteForeign(text: string): string {
  const line = oneLine(text);
  return `"${line.length > QUOTED_BODY_CHARS ? `${line.slice(0, QUOTED_BODY_CHARS)}...` : line}"`;
}

/** True when AWS answered with a refusal (a 4xx service error): such an attempt changed nothing. */
export function isRefusal(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  return '$fault' in ((error as object | undefined) ?? {}) && status !== undefined && status >= 400 && status < 500;
}
