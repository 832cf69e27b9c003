/**
 * The job summary of an action: a title, a table of facts, and tables of items (instances, installables, a
 * timeline), written once at the end through `core.summary`.
 *
 * `core.summary` inserts its arguments as raw HTML; every text here comes from AWS or the user (status reasons, tag
 * values), so all of it is escaped, and links are only ever http(s).
 */
import * as core from './actions-core.js';
import { errorMessage } from './errors.js';
import * as log from './log.js';

/** A table cell: plain text, or text shown as code and/or linked. Absent values show as an empty cell. */
export type Cell = string | number | boolean | Date | null | undefined | { text: string; href?: string; code?: boolean };

export interface SummaryTable {
  title?: string;
  columns: string[];
  rows: Cell[][];
}

export interface JobSummary {
  title: string;
  /** One sentence under the title, such as the outcome. */
  text?: string;
  /** Label and value rows; a row whose value is null or undefined is left out. */
  facts?: Array<[label: string, value: Cell]>;
  tables?: SummaryTable[];
  /**
   * A Mermaid diagram (its source, without the fence), shown after the facts: GitHub renders ```mermaid blocks in job
   * summaries. Every label in it that came from outside must have gone through {@link mermaidText}.
   */
  mermaid?: string;
}

/** Writes the summary; false (with a debug line) where there is no summary file, as outside a runner. */
export async function writeSummary(summary: JobSummary): Promise<boolean> {
  if (!process.env.GITHUB_STEP_SUMMARY) {
    core.debug('No GITHUB_STEP_SUMMARY: the job summary is not written.');
    return false;
  }
  const out = core.summary.emptyBuffer();
  out.addHeading(escapeHtml(summary.title), 2);
  if (summary.text) out.addRaw(`<p>${escapeHtml(summary.text)}</p>`, true);
  const facts = (summary.facts ?? []).filter(([, value]) => value !== null && value !== undefined);
  if (facts.length > 0) {
    out.addTable(facts.map(([label, value]) => [{ data: escapeHtml(label), header: true }, { data: renderCell(value) }]));
  }
  // Blank lines around the fence: it is Markdown, between blocks of raw HTML.
  if (summary.mermaid) out.addRaw(`\n\`\`\`mermaid\n${summary.mermaid.replaceAll('`', "'")}\n\`\`\`\n\n`);
  for (const table of summary.tables ?? []) {
    if (table.title) out.addHeading(escapeHtml(table.title), 3);
    out.addTable([
      table.columns.map((column) => ({ data: escapeHtml(column), header: true })),
      ...table.rows.map((row) => table.columns.map((_column, i) => renderCell(row[i]))),
    ]);
  }
  try {
    await out.write();
    return true;
  } catch (error) {
    // A deploy that worked must not fail over its report.
    log.warning(`Could not write the job summary: ${errorMessage(error)}`);
    return false;
  } finally {
    out.emptyBuffer();
  }
}

export function renderCell(cell: Cell): string {
  if (cell === null || cell === undefined || cell === '') return ' ';
  if (cell instanceof Date) return escapeHtml(cell.toISOString());
  if (typeof cell !== 'object') return escapeHtml(String(cell));
  const text = cell.code ? `<code>${escapeHtml(cell.text)}</code>` : escapeHtml(cell.text);
  return cell.href && /^https?:\/\//i.test(cell.href) ? `<a href="${escapeHtml(cell.href)}">${text}</a>` : text;
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/**
 * Text from AWS, the user or an instance, made safe as a Mermaid label: only letters, digits, spaces and
 * `-_.,/()+=@'[]` are kept, every other character becomes a space, runs of spaces one, at most `maxChars`.
 * That removes what Mermaid reads as syntax in a label (`:` ends a gantt task name, `;` and newlines end a
 * statement, `#...;` is an entity, `%%` a comment or directive, `<` HTML, a backtick the end of the fence), and a
 * label that begins with one of the gantt grammar's keywords is quoted.
 */
export function mermaidText(text: string, maxChars = 60): string {
  const safe = text
    .replace(/[^A-Za-z0-9 \-_.,/()+=@'[\]]/g, ' ')
    .replace(/ +/g, ' ')
    .trim();
  const short = safe.length > maxChars ? `${safe.slice(0, maxChars - 3)}...` : safe;
  // A label that begins with a word Mermaid's gantt lexer reads as a statement (`section`, `click`, `call`, ...)
  // would start one where a label stands alone on its line: such a label is quoted.
  return MERMAID_KEYWORD.test(short) ? `'${short}'` : short;
}

const MERMAID_KEYWORD =
  /^(gantt|title|section|click|call|href|dateFormat|axisFormat|tickInterval|excludes|includes|todayMarker|weekday|weekend|inclusiveEndDates|topAxis|accTitle|accDescr|displayMode)\b/i;
