import { type Block, type Line, renderCodeLine, renderTextLine, toBlocks, type Wrapper } from './blocks.js';
import type { Dialect } from './dialect.js';
import { rewriteForChat } from './rewrite.js';
import { wellFormedParts } from './text.js';
import { assertLimits, type Formatted, type RenderLimits } from './types.js';

// Packs rendered blocks into messages: whole blocks when they fit, else at paragraph boundaries, else at
// line boundaries (closing a fence or quote and reopening it in the next part), and only a line longer than
// a whole message is cut, at whitespace when there is some, never inside a surrogate pair.

/**
 * Markdown → as many messages as needed, each part's formatted and plain text within `maxLength`.
 * Whitespace-only input gives no parts.
 */
export function renderMarkdown(markdown: string, limits: RenderLimits): Formatted[] {
  assertLimits(limits);
  const { markdown: markup } = limits.dialect;
  // A dialect with table markup draws tables itself; for the others they become monospace or a list first.
  const tables = markup === 'native' || markup.table === undefined;
  return packBlocks(toBlocks(rewriteForChat(markdown, { tables }), limits.dialect), limits).map(
    wellFormedParts,
  );
}

interface Part {
  formatted: string;
  plain: string;
  /** The wrapper currently open in this part; its close is owed at the end. */
  open: Wrapper | null;
}

function packBlocks(blocks: readonly Block[], limits: RenderLimits): Formatted[] {
  const max = limits.maxLength;
  const parts: Formatted[] = [];
  let part: Part = { formatted: '', plain: '', open: null };
  const isEmpty = (): boolean => part.formatted === '' && part.plain === '';
  const emit = (): void => {
    const formatted = part.formatted + (part.open?.close ?? '');
    if (part.plain.trim()) parts.push({ formatted, plain: part.plain });
    part = { formatted: '', plain: '', open: null };
  };
  const fits = (formatted: string, plain: string, wrapper: Wrapper | null): boolean =>
    formatted.length + (wrapper?.close.length ?? 0) <= max && plain.length <= max;

  for (const block of blocks) {
    const whole = renderBlock(block);
    const separator = block.blankBefore ? '\n\n' : '\n';
    if (!isEmpty()) {
      const formatted = part.formatted + (part.open?.close ?? '') + separator + whole.formatted;
      if (fits(formatted, part.plain + separator + whole.plain, null)) {
        part = { formatted, plain: part.plain + separator + whole.plain, open: null };
        continue;
      }
      emit();
    }
    if (fits(whole.formatted, whole.plain, null)) {
      part = { formatted: whole.formatted, plain: whole.plain, open: null };
      continue;
    }
    // The block alone is too long: line by line.
    const wrapper = block.wrapper;
    let first = true;
    for (const line of block.lines) {
      const budget =
        max - (wrapper ? wrapper.open.length + wrapper.close.length + wrapper.plainHeader.length : 0);
      for (const piece of line.formatted.length + 1 > budget || line.plain.length + 1 > budget
        ? cutLine(line, budget - 1, limits.dialect)
        : [line]) {
        const header = first ? (wrapper?.plainHeader ?? '') : '';
        first = false;
        if (!isEmpty()) {
          const formatted = `${part.formatted}\n${piece.formatted}`;
          const plain = `${part.plain}\n${header}${piece.plain}`;
          if (fits(formatted, plain, part.open)) {
            part = { formatted, plain, open: part.open };
            continue;
          }
          emit();
        }
        part = {
          formatted: (wrapper?.open ?? '') + piece.formatted,
          plain: header + piece.plain,
          open: wrapper,
        };
      }
    }
  }
  if (!isEmpty()) emit();
  return parts;
}

function renderBlock(block: Block): Formatted {
  const body = block.lines.map((l) => l.formatted).join('\n');
  const plain = block.lines.map((l) => l.plain).join('\n');
  if (!block.wrapper) return { formatted: body, plain };
  return {
    formatted: block.wrapper.open + body + block.wrapper.close,
    plain: block.wrapper.plainHeader + plain,
  };
}

/** Index at or before `at` that does not separate a surrogate pair. */
export function safeCut(text: string, at: number): number {
  if (at <= 0 || at >= text.length) return Math.max(0, Math.min(at, text.length));
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff ? at - 1 : at;
}

/** Cuts a line longer than a message into pieces that each render within `budget`. */
function cutLine(line: Line, budget: number, dialect: Dialect): Line[] {
  const render = (source: string): Line =>
    line.kind === 'code' ? renderCodeLine(source, dialect) : renderTextLine(source, dialect);
  const pieces: Line[] = [];
  let rest = line.source;
  while (rest.length > 0) {
    let size = Math.min(rest.length, budget);
    for (;;) {
      let cut = safeCut(rest, size);
      if (cut < rest.length && line.kind === 'text') {
        const space = rest.lastIndexOf(' ', cut - 1);
        if (space > cut / 2) cut = space + 1;
      }
      if (cut === 0) cut = Math.min(rest.length, rest.codePointAt(0)! > 0xffff ? 2 : 1);
      const piece = render(rest.slice(0, cut));
      if ((piece.formatted.length <= budget && piece.plain.length <= budget) || cut <= 2) {
        pieces.push(piece);
        rest = rest.slice(cut);
        break;
      }
      size = Math.max(1, Math.floor(Math.min(size, cut) * 0.75));
    }
  }
  return pieces;
}
