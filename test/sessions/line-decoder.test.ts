import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLineDecoder } from '../../sessions/line-decoder.js';

const encode = (text: string) => new TextEncoder().encode(text);

function decodeChunks(chunks: Uint8Array[]): string[] {
  const decoder = createLineDecoder();
  return [...chunks.flatMap((chunk) => decoder.feed(chunk)), ...decoder.flush()];
}

describe('line decoder', () => {
  it('splits LF and CRLF lines and keeps a last line without newline', () => {
    expect(decodeChunks([encode('a\r\nb\n\nc')])).toEqual(['a', 'b', '', 'c']);
  });

  it('joins a line cut across chunks, including between \\r and \\n', () => {
    expect(decodeChunks([encode('{"a":'), encode('1}\r'), encode('\nnext\n')])).toEqual(['{"a":1}', 'next']);
  });

  it('keeps a multi-byte character cut in the middle', () => {
    const bytes = encode('héllo 🎉\n');
    const cut = 2; // inside "é"
    const emoji = bytes.indexOf(0xf0);
    expect(decodeChunks([bytes.slice(0, cut), bytes.slice(cut, emoji + 2), bytes.slice(emoji + 2)])).toEqual([
      'héllo 🎉',
    ]);
  });

  it('drops an over-long line up to its newline, counts it and carries on', () => {
    const decoder = createLineDecoder({ maxLineLength: 8 });
    const out = [
      ...decoder.feed('short\n0123456'),
      ...decoder.feed('789abc and more'),
      ...decoder.feed(' still\nafter\n'),
      ...decoder.flush(),
    ];
    expect(out).toEqual(['short', 'after']);
    expect(decoder.dropped()).toBe(1);
  });

  it('gives the same lines for any split of the bytes (seeded)', () => {
    const seed = 20261123;
    const lineArb = fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, ''));
    fc.assert(
      fc.property(
        fc.array(lineArb, { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 6 }),
        (lines, crlf, cuts) => {
          const bytes = encode(lines.map((line) => `${line}${crlf ? '\r\n' : '\n'}`).join(''));
          const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks: Uint8Array[] = [];
          let from = 0;
          for (const point of points) {
            chunks.push(bytes.slice(from, point));
            from = point;
          }
          chunks.push(bytes.slice(from));
          expect(decodeChunks(chunks)).toEqual(lines);
        },
      ),
      { seed, numRuns: 300 },
    );
  });
});
