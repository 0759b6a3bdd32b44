// Code-point-safe truncation: never leaves half of a surrogate pair (an emoji) behind.

const isHigh = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLow = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/** At most `max` code units: the start of `text`, with `…` when cut. */
export function headOf(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max < 1) return '';
  let cut = max - 1;
  if (cut > 0 && isHigh(text.charCodeAt(cut - 1))) cut--;
  return `${text.slice(0, cut)}…`;
}

/** At most `max` code units: the end of `text`, with `…` when cut. */
export function tailOf(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max < 1) return '';
  let start = text.length - (max - 1);
  if (start < text.length && isLow(text.charCodeAt(start))) start++;
  return `…${text.slice(start)}`;
}

/** Collapses runs of whitespace (including newlines) into single spaces, for one-line previews. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Lone UTF-16 surrogates (odd chat input, a cut emoji) become U+FFFD: same length, always valid text. */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

export function wellFormedParts<T extends { formatted: string; plain: string }>(part: T): T {
  return { ...part, formatted: wellFormed(part.formatted), plain: wellFormed(part.plain) };
}
