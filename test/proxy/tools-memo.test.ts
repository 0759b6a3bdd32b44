import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../src/providers.js';
import { isRecord } from '../../src/proxy/anthropic-types.js';
import { findTopLevelValue } from '../../src/proxy/json-scan.js';
import { toOpenAiRequest } from '../../src/proxy/request-to-openai.js';
import { createToolsMemo } from '../../src/proxy/tools-memo.js';
import { REFERENCE_DIR } from '../shared-dir.js';

// The tools memo must be invisible: whatever the body, parseBody gives what JSON.parse gives, and a body built
// with memoised tools serialises to the same JSON as without.

const REFERENCE = REFERENCE_DIR;
const SEED = 20_261_123;
const TOOLS = Buffer.from('"tools"');

function recordedBody(file: string): Buffer {
  const value: unknown = JSON.parse(readFileSync(resolve(REFERENCE, file), 'utf8'));
  if (!isRecord(value) || !isRecord(value.body)) throw new Error(`${file} has no body`);
  return Buffer.from(JSON.stringify(value.body));
}

describe('findTopLevelValue', () => {
  it('finds the top-level value, not a nested key of the same name', () => {
    const raw = Buffer.from('{"a":{"tools":1}, "tools" : [1,"]\\"",{"x":[]}] ,"b":null}');
    const range = findTopLevelValue(raw, TOOLS);
    expect(range && raw.toString('utf8', range.start, range.end)).toBe('[1,"]\\"",{"x":[]}]');
  });

  it.each([
    ['a duplicate key', '{"tools":[1],"tools":[2]}'],
    ['an escaped key', '{"tool\\u0073":[1]}'],
    ['trailing garbage', '{"tools":[1]} x'],
    ['a truncated body', '{"tools":[1,2'],
    ['no object', '[{"tools":[1]}]'],
  ])('gives up on %s', (_name, text) => {
    expect(findTopLevelValue(Buffer.from(text), TOOLS)).toBeUndefined();
  });
});

describe('tools memo', () => {
  it('reuses the parsed tools of a recorded CLI request and answers exactly like JSON.parse', () => {
    const memo = createToolsMemo();
    const raw = recordedBody('claude-cli-2.1.330/full/main-turn-print-mode-authtoken.json');
    const first = memo.parseBody(raw);
    const second = memo.parseBody(Buffer.from(raw));
    expect(second).toEqual(JSON.parse(raw.toString()));
    expect(memo.stats).toEqual({ hits: 1, misses: 1 });
    expect(isRecord(first) && isRecord(second) && first.tools === second.tools).toBe(true);
  });

  it('notices a one-byte change in the tools and parses again', () => {
    const memo = createToolsMemo();
    const long = 'd'.repeat(600);
    memo.parseBody(Buffer.from(`{"model":"m","tools":[{"name":"Read","description":"a${long}"}]}`));
    const changed = memo.parseBody(
      Buffer.from(`{"model":"m","tools":[{"name":"Read","description":"b${long}"}]}`),
    );
    expect(changed).toEqual({ model: 'm', tools: [{ name: 'Read', description: `b${long}` }] });
    expect(memo.stats).toEqual({ hits: 0, misses: 2 });
  });

  it('is not fooled by the same array nested elsewhere or shadowed by a later duplicate key', () => {
    const memo = createToolsMemo();
    const tools = JSON.stringify([{ name: 'Big', description: 'x'.repeat(600) }]);
    memo.parseBody(Buffer.from(`{"tools":${tools}}`));
    for (const text of [
      `{"messages":[{"input":{"tools":${tools}}}],"tools":[]}`,
      `{"tools":${tools},"tools":"later wins"}`,
      `{"note":"${tools.replaceAll('"', '\\"')}","tools":null}`,
    ]) {
      expect(memo.parseBody(Buffer.from(text))).toEqual(JSON.parse(text));
    }
    expect(memo.stats.hits).toBe(0);
  });

  it('serialises a converted request with memoised tools to the same JSON as plain conversion', () => {
    const memo = createToolsMemo();
    for (const file of [
      'claude-cli-2.1.197/full/main-turn-print-mode-authtoken.json',
      'claude-cli-2.1.330/full/main-turn-with-tool_result.json',
    ]) {
      const raw = recordedBody(file);
      for (const provider of [PROVIDERS.nvidia_nim, PROVIDERS.lmstudio]) {
        const plain = toOpenAiRequest(JSON.parse(raw.toString()), {
          provider,
          model: 'm',
          stream: true,
        }).body;
        for (let turn = 0; turn < 2; turn++) {
          const parsed = memo.parseBody(raw);
          if (!isRecord(parsed)) throw new Error('not an object');
          const target = { provider, model: 'm', stream: true, convertTools: memo.convertTools };
          const out = memo.serialize(toOpenAiRequest(parsed, target).body);
          expect(JSON.parse(Buffer.concat(out).toString())).toEqual(plain);
        }
      }
    }
  });

  it('agrees with JSON.parse on arbitrary and mutated bodies, seen once or twice', () => {
    const memo = createToolsMemo({ maxArrays: 2 });
    // A large tools array (so the memo engages) appears as the tools, nested elsewhere, or not at all.
    const big = [{ name: 'Big', description: 'x'.repeat(600), input_schema: { type: 'object' } }];
    const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(big), fc.constant({ tools: big }));
    const body = fc.dictionary(fc.oneof(fc.constant('tools'), fc.string()), value);
    fc.assert(
      fc.property(body, fc.nat(), fc.string({ maxLength: 3 }), (value, at, insert) => {
        const text = JSON.stringify(value);
        const cut = at % (text.length + 1);
        for (const candidate of [text, text, text.slice(0, cut) + insert + text.slice(cut)]) {
          let expected: unknown;
          try {
            expected = JSON.parse(candidate);
          } catch {
            expect(() => memo.parseBody(Buffer.from(candidate))).toThrow(SyntaxError);
            continue;
          }
          expect(memo.parseBody(Buffer.from(candidate))).toEqual(expected);
        }
      }),
      { seed: SEED, numRuns: 2000 },
    );
    expect(memo.stats.hits).toBeGreaterThan(100); // the memo really was exercised
  });
});
