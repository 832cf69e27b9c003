/**
 * A job summary's HTML as terminal text: headings underlined, paragraphs and list items as lines, tables as aligned
 * columns (a rule under a header row), links and code as their text. It reads the HTML `core.summary` writes
 * (headings, paragraphs, tables, links, code, lists), not HTML at large.
 */

interface Cell {
  text: string;
  header: boolean;
}

const TOKEN = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>|([^<]+)/g;
const UNDERLINE: Record<string, string> = { h1: '=', h2: '=', h3: '-' };
const LINE_BREAK = '\u0000';
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

export function summaryText(html: string): string {
  const blocks: string[] = [];
  let text = '';
  let table: Cell[][] | undefined;
  let row: Cell[] | undefined;
  let cell: Cell | undefined;
  let items: string[] = [];

  const flush = () => {
    const lines = squeeze(text);
    if (lines) blocks.push(lines);
    text = '';
  };

  for (const [, closing, name, chunk] of html.matchAll(TOKEN)) {
    if (chunk !== undefined) {
      if (cell) cell.text += decode(chunk);
      else text += decode(chunk);
      continue;
    }
    const tag = name.toLowerCase();
    if (/^h[1-6]$/.test(tag)) {
      if (!closing) flush();
      else {
        const title = squeeze(text);
        text = '';
        if (title) blocks.push(`${title}\n${(UNDERLINE[tag] ?? '-').repeat(title.length)}`);
      }
    } else if (tag === 'table') {
      if (!closing) {
        flush();
        table = [];
      } else if (table) {
        blocks.push(alignedColumns(table));
        table = undefined;
      }
    } else if (tag === 'tr') {
      if (!closing) row = [];
      else if (row) {
        table?.push(row);
        row = undefined;
      }
    } else if (tag === 'th' || tag === 'td') {
      if (!closing) cell = { text: '', header: tag === 'th' };
      else if (cell) {
        row?.push({ ...cell, text: squeeze(cell.text) });
        cell = undefined;
      }
    } else if (tag === 'li') {
      if (closing) items.push(`- ${squeeze(text)}`);
      else flush();
      text = '';
    } else if (tag === 'br') {
      if (cell) cell.text += ' ';
      else text += LINE_BREAK;
    } else if (['p', 'div', 'ul', 'ol', 'details', 'summary', 'pre'].includes(tag)) {
      flush();
      if (items.length > 0) blocks.push(items.join('\n'));
      items = [];
    }
  }
  flush();
  if (items.length > 0) blocks.push(items.join('\n'));
  return blocks.join('\n\n');
}

/** Columns as wide as their widest cell, two spaces apart; a header row gets a rule under it. */
function alignedColumns(rows: Cell[][]): string {
  const widths: number[] = [];
  for (const cells of rows) cells.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.text.length)));
  const line = (texts: string[]) =>
    texts
      .map((t, i) => t.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const lines = rows.map((cells) => line(cells.map((c) => c.text)));
  const headerRow = rows.length > 1 && rows[0].length > 1 && rows[0].every((c) => c.header);
  if (headerRow) lines.splice(1, 0, line(widths.map((w) => '-'.repeat(w))));
  return lines.join('\n');
}

/** Whitespace as HTML renders it: runs of it one space, lines only where a `<br>` was. */
function squeeze(text: string): string {
  return text
    .split(LINE_BREAK)
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .join('\n');
}

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (entity, body: string) => {
    if (body[0] !== '#') return ENTITIES[body.toLowerCase()] ?? entity;
    const code = body[1].toLowerCase() === 'x' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return String.fromCodePoint(code);
  });
}
