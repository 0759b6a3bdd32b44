// Finds where one top-level key's value sits in the raw bytes of a JSON object, without parsing it, so a
// large value that repeats on every request (the CLI's tools array) can be recognised by a byte comparison.
// Pure. Strict enough to be safe: anything it does not fully understand (escaped key names, a duplicate key,
// a truncated or malformed document) gives `undefined`, and the caller parses the whole body as usual.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export interface ByteRange {
  start: number;
  end: number;
}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function skipSpace(bytes: Uint8Array, at: number): number {
  let i = at;
  while (isSpace(bytes[i])) i++;
  return i;
}

/** `at` is on an opening quote; returns the index just past the closing quote, or -1. */
function skipString(bytes: Buffer, at: number): number {
  let i = at + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, i); // native scan: long strings cost almost nothing
    if (quote === -1) return -1;
    let slashes = 0;
    while (bytes[quote - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

/** `at` is on the first byte of a value; returns the index just past it, or -1. */
function skipValue(bytes: Buffer, at: number): number {
  const first = bytes[at];
  if (first === QUOTE) return skipString(bytes, at);
  if (first === 0x7b || first === 0x5b) {
    let depth = 0;
    let i = at;
    while (i < bytes.length) {
      const byte = bytes[i];
      if (byte === QUOTE) {
        i = skipString(bytes, i);
        if (i === -1) return -1;
        continue;
      }
      if (byte === 0x7b || byte === 0x5b) depth++;
      else if (byte === 0x7d || byte === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  // A number, true, false or null: runs until a delimiter.
  let i = at;
  while (i < bytes.length) {
    const byte = bytes[i];
    if (byte === 0x2c || byte === 0x7d || byte === 0x5d || isSpace(byte)) break;
    i++;
  }
  return i > at ? i : -1;
}

function keyEquals(bytes: Buffer, start: number, end: number, key: Buffer): boolean {
  return end - start === key.length && bytes.compare(key, 0, key.length, start, end) === 0;
}

/** The byte range of the value of top-level `key` (given with its quotes, e.g. `"tools"`), or undefined. */
export function findTopLevelValue(bytes: Buffer, quotedKey: Buffer): ByteRange | undefined {
  let i = skipSpace(bytes, 0);
  if (bytes[i] !== 0x7b) return undefined;
  i = skipSpace(bytes, i + 1);
  let found: ByteRange | undefined;
  if (bytes[i] === 0x7d) return undefined;
  for (;;) {
    if (bytes[i] !== QUOTE) return undefined;
    const keyStart = i;
    i = skipString(bytes, i);
    if (i === -1) return undefined;
    const keyEnd = i;
    // An escaped key may spell `tools` in another way; let JSON.parse decide such bodies.
    const slash = bytes.indexOf(BACKSLASH, keyStart);
    if (slash !== -1 && slash < keyEnd) return undefined;
    i = skipSpace(bytes, i);
    if (bytes[i] !== 0x3a) return undefined;
    i = skipSpace(bytes, i + 1);
    const valueStart = i;
    i = skipValue(bytes, i);
    if (i === -1) return undefined;
    if (keyEquals(bytes, keyStart, keyEnd, quotedKey)) {
      if (found) return undefined; // a duplicate key: JSON.parse keeps the last; do not guess
      found = { start: valueStart, end: i };
    }
    i = skipSpace(bytes, i);
    if (bytes[i] === 0x2c) {
      i = skipSpace(bytes, i + 1);
      continue;
    }
    if (bytes[i] !== 0x7d) return undefined;
    return skipSpace(bytes, i + 1) === bytes.length ? found : undefined;
  }
}
