import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createControlTokenFilter } from '../../src/proxy/control-tokens.js';
import type { UpstreamDelta } from '../../src/proxy/openai-chunk.js';
import { createSseDecoder } from '../../src/proxy/sse-decoder.js';
import { assertAnthropicStream, reduceMessage } from '../../src/proxy/stream-contract.js';
import { createStreamTranslator } from '../../src/proxy/stream-translator.js';
import { createTextToolParser, type TextToolCall } from '../../src/proxy/text-tool-parser.js';
import { createThinkParser, type ThinkPiece } from '../../src/proxy/think-parser.js';

// Streaming parsers must give the same result for every way the input can be cut into chunks.
const SEED = 20261123;
console.log(`fast-check seed ${SEED}`);

function splits(text: string): fc.Arbitrary<string[]> {
  return fc
    .uniqueArray(fc.integer({ min: 1, max: Math.max(1, text.length - 1) }), { maxLength: 8 })
    .map((cuts) => {
      const sorted = [...cuts].filter((c) => c < text.length).sort((a, b) => a - b);
      const parts: string[] = [];
      let last = 0;
      for (const cut of sorted) {
        parts.push(text.slice(last, cut));
        last = cut;
      }
      parts.push(text.slice(last));
      return parts;
    });
}

/** Asserts `parse` gives `expected` for the whole input and for every seeded way of cutting it into chunks. */
function expectSameForEverySplit<T>(input: string, parse: (parts: string[]) => T, expected: T): void {
  expect(parse([input])).toEqual(expected);
  fc.assert(
    fc.property(splits(input), (parts) => {
      expect(parse(parts)).toEqual(expected);
    }),
    { seed: SEED, numRuns: 300 },
  );
}

function decodeSse(parts: string[]): Array<{ event: string | undefined; data: string }> {
  const out: Array<{ event: string | undefined; data: string }> = [];
  const decoder = createSseDecoder({ onMessage: (m) => out.push(m) });
  for (const part of parts) decoder.feed(part);
  decoder.flush();
  return out;
}

function think(parts: string[]): ThinkPiece[] {
  const parser = createThinkParser();
  const pieces = [...parts.flatMap((p) => parser.feed(p)), ...parser.flush()];
  const merged: ThinkPiece[] = [];
  for (const piece of pieces) {
    const last = merged.at(-1);
    if (last?.kind === piece.kind) last.text += piece.text;
    else merged.push({ ...piece });
  }
  return merged;
}

function textTools(parts: string[]): { text: string; tools: TextToolCall[] } {
  const parser = createTextToolParser();
  const results = [...parts.map((p) => parser.feed(p)), parser.flush()];
  return { text: results.map((r) => r.text).join(''), tools: results.flatMap((r) => r.tools) };
}

describe('think-tag parser', () => {
  const cases: Array<[string, ThinkPiece[]]> = [
    [
      'Hello <think>r</think> world',
      [
        { kind: 'text', text: 'Hello ' },
        { kind: 'thinking', text: 'r' },
        { kind: 'text', text: ' world' },
      ],
    ],
    [
      '<think>plan</think>Hi',
      [
        { kind: 'thinking', text: 'plan' },
        { kind: 'text', text: 'Hi' },
      ],
    ],
    ['a</think>b</think>c', [{ kind: 'text', text: 'abc' }]], // orphan closers dropped
    ['<think>never closed', [{ kind: 'thinking', text: 'never closed' }]],
    ['1 < 2 and <b>bold</b> <thin', [{ kind: 'text', text: '1 < 2 and <b>bold</b> <thin' }]],
  ];
  it.each(cases)('%j gives the same pieces for every chunk split', (input, expected) => {
    expectSameForEverySplit(input, think, expected);
  });

  it('every single cut position of a tagged text', () => {
    const input = 'pre<think>deep thought</think>post';
    for (let i = 0; i <= input.length; i++) {
      expect(think([input.slice(0, i), input.slice(i)])).toEqual(think([input]));
    }
  });
});

describe('control-token filter', () => {
  const strip = (parts: string[]): string => {
    const filter = createControlTokenFilter();
    return parts.map((part) => filter.feed(part)).join('') + filter.flush();
  };

  it('removes template tokens wherever the chunks are cut, and keeps everything else', () => {
    expectSameForEverySplit(
      'Done.<|im_end|> a < b, x<|y and <|tool_call_end|>|> kept; <|channel|>final<|message|>ok <| not one',
      strip,
      'Done. a < b, x<|y and |> kept; finalok <| not one',
    );
  });

  it('a tail that never becomes a token is released at the end, not lost', () => {
    expectSameForEverySplit('answer <|im_e', strip, 'answer <|im_e');
    expectSameForEverySplit('a <', strip, 'a <');
  });

  it('leaves code alone: an inline span or a fenced block keeps every token, however it is cut', () => {
    const text =
      'Use `<|im_start|>user` then `<|im_end|>`.<|im_end|>\n```python\nEOS = "<|endoftext|>"\n```\nDone.<|eot_id|>';
    expectSameForEverySplit(
      text,
      strip,
      'Use `<|im_start|>user` then `<|im_end|>`.\n```python\nEOS = "<|endoftext|>"\n```\nDone.',
    );
  });

  it('a file a model writes through a printed tool call keeps its tokens', () => {
    const t = createStreamTranslator({ messageId: 'm', model: 'm', inputTokens: 1, newToolId: () => 'x' });
    const printed =
      '<function=Write>\n<parameter=file_path>\nt.py\n</parameter>\n<parameter=content>\nEOS = "<|endoftext|>"\n</parameter>\n</function>';
    const events = [
      ...t.start(),
      ...(printed.match(/.{1,7}/gs) ?? []).flatMap((content) =>
        t.push({ reasoning: '', content, toolCalls: [] }),
      ),
      ...t.end(),
    ];
    assertAnthropicStream(events);
    const tool = reduceMessage(events).content.find((block) => block.type === 'tool_use');
    expect(tool).toMatchObject({
      name: 'Write',
      input: { file_path: 't.py', content: 'EOS = "<|endoftext|>"' },
    });
  });

  it('a tail of thinking held back goes out before the answer, not after it', () => {
    const t = createStreamTranslator({ messageId: 'm', model: 'm', inputTokens: 1, newToolId: () => 'x' });
    const events = [
      ...t.start(),
      ...t.push({ reasoning: 'think more <', content: '', toolCalls: [] }),
      ...t.push({ reasoning: '', content: 'Answer.', toolCalls: [] }),
      ...t.end(),
    ];
    assertAnthropicStream(events);
    expect(reduceMessage(events).content).toEqual([
      { type: 'thinking', thinking: 'think more <', signature: expect.any(String) },
      { type: 'text', text: 'Answer.' },
    ]);
  });

  it('the translator strips them from text and thinking alike', () => {
    const t = createStreamTranslator({ messageId: 'm', model: 'm', inputTokens: 1, newToolId: () => 'x' });
    const events = [
      ...t.start(),
      ...t.push({ reasoning: 'plan<|end', content: '', toolCalls: [] }),
      ...t.push({ reasoning: '|>', content: 'Hi<|im_', toolCalls: [] }),
      ...t.push({ reasoning: '', content: 'end|>', toolCalls: [] }),
      ...t.end(),
    ];
    assertAnthropicStream(events);
    expect(reduceMessage(events).content).toEqual([
      { type: 'thinking', thinking: 'plan', signature: expect.any(String) },
      { type: 'text', text: 'Hi' },
    ]);
  });
});

describe('text tool-call parser', () => {
  const write = { name: 'Write', input: { file_path: 'a.txt', content: 'x > y\nz' } };
  const cases: Array<[string, { text: string; tools: TextToolCall[] }]> = [
    [
      'Sure.\n<function=Write><parameter=file_path>a.txt</parameter><parameter=content>x > y\nz</parameter></function>',
      { text: 'Sure.\n', tools: [write] },
    ],
    [
      'I will ● <function=Write><parameter=file_path>a.txt</parameter><parameter=content>x > y\nz</parameter> done',
      { text: 'I will done', tools: [write] },
    ],
    [
      '<tool_call>{"name":"Read","arguments":{"file_path":"/a"}}</tool_call>',
      { text: '', tools: [{ name: 'Read', input: { file_path: '/a' } }] },
    ],
    [
      '<tool_call>\n<function=Read>\n<parameter=file_path>\n/a\n</parameter>\n</function>\n</tool_call>',
      { text: '', tools: [{ name: 'Read', input: { file_path: '/a' } }] },
    ],
    ['Use <function=name> syntax in prose.', { text: 'Use <function=name> syntax in prose.', tools: [] }],
    ['<tool_call>not json</tool_call> ok', { text: '<tool_call>not json</tool_call> ok', tools: [] }],
    ['Items:\n● one\n● two', { text: 'Items:\n● one\n● two', tools: [] }],
  ];
  it.each(cases)('%j gives the same result for every chunk split', (input, expected) => {
    expectSameForEverySplit(input, textTools, expected);
  });
});

describe('SSE decoder', () => {
  it('decodes the same messages for any split, with LF, CRLF and CR endings', () => {
    for (const eol of ['\n', '\r\n', '\r']) {
      const input = `data: {"a":1}${eol}${eol}: keep-alive${eol}event: x${eol}data: two${eol}data: lines${eol}${eol}data: [DONE]${eol}${eol}`;
      const expected = [
        { event: undefined, data: '{"a":1}' },
        { event: 'x', data: 'two\nlines' },
        { event: undefined, data: '[DONE]' },
      ];
      expectSameForEverySplit(input, decodeSse, expected);
    }
  });

  it('decodes mixed line endings in one stream the same for any split (CR LF, lone CR, LF CR)', () => {
    const input = 'data: a\r\n\r\ndata: b\r\rdata: c\n\ndata: d\r\n\ndata: e\n\revent: f\rdata: g\r\n\r';
    const expected: Array<{ event: string | undefined; data: string }> = ['a', 'b', 'c', 'd', 'e'].map(
      (data) => ({ event: undefined, data }),
    );
    expected.push({ event: 'f', data: 'g' });
    expectSameForEverySplit(input, decodeSse, expected);
  });
});

describe('stream translator', () => {
  it('produces a contract-valid stream and the same message for any split of mixed content', () => {
    const content =
      'Hi <think>hmm</think>there <tool_call>{"name":"Agent","arguments":{"prompt":"go","run_in_background":true}}</tool_call>';
    fc.assert(
      fc.property(splits(content), (parts) => {
        let n = 0;
        const t = createStreamTranslator({
          messageId: 'msg_1',
          model: 'm',
          inputTokens: 5,
          newToolId: () => `toolu_${n++}`,
        });
        const events = [
          ...t.start(),
          ...parts.flatMap((c) => t.push({ reasoning: '', content: c, toolCalls: [] })),
          ...t.end(),
        ];
        assertAnthropicStream(events);
        const message = reduceMessage(events);
        expect(message.content.map((b) => b.type)).toEqual(['text', 'thinking', 'text', 'tool_use']);
        expect(message.content[3]).toMatchObject({
          name: 'Agent',
          input: { prompt: 'go', run_in_background: false },
        });
        expect(message.stop_reason).toBe('tool_use');
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('streams parallel native tool calls as separate blocks with their fragments', () => {
    const t = createStreamTranslator({
      messageId: 'msg_1',
      model: 'm',
      inputTokens: 5,
      newToolId: () => 'x',
    });
    const call = (index: number, id: string | undefined, name: string | undefined, args: string) => ({
      reasoning: '',
      content: '',
      toolCalls: [{ index, indexed: true, ...(id ? { id } : {}), ...(name ? { name } : {}), args }],
    });
    const events = [
      ...t.start(),
      ...t.push({ reasoning: 'plan', content: '', toolCalls: [] }),
      ...t.push(call(0, 'c0', 'Read', '{"file_')),
      ...t.push(call(0, undefined, undefined, 'path":"/a"}')),
      ...t.push(call(1, 'c1', 'Bash', '{"command":"ls"}')),
      ...t.push({
        reasoning: '',
        content: '',
        toolCalls: [],
        finishReason: 'tool_calls',
        usage: { prompt: 9, completion: 3 },
      }),
      ...t.end(),
    ];
    assertAnthropicStream(events);
    const message = reduceMessage(events);
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'plan', signature: expect.any(String) },
      { type: 'tool_use', id: 'c0', name: 'Read', input: { file_path: '/a' } },
      { type: 'tool_use', id: 'c1', name: 'Bash', input: { command: 'ls' } },
    ]);
    expect(message.usage).toEqual({ input_tokens: 9, output_tokens: 3 });
  });

  it('parallel tool calls whose fragments interleave in any order each arrive whole, none dropped', () => {
    const calls = [
      { id: 'c0', name: 'Write', input: { file_path: 'a.txt', content: 'first "quoted" ü' } },
      { id: 'c1', name: 'Bash', input: { command: 'ls -la && echo done' } },
      { id: 'c2', name: 'Read', input: { file_path: '/tmp/x' } },
    ];
    const fragmentsOf = (json: string, cuts: number[]): string[] => {
      const sorted = [...new Set(cuts.map((cut) => cut % json.length))]
        .filter((c) => c > 0)
        .sort((a, b) => a - b);
      return [0, ...sorted].map((from, i) => json.slice(from, sorted[i] ?? json.length));
    };
    const pushes = fc.record({
      cuts: fc.array(fc.array(fc.nat(), { maxLength: 5 }), { minLength: 3, maxLength: 3 }),
      order: fc.array(fc.nat({ max: 2 }), { minLength: 40, maxLength: 40 }),
      textAt: fc.option(fc.nat({ max: 20 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(pushes, ({ cuts, order, textAt }) => {
        const queues = calls.map((call, i) => fragmentsOf(JSON.stringify(call.input), cuts[i] ?? []));
        // Every call opens (id and name, no arguments) in order; then fragments come in the drawn order.
        const deltas: UpstreamDelta[] = calls.map((call, index) => ({
          reasoning: '',
          content: '',
          toolCalls: [{ index, indexed: true, id: call.id, name: call.name, args: '' }],
        }));
        for (const pick of [...order, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]) {
          const args = queues[pick]?.shift();
          if (args !== undefined)
            deltas.push({ reasoning: '', content: '', toolCalls: [{ index: pick, indexed: true, args }] });
        }
        for (const [index, queue] of queues.entries())
          for (const args of queue)
            deltas.push({ reasoning: '', content: '', toolCalls: [{ index, indexed: true, args }] });
        if (textAt !== undefined)
          deltas.splice(Math.min(textAt, deltas.length), 0, {
            reasoning: '',
            content: 'Now.',
            toolCalls: [],
          });
        let n = 0;
        const t = createStreamTranslator({
          messageId: 'm',
          model: 'm',
          inputTokens: 1,
          newToolId: () => `t${n++}`,
        });
        const events = [...t.start(), ...deltas.flatMap((delta) => t.push(delta)), ...t.end()];
        assertAnthropicStream(events);
        const message = reduceMessage(events);
        const tools = message.content.filter((block) => block.type === 'tool_use');
        expect(tools).toEqual(calls.map((call) => ({ type: 'tool_use', ...call })));
        expect(message.content.filter((block) => block.type === 'text').map((block) => block.text)).toEqual(
          textAt === undefined ? [] : ['Now.'],
        );
        expect(message.stop_reason).toBe('tool_use');
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('tool calls sent without an index (each numbered 0) stay apart by their ids', () => {
    const t = createStreamTranslator({ messageId: 'm', model: 'm', inputTokens: 1, newToolId: () => 'x' });
    const call = (id: string | undefined, name: string | undefined, args: string): UpstreamDelta => ({
      reasoning: '',
      content: '',
      toolCalls: [{ index: 0, indexed: false, ...(id ? { id } : {}), ...(name ? { name } : {}), args }],
    });
    const events = [
      ...t.start(),
      ...t.push(call('a', 'Read', '{"file_path":')),
      ...t.push(call(undefined, undefined, '"/a"}')),
      ...t.push(call('b', 'Read', '{"file_path":"/b"}')),
      ...t.end(),
    ];
    assertAnthropicStream(events);
    expect(reduceMessage(events).content).toEqual([
      { type: 'tool_use', id: 'a', name: 'Read', input: { file_path: '/a' } },
      { type: 'tool_use', id: 'b', name: 'Read', input: { file_path: '/b' } },
    ]);
  });

  it('a call whose id changes between its fragments (Poolside, vLLM gpt-oss) stays one call under its index', () => {
    const t = createStreamTranslator({ messageId: 'm', model: 'm', inputTokens: 1, newToolId: () => 'x' });
    const frag = (id: string, args: string, name?: string): UpstreamDelta => ({
      reasoning: '',
      content: '',
      toolCalls: [{ index: 0, indexed: true, id, ...(name ? { name } : {}), args }],
    });
    const events = [
      ...t.start(),
      ...t.push(frag('A', '', 'Write')),
      ...t.push(frag('B', '{"file_path":"a.txt",')),
      ...t.push(frag('C', '"content":"hi"}')),
      ...t.end(),
    ];
    assertAnthropicStream(events);
    expect(reduceMessage(events).content).toEqual([
      { type: 'tool_use', id: 'A', name: 'Write', input: { file_path: 'a.txt', content: 'hi' } },
    ]);
  });

  it('index-less calls that interleave and repeat their ids are told apart by id, each once', () => {
    const t = createStreamTranslator({ messageId: 'm', model: 'm', inputTokens: 1, newToolId: () => 'x' });
    const frag = (id: string, args: string, name?: string): UpstreamDelta => ({
      reasoning: '',
      content: '',
      toolCalls: [{ index: 0, indexed: false, id, ...(name ? { name } : {}), args }],
    });
    const events = [
      ...t.start(),
      ...t.push(frag('a', '{"file_path":', 'Read')),
      ...t.push(frag('b', '{"pattern":', 'Glob')),
      ...t.push(frag('a', '"/a"}')),
      ...t.push(frag('b', '"*.ts"}')),
      ...t.end(),
    ];
    assertAnthropicStream(events);
    expect(reduceMessage(events).content).toEqual([
      { type: 'tool_use', id: 'a', name: 'Read', input: { file_path: '/a' } },
      { type: 'tool_use', id: 'b', name: 'Glob', input: { pattern: '*.ts' } },
    ]);
  });

  it('the contract checker rejects a delta before its block and a missing message_stop', () => {
    expect(() =>
      assertAnthropicStream([
        {
          type: 'message_start',
          message: {
            id: 'm',
            type: 'message',
            role: 'assistant',
            content: [],
            model: 'x',
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: 1, output_tokens: 1 },
          },
        },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'x' } },
      ]),
    ).toThrow(/not open/);
    expect(() => assertAnthropicStream([])).toThrow(/message_stop/);
  });
});
