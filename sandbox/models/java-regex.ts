/**
 * Java regular expressions (java.util.regex, as AWS's models write them) as JavaScript RegExps with the same
 * meaning for the constructs the models use. AWS matches a pattern against the whole value (`Matcher.matches`).
 */

/** Java's POSIX classes (`\p{Alpha}`, ASCII-only by default) as class contents. */
const POSIX: Record<string, string> = {
  Lower: 'a-z',
  Upper: 'A-Z',
  ASCII: '\\x00-\\x7F',
  Alpha: 'a-zA-Z',
  Digit: '0-9',
  Alnum: 'a-zA-Z0-9',
  Punct: '!-\\/:-@\\[-`{-~',
  Graph: '!-~',
  Print: ' -~',
  Blank: ' \\t',
  Cntrl: '\\x00-\\x1F\\x7F',
  XDigit: '0-9a-fA-F',
  Space: ' \\t\\n\\x0B\\f\\r',
};
/** Java's `\s`: ASCII whitespace only (JavaScript's also matches Unicode spaces). */
const JAVA_SPACE = ' \\t\\n\\x0B\\f\\r';
/** Java's `\S` as class contents: JavaScript's `\S` plus the Unicode spaces only JavaScript counts as `\s`. */
const JAVA_NON_SPACE_IN_CLASS = '\\S\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\uFEFF';
/** Java's `.` without DOTALL stops at these line terminators; JavaScript's does not know U+0085. */
const JAVA_DOT = '[^\\n\\r\\u0085\\u2028\\u2029]';
/** Characters a `u`-mode JavaScript pattern lets be escaped; Java allows escaping any non-letter. */
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/-'.split(''));

export class UnsupportedJavaRegex extends Error {}

/**
 * Translates `source` (Java syntax) to a RegExp matching whole values. Handles `\p{L}`-style categories and
 * scripts (`\p{IsLatin}`, `\p{L}`), POSIX classes (`\p{Alpha}`), Java's ASCII `\s`, `.` and line terminators,
 * escapes JavaScript refuses in `u` mode (`\:`), `\Q...\E` quoting, `\A` `\z` `\Z`, a leading `(?i)`, and
 * `\uXXXX` read as exactly four hex digits as Java reads it (so `\u10000` is U+1000 then `0`). Possessive
 * quantifiers and atomic groups become their backtracking forms, which accept the same values for the
 * models' patterns (none relies on refusing by not backtracking). Throws UnsupportedJavaRegex for class
 * intersections (`&&`) and other constructs with no JavaScript equivalent.
 */
export function javaRegex(source: string): RegExp {
  let flags = 'u';
  let rest = source;
  const inline = /^\(\?([a-z]+)\)/.exec(rest);
  if (inline) {
    for (const flag of inline[1]) {
      if (flag === 'i') flags += 'i';
      else if (flag === 's') flags += 's';
      else throw new UnsupportedJavaRegex(`inline flag (?${flag}) in ${source}`);
    }
    rest = rest.slice(inline[0].length);
  }
  return new RegExp(`^(?:${translate(rest, source)})$`, flags);
}

function translate(text: string, source: string): string {
  let out = '';
  let inClass = false;
  let afterQuantifier = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (afterQuantifier && c !== '+' && c !== '?') afterQuantifier = false;
    if (c === '\\') {
      const escape = translateEscape(text, i, inClass, source);
      out += escape.js;
      i = escape.last;
      continue;
    }
    if (inClass) {
      if (c === '&' && text[i + 1] === '&') throw new UnsupportedJavaRegex(`class intersection in ${source}`);
      if (c === '[') throw new UnsupportedJavaRegex(`nested class in ${source}`);
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (text[i + 1] === '^') out += text[++i];
      // Java, like JavaScript outside `v` mode, reads a `]` right after `[` or `[^` as a literal.
      if (text[i + 1] === ']') {
        out += '\\]';
        i += 1;
      }
      continue;
    }
    if (c === '.') {
      out += JAVA_DOT;
      continue;
    }
    // A `+` right after a quantifier makes it possessive, a `?` lazy; JavaScript has only the latter.
    if (afterQuantifier && c === '+') {
      afterQuantifier = false;
      continue;
    }
    if (c === '{' && /^\{\d+(,\d*)?\}/.test(text.slice(i))) {
      const quantifier = /^\{\d+(,\d*)?\}/.exec(text.slice(i))![0];
      out += quantifier;
      i += quantifier.length - 1;
      afterQuantifier = true;
      continue;
    }
    afterQuantifier = c === '*' || c === '+' || (c === '?' && !afterQuantifier && text[i - 1] !== '(');
    if (c === '(' && text.startsWith('(?>', i)) {
      out += '(?:';
      i += 2;
      continue;
    }
    if (c === '(' && /^\(\?[a-z]/.test(text.slice(i)) && !text.startsWith('(?<', i)) {
      throw new UnsupportedJavaRegex(`inline flags inside ${source}`);
    }
    out += c;
  }
  if (inClass) throw new UnsupportedJavaRegex(`unclosed class in ${source}`);
  return out;
}

/** The escape at `text[i]` (a backslash) in JavaScript's syntax, and the index of its last character. */
function translateEscape(text: string, i: number, inClass: boolean, source: string): { js: string; last: number } {
  const next = text[i + 1];
  if (next === undefined) throw new UnsupportedJavaRegex(`trailing backslash in ${source}`);
  if (next === 'Q') {
    const end = text.indexOf('\\E', i + 2);
    const quoted = text.slice(i + 2, end < 0 ? undefined : end);
    return { js: quoted.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'), last: end < 0 ? text.length : end + 1 };
  }
  if (next === 'p' || next === 'P') {
    const match = /^\{(\w+)\}/.exec(text.slice(i + 2));
    if (!match) throw new UnsupportedJavaRegex(`\\${next} without {name} in ${source}`);
    return { js: property(next === 'P', match[1], inClass, source), last: i + 1 + match[0].length };
  }
  if (next === 'u') {
    const hex = text.slice(i + 2, i + 6);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new UnsupportedJavaRegex(`\\u needs four hex digits in ${source}`);
    return { js: `\\u${hex}`, last: i + 5 };
  }
  const last = i + 1;
  if (next === 's' || next === 'S') {
    if (inClass) return { js: next === 's' ? JAVA_SPACE : JAVA_NON_SPACE_IN_CLASS, last };
    return { js: next === 's' ? `[${JAVA_SPACE}]` : `[^${JAVA_SPACE}]`, last };
  }
  if (!inClass && (next === 'A' || next === 'z')) return { js: next === 'A' ? '^' : '$', last };
  if (!inClass && next === 'Z') return { js: '(?=[\\n\\r\\u0085\\u2028\\u2029]?$)', last };
  if (/[a-zA-Z0-9]/.test(next)) {
    if (!/[dDwWbBtnrfeaxc0-9]/.test(next)) throw new UnsupportedJavaRegex(`\\${next} in ${source}`);
    return { js: next === 'e' ? '\\x1B' : next === 'a' ? '\\x07' : `\\${next}`, last };
  }
  return { js: JS_SYNTAX.has(next) && (inClass || next !== '-') ? `\\${next}` : next === '-' ? '-' : next, last };
}

function property(negated: boolean, name: string, inClass: boolean, source: string): string {
  const posix = POSIX[name];
  if (posix !== undefined) {
    if (inClass && negated) throw new UnsupportedJavaRegex(`\\P{${name}} inside a class in ${source}`);
    return inClass ? posix : `[${negated ? '^' : ''}${posix}]`;
  }
  // `\p{IsLatin}` / `\p{IsL}` name a script or category; `\p{L}`, `\p{Lu}` a category.
  const unicode = name.startsWith('Is') ? name.slice(2) : name;
  const js = `\\${negated ? 'P' : 'p'}{${unicode}}`;
  try {
    new RegExp(js, 'u');
  } catch {
    const script = `\\${negated ? 'P' : 'p'}{Script=${unicode}}`;
    try {
      new RegExp(script, 'u');
      return script;
    } catch {
      throw new UnsupportedJavaRegex(`\\p{${name}} in ${source}`);
    }
  }
  return js;
}
