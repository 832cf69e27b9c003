/** `MaxResults`/`NextToken` paging as the list operations do it: opaque tokens bound to the query they came from. */
import { AwsError } from '../../errors.js';

export function paginate<T>(
  items: T[],
  request: { MaxResults?: unknown; NextToken?: unknown },
  query: string,
): { page: T[]; NextToken?: string } {
  const size = (request.MaxResults as number | undefined) ?? 50;
  let offset = 0;
  if (request.NextToken !== undefined) {
    const token = decode(request.NextToken);
    if (!token || token.query !== query) throw new AwsError('InvalidNextToken', 'The specified token isn\'t valid.');
    offset = token.offset;
  }
  const next = offset + size;
  const token = Buffer.from(JSON.stringify({ query, offset: next })).toString('base64');
  return { page: items.slice(offset, next), NextToken: next < items.length ? token : undefined };
}

function decode(value: unknown): { query: string; offset: number } | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const token = JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as { query?: unknown; offset?: unknown };
    const { query, offset } = token;
    if (typeof query !== 'string' || !Number.isInteger(offset) || (offset as number) < 0) return undefined;
    return { query, offset: offset as number };
  } catch {
    return undefined;
  }
}
