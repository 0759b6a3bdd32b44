import type { Dialect, MarkdownMarkup } from './dialect.js';

// Inline markdown of one line → a small tree → a dialect's markup and plain text. Anything that does not close
// properly stays literal text (escaped), so the markup is well-formed by construction: markup is only ever
// emitted around a parsed node, opened and closed by one dialect call.

export type Inline =
  | { kind: 'text'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'strong' | 'em' | 'strike'; children: Inline[] }
  | { kind: 'link'; url: string; children: Inline[] };

const PUNCTUATION = /[!-/:-@[-`{-~]/;
const SAFE_URL = /^(?:https?:\/\/|mailto:|tg:\/\/)[^\s]+$/;
const MAX_DEPTH = 4;

type Delimiter = '**' | '__' | '~~' | '*' | '_';
const DELIMITERS: ReadonlyArray<{ mark: Delimiter; kind: 'strong' | 'em' | 'strike' }> = [
  { mark: '**', kind: 'strong' },
  { mark: '__', kind: 'strong' },
  { mark: '~~', kind: 'strike' },
  { mark: '*', kind: 'em' },
  { mark: '_', kind: 'em' },
];

const isSpace = (c: string | undefined): boolean => c === undefined || /\s/.test(c);
const isWordChar = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}]/u.test(c);

function backtickRun(s: string, at: number): number {
  let n = 0;
  while (s[at + n] === '`') n++;
  return n;
}

/** Index of a backtick run of exactly `n` at or after `from`, or -1. */
function findBacktickRun(s: string, from: number, n: number): number {
  let at = s.indexOf('`', from);
  while (at >= 0) {
    const run = backtickRun(s, at);
    if (run === n) return at;
    at = s.indexOf('`', at + run);
  }
  return -1;
}

function canOpen(s: string, at: number, mark: Delimiter): boolean {
  const after = s[at + mark.length];
  if (isSpace(after)) return false;
  if (mark.length === 1 && after === mark) return false;
  if (mark[0] === '_' && isWordChar(s[at - 1])) return false;
  return true;
}

function findClose(s: string, from: number, mark: Delimiter): number {
  let j = from + 1; // content is never empty
  while (j < s.length) {
    const c = s[j];
    if (c === '\\') {
      j += 2;
      continue;
    }
    if (c === '`') {
      const run = backtickRun(s, j);
      const end = findBacktickRun(s, j + run, run);
      j = end < 0 ? j + run : end + run;
      continue;
    }
    if (mark.length === 1 && s.startsWith(mark + mark, j)) {
      j += 2;
      continue;
    }
    if (s.startsWith(mark, j) && !isSpace(s[j - 1]) && !(mark[0] === '_' && isWordChar(s[j + mark.length]))) {
      return j;
    }
    j++;
  }
  return -1;
}

/**
 * Parses one line. Searches that failed are remembered (`noCloseFrom`): a delimiter with no closer after
 * position p has none after any later position either, which keeps pathological lines linear-ish.
 */
export function parseInline(s: string, depth = 0, allowLinks = true): Inline[] {
  const out: Inline[] = [];
  let buffer = '';
  const noCloseFrom = new Map<string, number>();
  const failedBefore = (key: string, at: number): boolean => at >= (noCloseFrom.get(key) ?? Infinity);
  const pushText = (): void => {
    if (buffer) out.push({ kind: 'text', text: buffer });
    buffer = '';
  };
  let i = 0;
  outer: while (i < s.length) {
    const c = s[i] as string;
    if (c === '\\' && i + 1 < s.length && PUNCTUATION.test(s[i + 1] as string)) {
      buffer += s[i + 1];
      i += 2;
      continue;
    }
    if (c === '`') {
      const run = backtickRun(s, i);
      const key = `\`${run}`;
      const end = failedBefore(key, i) ? -1 : findBacktickRun(s, i + run, run);
      let text = end < 0 ? '' : s.slice(i + run, end);
      if (text.length > 1 && text.startsWith(' ') && text.endsWith(' ')) text = text.slice(1, -1);
      if (end >= 0 && text.trim()) {
        pushText();
        out.push({ kind: 'code', text });
        i = end + run;
      } else {
        if (end < 0) noCloseFrom.set(key, i);
        buffer += s.slice(i, i + run);
        i += run;
      }
      continue;
    }
    if (depth < MAX_DEPTH) {
      for (const { mark, kind } of DELIMITERS) {
        if (!s.startsWith(mark, i) || !canOpen(s, i, mark) || failedBefore(mark, i)) continue;
        const close = findClose(s, i + mark.length, mark);
        if (close < 0) {
          noCloseFrom.set(mark, i);
          continue;
        }
        pushText();
        out.push({ kind, children: parseInline(s.slice(i + mark.length, close), depth + 1, allowLinks) });
        i = close + mark.length;
        continue outer;
      }
      if (c === '[' && allowLinks && !failedBefore('[', i)) {
        const link = parseLink(s, i, depth);
        if (link) {
          pushText();
          out.push(link.node);
          i = link.end;
          continue;
        }
      }
    }
    buffer += c;
    i++;
  }
  pushText();
  return out;
}

function parseLink(s: string, at: number, depth: number): { node: Inline; end: number } | null {
  const close = s.indexOf('](', at + 1);
  if (close < 0) return null;
  const text = s.slice(at + 1, close);
  if (!text.trim() || text.includes('[') || text.includes(']')) return null;
  const end = s.indexOf(')', close + 2);
  if (end < 0) return null;
  const url = s.slice(close + 2, end);
  if (!SAFE_URL.test(url)) return null;
  return { node: { kind: 'link', url, children: parseInline(text, depth + 1, false) }, end: end + 1 };
}

/**
 * The dialect's markup of parsed nodes. Inside another entity (`nested`), code spans become plain text unless
 * the dialect lets code nest (Telegram forbids code inside bold, italic, links and blockquotes).
 */
export function toMarkup(
  nodes: readonly Inline[],
  dialect: Dialect,
  markup: MarkdownMarkup,
  nested = false,
): string {
  const inner = (children: readonly Inline[]): string => toMarkup(children, dialect, markup, true);
  let out = '';
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out += dialect.escape(node.text);
        break;
      case 'code':
        out += nested && !markup.codeNests ? dialect.escape(node.text) : dialect.code(node.text);
        break;
      case 'link':
        out += markup.link(node.url, inner(node.children));
        break;
      case 'strong':
        out += dialect.bold(inner(node.children));
        break;
      case 'em':
        out += dialect.italic(inner(node.children));
        break;
      case 'strike':
        out += markup.strike(inner(node.children));
        break;
    }
  }
  return out;
}

export function toPlain(nodes: readonly Inline[]): string {
  let out = '';
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
      case 'code':
        out += node.text;
        break;
      case 'link':
        out += `${toPlain(node.children)} (${node.url})`;
        break;
      default:
        out += toPlain(node.children);
    }
  }
  return out;
}
