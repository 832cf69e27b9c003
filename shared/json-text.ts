/**
 * JSON text kept as written. `JSON.stringify(JSON.parse(text))` is not a minifier: it keeps only the last of two
 * equal keys (a second "Statement" silently replaces the first), turns `1e999` into `null` and rounds integers past
 * 2^53. Text that reaches AWS (a session policy) must say what its author wrote, so it is only ever stripped of the
 * whitespace between tokens.
 */

/** JSON's insignificant whitespace (RFC 8259 section 2): space, tab, line feed, carriage return. */
const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/**
 * `text` without the whitespace outside its strings, byte for byte otherwise (escapes, numbers and key order
 * untouched), or why it is refused: not JSON (`JSON.parse`'s message), or an object that names a key twice.
 * Keys are compared as JSON reads them, after unescaping (`"a"` and `"\u0061"` are the same key).
 *
 * @returns `{ text }` or `{ problem }`; the problem names the duplicate key and its object's path (`$.Statement[0]`).
 */
export function minifyJson(text: string): { text: string } | { problem: string } {
  try {
    JSON.parse(text);
  } catch (error) {
    return { problem: `not JSON: ${(error as Error).message}` };
  }
  // The text is valid JSON from here on, so a token scan is enough: no error paths, only structure.
  const kept: string[] = [];
  /** One entry per open object or array: the object's keys seen so far, or null for an array; its path. */
  const open: Array<{ keys: Set<string> | null; path: string; index: number }> = [];
  let pendingKey: string | undefined;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (WHITESPACE.has(c)) {
      i += 1;
      continue;
    }
    if (c === '"') {
      const end = stringEnd(text, i);
      const token = text.slice(i, end);
      kept.push(token);
      i = end;
      const top = open.at(-1);
      if (top?.keys && nextToken(text, i) === ':') {
        const key = JSON.parse(token) as string;
        if (top.keys.has(key)) {
          return { problem: `the object at ${top.path} names the key ${JSON.stringify(key)} twice (JSON readers keep only one of the two)` };
        }
        top.keys.add(key);
        pendingKey = key;
      }
      continue;
    }
    if (c === '{' || c === '[') {
      const top = open.at(-1);
      const path = !top ? '$' : top.keys ? `${top.path}.${pendingKey}` : `${top.path}[${top.index}]`;
      open.push({ keys: c === '{' ? new Set() : null, path, index: 0 });
    } else if (c === '}' || c === ']') {
      open.pop();
    } else if (c === ',') {
      const top = open.at(-1);
      if (top && !top.keys) top.index += 1;
    }
    kept.push(c);
    i += 1;
  }
  return { text: kept.join('') };
}

/** Index just past the string token that opens at `start` (a `"`), stepping over escapes such as `\"`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}

function nextToken(text: string, from: number): string | undefined {
  let i = from;
  while (i < text.length && WHITESPACE.has(text[i])) i += 1;
  return text[i];
}
