import { describe, expect, it } from 'vitest';
import { parseUpstreamChunk } from '../../src/proxy/openai-chunk.js';
import { assertAnthropicStream, reduceMessage } from '../../src/proxy/stream-contract.js';
import { createStreamTranslator } from '../../src/proxy/stream-translator.js';

// Tool-call shapes providers send besides OpenAI's own, from the provider's chunk to the message the CLI gets.

function translate(chunks: object[]) {
  let n = 0;
  const t = createStreamTranslator({
    messageId: 'msg_1',
    model: 'm',
    inputTokens: 5,
    newToolId: () => `toolu_${n++}`,
  });
  const events = [...t.start(), ...chunks.flatMap((chunk) => t.push(parseUpstreamChunk(chunk))), ...t.end()];
  assertAnthropicStream(events);
  return reduceMessage(events);
}

const chunk = (delta: object, finish: string | null = null) => ({
  choices: [{ index: 0, delta, finish_reason: finish }],
});

describe('tool calls in the shapes providers send', () => {
  it('arguments as an object instead of a JSON string', () => {
    const message = translate([
      chunk({
        tool_calls: [{ index: 0, id: 'c1', function: { name: 'Bash', arguments: { command: 'ls -la' } } }],
      }),
      chunk({}, 'tool_calls'),
    ]);
    expect(message.content).toEqual([
      { type: 'tool_use', id: 'c1', name: 'Bash', input: { command: 'ls -la' } },
    ]);
  });

  it('finish_reason "stop" (or none) although calls were made: the CLI is still told to run them', () => {
    for (const finish of ['stop', null]) {
      const message = translate([
        chunk({
          tool_calls: [{ index: 0, id: 'c1', function: { name: 'Read', arguments: '{"file_path":"a"}' } }],
        }),
        ...(finish === null ? [] : [chunk({}, finish)]),
      ]);
      expect(message.stop_reason).toBe('tool_use');
    }
  });

  it('an empty tool_calls array, and text before, between and after calls, lose nothing', () => {
    const message = translate([
      chunk({ content: 'First ', tool_calls: [] }),
      chunk({
        tool_calls: [{ index: 0, id: 'c1', function: { name: 'Read', arguments: '{"file_path":"a"}' } }],
      }),
      chunk({ content: 'then ' }),
      chunk({
        tool_calls: [{ index: 1, id: 'c2', function: { name: 'Read', arguments: '{"file_path":"b"}' } }],
      }),
      chunk({ content: 'done.' }, 'tool_calls'),
    ]);
    const text = message.content
      .filter((b) => b.type === 'text')
      .map((b) => ('text' in b ? b.text : ''))
      .join('');
    expect(text).toBe('First then done.');
    expect(
      message.content.filter((b) => b.type === 'tool_use').map((b) => ('input' in b ? b.input : null)),
    ).toEqual([{ file_path: 'a' }, { file_path: 'b' }]);
  });

  it('argument JSON cut inside a string escape or a multi-byte character still arrives whole', () => {
    const args = JSON.stringify({ content: 'é "quoted" \\ 漢字 🙂' });
    const cuts = [...args.matchAll(/\\|é|漢|🙂/g)].map((match) => (match.index ?? 0) + 1);
    const parts: string[] = [];
    let from = 0;
    for (const cut of cuts) {
      parts.push(args.slice(from, cut));
      from = cut;
    }
    parts.push(args.slice(from));
    const message = translate([
      chunk({ tool_calls: [{ index: 0, id: 'c1', function: { name: 'Write', arguments: '' } }] }),
      ...parts.map((part) => chunk({ tool_calls: [{ index: 0, function: { arguments: part } }] })),
      chunk({}, 'tool_calls'),
    ]);
    expect(message.content[0]).toMatchObject({ input: { content: 'é "quoted" \\ 漢字 🙂' } });
  });
});
