// The subset of Telegram's HTML parse mode the fake enforces: known tags only, properly nested, and `<` only
// as a tag. Returns the visible text (what the 4096-character limit counts) or the error Telegram would give.

const ALLOWED_TAGS = new Set([
  'b',
  'strong',
  'i',
  'em',
  'u',
  'ins',
  's',
  'strike',
  'del',
  'span',
  'tg-spoiler',
  'a',
  'code',
  'pre',
  'blockquote',
  'tg-emoji',
]);

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

export type HtmlParse = { ok: true; visible: string } | { ok: false; error: string };

export function parseTelegramHtml(text: string): HtmlParse {
  const stack: string[] = [];
  let visible = '';
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    if (char === '<') {
      const match = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^>]*)?)>/.exec(text.slice(index));
      if (!match) {
        return { ok: false, error: `Unsupported start tag "" at byte offset ${index}` };
      }
      const [whole, slash, rawName] = match;
      const name = rawName!.toLowerCase();
      if (!ALLOWED_TAGS.has(name)) {
        return { ok: false, error: `Unsupported start tag "${name}" at byte offset ${index}` };
      }
      if (slash) {
        const open = stack.pop();
        if (open !== name) {
          return {
            ok: false,
            error: `Can't find end tag corresponding to start tag "${open ?? name}"`,
          };
        }
      } else {
        stack.push(name);
      }
      index += whole!.length;
      continue;
    }
    if (char === '&') {
      const match = /^&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/.exec(text.slice(index));
      if (match) {
        const body = match[1]!;
        const decoded = body.startsWith('#x')
          ? String.fromCodePoint(Number.parseInt(body.slice(2), 16))
          : body.startsWith('#')
            ? String.fromCodePoint(Number.parseInt(body.slice(1), 10))
            : ENTITIES[body];
        if (decoded !== undefined) {
          visible += decoded;
          index += match[0].length;
          continue;
        }
      }
    }
    visible += char;
    index += 1;
  }
  const open = stack.pop();
  if (open !== undefined) {
    return { ok: false, error: `Can't find end tag corresponding to start tag "${open}"` };
  }
  return { ok: true, visible };
}
