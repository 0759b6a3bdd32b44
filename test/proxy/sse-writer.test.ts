import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnthropicEvent } from '../../src/proxy/anthropic-types.js';
import { parseAnthropicSse } from '../../src/proxy/index.js';
import { createCoalescingWriter, toSse } from '../../src/proxy/sse-writer.js';

// The hand-assembled delta frames must be exactly what JSON.stringify would say; the coalescing writer must
// send everything, in order, with the first batch of a turn at once.

const SEED = 4_242_001;

describe('toSse', () => {
  it('frames every delta kind with any text exactly as JSON.stringify would (seeded)', () => {
    const delta = fc.oneof(
      fc.string({ unit: 'binary' }).map((text) => ({ type: 'text_delta' as const, text })),
      fc.string({ unit: 'binary' }).map((thinking) => ({ type: 'thinking_delta' as const, thinking })),
      fc
        .string({ unit: 'binary' })
        .map((partial_json) => ({ type: 'input_json_delta' as const, partial_json })),
      fc.string().map((signature) => ({ type: 'signature_delta' as const, signature })),
    );
    fc.assert(
      fc.property(fc.nat(1000), delta, (index, d) => {
        const event: AnthropicEvent = { type: 'content_block_delta', index, delta: d };
        expect(toSse([event])).toBe(`event: content_block_delta\ndata: ${JSON.stringify(event)}\n\n`);
        expect(parseAnthropicSse(toSse([event]))).toEqual([event]);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('coalescing writer', () => {
  it('writes the first batch of a turn at once and joins the rest until the turn ends', () => {
    const writes: string[] = [];
    const turnEnds: Array<() => void> = [];
    let ended = false;
    const sink = {
      write: (text?: string) => writes.push(text ?? ''),
      end: (text?: string) => {
        if (text !== undefined) writes.push(text);
        ended = true;
      },
      destroyed: false,
    };
    const writer = createCoalescingWriter(sink, (run) => turnEnds.push(run));
    const ping: AnthropicEvent = { type: 'ping' };
    const stop: AnthropicEvent = { type: 'message_stop' };
    writer.write([ping]);
    writer.write([stop]);
    writer.write([ping]);
    expect(writes).toEqual([toSse([ping])]);
    turnEnds.shift()?.();
    expect(writes).toEqual([toSse([ping]), toSse([stop, ping])]);
    writer.write([stop]); // a new turn: at once again
    writer.write([ping]);
    writer.end(); // the queued ping goes out with the end
    expect(writes.join('')).toBe(toSse([ping, stop, ping, stop, ping]));
    expect(ended).toBe(true);
  });
});
