import { parseInline, toPlain } from './inline.js';

// Markdown that no chat draws, rewritten into markdown every chat does before it is rendered: a table becomes an
// aligned monospace block (or, too wide for a phone, one bullet per row), and bold or strikethrough spanning
// lines is closed and reopened on each line (the inline parser reads one line at a time). Code stays untouched.

/** Columns wider than this (in characters) do not fit a phone screen in monospace: a list instead. */
export const PHONE_COLUMNS = 44;

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const SEPARATOR_CELL = /^:?-+:?$/;
const PREFIX = /^(\s*(?:[-*+]|\d{1,9}[.)])\s+|\s*>\s?)?/;
const SPANNING = ['**', '__', '~~'] as const;

/** `tables: false` leaves tables to a dialect that draws them itself (the web console). */
export function rewriteForChat(markdown: string, options: { tables: boolean } = { tables: true }): string {
  if (!markdown.includes('|') && !/\*\*|__|~~/.test(markdown)) return markdown;
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let paragraph: string[] = [];
  const flush = (): void => {
    out.push(...closeSpans(paragraph));
    paragraph = [];
  };
  let fence: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (fence !== null) {
      out.push(line);
      if (line.trim().startsWith(fence)) fence = null;
      continue;
    }
    const opening = FENCE.exec(line);
    if (opening) {
      flush();
      fence = opening[1]!;
      out.push(line);
      continue;
    }
    const table = options.tables ? tableAt(lines, i) : null;
    if (table) {
      flush();
      out.push(...renderTable(table));
      i = table.end - 1;
      continue;
    }
    if (line.trim() === '') {
      flush();
      out.push(line);
      continue;
    }
    paragraph.push(line);
  }
  flush();
  return out.join('\n');
}

/** The cells of a table row, or null when the line is no row (fewer than two cells). */
function cellsOf(line: string): string[] | null {
  if (!line.includes('|')) return null;
  const cells: string[] = [];
  let cell = '';
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (char === '\\' && line[i + 1] === '|') {
      cell += '|';
      i++;
    } else if (char === '|') {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += char;
    }
  }
  cells.push(cell.trim());
  const trimmed = line.trim();
  if (trimmed.startsWith('|')) cells.shift();
  if (trimmed.endsWith('|') && !trimmed.endsWith('\\|')) cells.pop();
  return cells.length >= 2 ? cells : null;
}

interface Table {
  rows: string[][];
  /** The line after the table. */
  end: number;
  /** Per column: aligned right (`---:`), as numbers usually are. */
  right: boolean[];
}

function tableAt(lines: readonly string[], start: number): Table | null {
  const header = cellsOf(lines[start]!);
  const separator = start + 1 < lines.length ? cellsOf(lines[start + 1]!) : null;
  if (!header || !separator || separator.length !== header.length) return null;
  if (!separator.every((cell) => SEPARATOR_CELL.test(cell))) return null;
  const rows = [header];
  let end = start + 2;
  while (end < lines.length) {
    const row = cellsOf(lines[end]!);
    if (!row) break;
    rows.push(header.map((_, column) => row[column] ?? ''));
    // A row with more cells than the header keeps them in its last column, so nothing is dropped.
    if (row.length > header.length)
      rows.at(-1)![header.length - 1] = row.slice(header.length - 1).join(' | ');
    end++;
  }
  return { rows, end, right: separator.map((cell) => cell.endsWith(':') && !cell.startsWith(':')) };
}

function renderTable({ rows, right }: Table): string[] {
  const plain = rows.map((row) => row.map((cell) => toPlain(parseInline(cell))));
  const widths = plain[0]!.map((_, column) => Math.max(...plain.map((row) => [...row[column]!].length)));
  const total = widths.reduce((sum, width) => sum + width, 0) + 3 * (widths.length - 1);
  if (total > PHONE_COLUMNS) return renderTableAsList(rows);
  const pad = (text: string, column: number): string => {
    const fill = ' '.repeat(widths[column]! - [...text].length);
    return right[column] ? fill + text : text + fill;
  };
  const line = (row: string[]): string =>
    row
      .map((cell, column) => pad(cell, column))
      .join(' | ')
      .trimEnd();
  const body = [
    line(plain[0]!),
    widths.map((width) => '-'.repeat(width)).join('-+-'),
    ...plain.slice(1).map(line),
  ];
  const longestRun = Math.max(
    2,
    ...body.map((text) => Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length))),
  );
  const fence = '`'.repeat(longestRun + 1);
  return [fence, ...body, fence];
}

/** The header in bold on one line, then one bullet per row: cells side by side, none dropped or repeated. */
function renderTableAsList(rows: string[][]): string[] {
  const [header, ...body] = rows;
  const joined = (row: string[]): string => row.map((cell) => cell || '—').join(' · ');
  return [`**${joined(header!)}**`, ...body.map((row) => `- ${joined(row)}`)];
}

/** Delimiter runs of `mark` outside inline code, in one line. */
function countOutsideCode(line: string, mark: string): number {
  const withoutCode = line.replace(/(`+)[^`]*?\1/g, '');
  return withoutCode.split(mark).length - 1;
}

/** Bold or strikethrough left open at a line's end is closed there and reopened on the following lines. */
function closeSpans(paragraph: string[]): string[] {
  let lines = paragraph;
  for (const mark of SPANNING) {
    if (!lines.some((line) => line.includes(mark))) continue;
    const next = [...lines];
    let openAt: number | null = null;
    for (let i = 0; i < next.length; i++) {
      if (countOutsideCode(lines[i]!, mark) % 2 === 0) continue;
      if (openAt === null) {
        openAt = i;
        continue;
      }
      next[openAt] = `${next[openAt]}${mark}`;
      for (let j = openAt + 1; j < i; j++) next[j] = wrapLine(next[j]!, mark, true);
      next[i] = wrapLine(next[i]!, mark, false);
      openAt = null;
    }
    lines = next;
  }
  return lines;
}

/** Reopens `mark` after the line's list or quote prefix (and closes it at the end when `close`). */
function wrapLine(line: string, mark: string, close: boolean): string {
  const prefix = PREFIX.exec(line)?.[0] ?? '';
  return `${prefix}${mark}${line.slice(prefix.length)}${close ? mark : ''}`;
}
