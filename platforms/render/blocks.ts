import type { Dialect } from './dialect.js';
import { parseInline, toMarkup, toPlain } from './inline.js';
import type { Formatted } from './types.js';

// Markdown → blocks of rendered lines. A block is what we prefer not to split (a paragraph, a code fence, a
// quote); a wrapper is markup that must be closed at the end of a message and reopened in the next one.

export interface Wrapper {
  open: string;
  close: string;
  /** Plain-text header shown once, at the start of the block (a fence's language). */
  plainHeader: string;
}

export interface Line extends Formatted {
  /** How to re-render a piece of this line when the line alone is longer than a message. */
  kind: 'text' | 'code';
  source: string;
}

export interface Block {
  /** A blank line separated this block from the previous one in the source. */
  blankBefore: boolean;
  wrapper: Wrapper | null;
  lines: Line[];
}

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})[ \t]*([A-Za-z0-9_+#.-]{0,20})[ \t]*$/;
const FENCE_CLOSE = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;
const HEADING = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const BULLET = /^([ \t]*)[-*+][ \t]+(.*)$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const TABLE_ROW = /^ {0,3}\|.*\|[ \t]*$/;
const TABLE_RULE = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;

/** A row's cells: split on pipes that are not escaped, without the outer ones. */
function tableCells(row: string): string[] {
  const cells = row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/);
  return cells.map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

/** A table starting at `lines[at]` as one line of the dialect's table markup, and how many lines it took. */
function renderTable(lines: string[], at: number, dialect: Dialect): { line: Line; taken: number } | null {
  const markup = dialect.markdown;
  if (markup === 'native' || markup.table === undefined) return null;
  const head = lines[at] as string;
  const rule = lines[at + 1];
  if (!TABLE_ROW.test(head) || rule === undefined || !TABLE_RULE.test(rule) || !rule.includes('-'))
    return null;
  let end = at + 2;
  while (end < lines.length && TABLE_ROW.test(lines[end] as string)) end++;
  const cellMarkup = (cell: string): string => toMarkup(parseInline(cell), dialect, markup, true);
  const source = lines.slice(at, end).join('\n');
  const formatted = markup.table(
    tableCells(head).map(cellMarkup),
    lines.slice(at + 2, end).map((row) => tableCells(row).map(cellMarkup)),
  );
  return { line: { kind: 'text', source, formatted, plain: dialect.verbatim(source) }, taken: end - at };
}

export function renderTextLine(source: string, dialect: Dialect): Line {
  const markup = dialect.markdown;
  if (markup === 'native') {
    return {
      kind: 'text',
      source,
      formatted: dialect.verbatim(source),
      plain: dialect.verbatim(plainOfLine(source)),
    };
  }
  const heading = HEADING.exec(source);
  if (heading) {
    const nodes = parseInline(heading[1] ?? '');
    return {
      kind: 'text',
      source,
      formatted: markup.heading(toMarkup(nodes, dialect, markup, true)),
      plain: dialect.verbatim(toPlain(nodes)),
    };
  }
  const bullet = BULLET.exec(source);
  if (bullet) {
    const nodes = parseInline(bullet[2] ?? '');
    const prefix = `${bullet[1] ?? ''}• `;
    return {
      kind: 'text',
      source,
      formatted: prefix + toMarkup(nodes, dialect, markup),
      plain: dialect.verbatim(prefix + toPlain(nodes)),
    };
  }
  const nodes = parseInline(source);
  return {
    kind: 'text',
    source,
    formatted: toMarkup(nodes, dialect, markup),
    plain: dialect.verbatim(toPlain(nodes)),
  };
}

function plainOfLine(source: string): string {
  const heading = HEADING.exec(source);
  if (heading) return toPlain(parseInline(heading[1] ?? ''));
  const bullet = BULLET.exec(source);
  if (bullet) return `${bullet[1] ?? ''}• ${toPlain(parseInline(bullet[2] ?? ''))}`;
  const quote = QUOTE.exec(source);
  if (quote) return toPlain(parseInline(quote[1] ?? ''));
  return toPlain(parseInline(source));
}

function renderQuoteLine(source: string, dialect: Dialect): Line {
  const markup = dialect.markdown;
  if (markup === 'native') return renderTextLine(source, dialect);
  const nodes = parseInline((QUOTE.exec(source)?.[1] ?? '').trimEnd());
  // Inside a quote, as inside any entity: code only where the dialect lets it nest.
  return {
    kind: 'text',
    source,
    formatted: toMarkup(nodes, dialect, markup, true),
    plain: dialect.verbatim(toPlain(nodes)),
  };
}

export function renderCodeLine(source: string, dialect: Dialect): Line {
  return { kind: 'code', source, formatted: dialect.codeLine(source), plain: source };
}

function codeWrapper(lang: string, dialect: Dialect): Wrapper {
  return { ...dialect.codeBlock(lang), plainHeader: lang ? `${lang}\n` : '' };
}

export function toBlocks(markdown: string, dialect: Dialect): Block[] {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const markup = dialect.markdown;
  // One object per call: a block's wrapper is compared by identity to tell quote lines from the others.
  const quote: Wrapper | null = markup === 'native' ? null : { ...markup.quote, plainHeader: '' };
  const blocks: Block[] = [];
  let blankBefore = false;
  let current: Block | null = null;
  let i = 0;
  const finish = (): void => {
    if (current && current.lines.length > 0) blocks.push(current);
    current = null;
  };
  while (i < lines.length) {
    const line = lines[i] as string;
    const fence = FENCE_OPEN.exec(line);
    if (fence) {
      finish();
      const mark = fence[1] as string;
      const lang = fence[2] ?? '';
      const body: Line[] = [];
      i++;
      while (i < lines.length) {
        const close = FENCE_CLOSE.exec(lines[i] as string);
        if (close && close[1]?.[0] === mark[0] && (close[1]?.length ?? 0) >= mark.length) break;
        body.push(renderCodeLine(lines[i] as string, dialect));
        i++;
      }
      i++; // the closing fence (or the end of the text: an unclosed fence runs to the end)
      if (body.some((l) => l.source.trim())) {
        blocks.push({ blankBefore, wrapper: codeWrapper(lang, dialect), lines: body });
      } else if (lang) {
        blocks.push({ blankBefore, wrapper: null, lines: [renderTextLine(escapeLang(lang), dialect)] });
      }
      blankBefore = false;
      continue;
    }
    if (!line.trim()) {
      finish();
      blankBefore = blocks.length > 0;
      i++;
      continue;
    }
    const table = renderTable(lines, i, dialect);
    if (table) {
      finish();
      blocks.push({ blankBefore, wrapper: null, lines: [table.line] });
      blankBefore = false;
      i += table.taken;
      continue;
    }
    const isQuote = quote !== null && QUOTE.test(line);
    const wrapper = isQuote ? quote : null;
    if (!current || current.wrapper !== wrapper) {
      finish();
      current = { blankBefore, wrapper, lines: [] };
      blankBefore = false;
    }
    (current as Block).lines.push(isQuote ? renderQuoteLine(line, dialect) : renderTextLine(line, dialect));
    i++;
  }
  finish();
  return blocks;
}

/** An empty fence's language, shown as literal text so nothing is lost. */
function escapeLang(lang: string): string {
  return lang.replace(/[\\`*_~[\]#>|+-]/g, '\\$&');
}
