import { describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../src/providers.js';
import { nineCharToolId, toOpenAiRequest } from '../../src/proxy/request-to-openai.js';

describe('tool-call ids for models that take only nine letters or digits (Mistral)', () => {
  it('maps an id to nine letters or digits, the same every time; keeps one already in that form', () => {
    expect(nineCharToolId('toolu_01ABCdef')).toMatch(/^[A-Za-z0-9]{9}$/);
    expect(nineCharToolId('toolu_01ABCdef')).toBe(nineCharToolId('toolu_01ABCdef'));
    expect(nineCharToolId('toolu_01ABCdeg')).not.toBe(nineCharToolId('toolu_01ABCdef'));
    expect(nineCharToolId('aB3dE6gH9')).toBe('aB3dE6gH9');
  });

  it('maps the call and its result alike for a Mistral model, and leaves other models alone', () => {
    const request = {
      model: 'claude-sonnet',
      messages: [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'a.txt' }] },
      ],
    };
    const idsFor = (model: string) => {
      const body = toOpenAiRequest(request, { provider: PROVIDERS.openai, model, stream: true }).body;
      const messages = body.messages as Array<{ tool_calls?: Array<{ id: string }>; tool_call_id?: string }>;
      return [messages[1]?.tool_calls?.[0]?.id, messages[2]?.tool_call_id];
    };
    const mapped = nineCharToolId('toolu_1');
    expect(idsFor('mistral-large-2411')).toEqual([mapped, mapped]);
    expect(idsFor('codestral-latest')).toEqual([mapped, mapped]);
    expect(idsFor('qwen3-coder')).toEqual(['toolu_1', 'toolu_1']);
  });
});
